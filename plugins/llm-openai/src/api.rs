//! OpenAI's REST API: `{api_base}/…` with the key as a bearer token, and its
//! error object `{"error": {"message", "type", "param", "code"}}`.
//! <https://platform.openai.com/docs/api-reference>

use patchbay_sdk::client::Client;
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use serde::Deserialize;

/// The API of the connection: OpenAI's, or a compatible one.
pub fn client() -> Result<Client> {
    let mut client = Client::from_setting_or("api_base", "https://api.openai.com/v1")?
        .bearer_auth("api_key")
        .errors(openai_error);
    if let Some(organization) = config::get("organization")?.filter(|o| !o.trim().is_empty()) {
        client = client.header("OpenAI-Organization", organization.trim());
    }
    if let Some(project) = config::get("project")?.filter(|p| !p.trim().is_empty()) {
        client = client.header("OpenAI-Project", project.trim());
    }
    Ok(client)
}

#[derive(Deserialize)]
struct Body {
    error: Detail,
}

/// OpenAI's error object (also sent inside a stream).
#[derive(Deserialize, Debug, Default)]
pub struct Detail {
    #[serde(default)]
    message: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    param: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl Detail {
    fn code(&self) -> &str {
        self.code.as_ref().and_then(|c| c.as_str()).unwrap_or_default()
    }

    fn text(&self, status: Option<u16>) -> String {
        let mut text = match status {
            Some(status) => format!("HTTP {status}: {}", self.message),
            None => self.message.clone(),
        };
        if let Some(param) = self.param.as_deref().filter(|p| !p.is_empty()) {
            text.push_str(&format!(" (param {param})"));
        }
        text
    }

    /// The connector error this error object means; `status` when it came
    /// with an HTTP status rather than inside a stream.
    pub fn error(&self, status: Option<u16>, retry_after: Option<u32>) -> Error {
        let message = self.text(status);
        let kind = self.kind.as_deref().unwrap_or_default();
        match (status, kind, self.code()) {
            // Out of credit: waiting does not help.
            (_, _, "insufficient_quota") | (_, "insufficient_quota", _) => {
                Error::Permanent(ProviderFailure { status, message })
            }
            (_, _, "invalid_api_key") | (Some(401), _, _) | (_, "authentication_error", _) => Error::Auth(message),
            (_, _, "model_not_found") | (Some(404), _, _) => Error::NotFound(message),
            (_, _, "context_length_exceeded") | (Some(400 | 413 | 422), _, _) | (_, "invalid_request_error", _) => {
                Error::Validation(message)
            }
            (Some(429), _, _) | (_, _, "rate_limit_exceeded") => Error::RateLimited(retry_after),
            (Some(status), _, _) => Error::from_status(status, message, retry_after),
            (None, _, _) => Error::provider(message),
        }
    }
}

/// OpenAI's refusal → the connector error: 401 → `auth`; 404 (an unknown
/// model) → `not-found`; 400 (`invalid_request_error`,
/// `context_length_exceeded`) → `validation` naming the parameter; 429 →
/// `rate-limited`, but `insufficient_quota` (no credit left) → `permanent`;
/// 5xx → `provider`.
pub fn openai_error(response: &Response) -> Option<Error> {
    let body: Body = response.json().ok()?;
    Some(body.error.error(Some(response.status), response.retry_after()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![Header {
                name: "retry-after".into(),
                value: "7".into(),
            }],
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn openai_errors_map_to_connector_errors() {
        let error = |status, body| openai_error(&response(status, body)).unwrap();
        let key = error(
            401,
            serde_json::json!({"error": {"message": "Incorrect API key provided: sk-****", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
        );
        assert!(matches!(key, Error::Auth(_)), "{key:?}");
        let quota = error(
            429,
            serde_json::json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
        );
        assert!(matches!(quota, Error::Permanent(_)), "{quota:?}");
        let limited = error(
            429,
            serde_json::json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        );
        assert!(matches!(limited, Error::RateLimited(Some(7))), "{limited:?}");
        let param = error(
            400,
            serde_json::json!({"error": {"message": "Invalid value for 'temperature'", "type": "invalid_request_error", "param": "temperature", "code": "invalid_value"}}),
        );
        assert!(
            matches!(&param, Error::Validation(m) if m.contains("param temperature")),
            "{param:?}"
        );
        let model = error(
            404,
            serde_json::json!({"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error", "code": "model_not_found"}}),
        );
        assert!(matches!(model, Error::NotFound(_)), "{model:?}");
        let down = error(
            500,
            serde_json::json!({"error": {"message": "The server had an error", "type": "server_error"}}),
        );
        assert!(matches!(down, Error::Provider(_)), "{down:?}");
        assert!(openai_error(&response(502, serde_json::json!("<html>"))).is_none());
    }
}
