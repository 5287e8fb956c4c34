//! The Graph API as the WhatsApp Cloud API serves it:
//! `{api_base}/{version}/{object}/{edge}` with the access token as a bearer
//! token (named; the host fills it in), and Graph's error object
//! `{"error": {"message", "type", "code", "error_subcode", "error_data":
//! {"details"}, "fbtrace_id"}}`.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes>

use patchbay_sdk::client::Client;
use patchbay_sdk::config;
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use serde::Deserialize;

/// The Graph API at the configured version.
pub fn client() -> Result<Client> {
    let version = config::get("api_version")?
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "v24.0".into());
    let version = version.trim();
    let valid =
        version.len() > 1 && version.starts_with('v') && version[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !valid {
        return Err(Error::Config(format!(
            "api_version {version:?} is not a Graph API version (vNN.N)"
        )));
    }
    Ok(Client::from_setting_or("api_base", "https://graph.facebook.com")?
        .path(version)
        .bearer_auth("access_token")
        .errors(graph_error))
}

#[derive(Deserialize)]
struct Envelope {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_data: Option<serde_json::Value>,
    #[serde(default)]
    fbtrace_id: Option<String>,
}

/// Graph's error object → the connector error, by its code: 190 (and 10,
/// 200-299: permissions) the token's; 4, 80007, 130429, 131048 and 131056
/// throttling; 131047 (more than 24 hours since the customer wrote: a
/// template is needed), 131026 (undeliverable) and 131031 (account locked)
/// permanent; 100 and the template and parameter codes the request's
/// (`validation`); 1, 2, 131000 and 131016 Meta's own trouble.
fn graph_error(response: &Response) -> Option<Error> {
    let Envelope { error } = response.json().ok()?;
    let mut message = if error.message.is_empty() {
        format!("HTTP {}", response.status)
    } else {
        error.message
    };
    if let Some(details) = error
        .error_data
        .as_ref()
        .and_then(|d| d.get("details"))
        .and_then(|d| d.as_str())
    {
        message = format!("{message}: {details}");
    }
    message = format!("{message} (code {}", error.code);
    if let Some(trace) = error.fbtrace_id {
        message.push_str(&format!(", fbtrace {trace}"));
    }
    message.push(')');
    Some(match error.code {
        190 | 10 | 200..=299 => Error::Auth(message),
        4 | 80007 | 130429 | 131048 | 131056 => Error::RateLimited(response.retry_after()),
        131047 | 131026 | 131031 | 368 => Error::permanent(message),
        100 | 131008 | 131009 | 131051 | 132000..=132069 | 133010 | 135000 => Error::Validation(message),
        1 | 2 | 131000 | 131016 => Error::provider(message),
        _ => Error::from_status(response.status, message, response.retry_after()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: serde_json::Value) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn graph_errors_map_by_code() {
        let token = graph_error(&response(
            401,
            serde_json::json!({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "fbtrace_id": "AbC"}}),
        ));
        assert!(
            matches!(&token, Some(Error::Auth(m)) if m.contains("code 190, fbtrace AbC")),
            "{token:?}"
        );
        let window = graph_error(&response(
            400,
            serde_json::json!({"error": {"message": "Re-engagement message", "code": 131047, "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}}),
        ));
        assert!(
            matches!(&window, Some(Error::Permanent(f)) if f.message.contains("24 hours")),
            "{window:?}"
        );
        let template = graph_error(&response(
            404,
            serde_json::json!({"error": {"message": "Template name does not exist in the translation", "code": 132001}}),
        ));
        assert!(matches!(template, Some(Error::Validation(_))));
        let slow = graph_error(&response(
            400,
            serde_json::json!({"error": {"message": "Rate limit hit", "code": 130429}}),
        ));
        assert!(matches!(slow, Some(Error::RateLimited(_))));
        let down = graph_error(&response(
            500,
            serde_json::json!({"error": {"message": "Service unavailable", "code": 131016}}),
        ));
        assert!(matches!(down, Some(Error::Provider(_))));
    }
}
