//! Anthropic's API: `{api_base}/…` with the key in `x-api-key`, the
//! `anthropic-version` header, and its error object `{"type": "error",
//! "error": {"type", "message"}}`.
//! <https://docs.anthropic.com/en/api/overview>, <https://docs.anthropic.com/en/api/errors>

use patchbay_sdk::client::Client;
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use serde::Deserialize;

/// The API of the connection.
pub fn client() -> Result<Client> {
    Ok(Client::from_setting_or("api_base", "https://api.anthropic.com/v1")?
        .header_auth("x-api-key", "api_key", None)
        .header("anthropic-version", config::get_or("api_version", "2023-06-01")?)
        .errors(anthropic_error))
}

#[derive(Deserialize)]
struct Body {
    error: Detail,
}

/// Anthropic's error object (also sent as a stream's `error` event).
#[derive(Deserialize, Debug, Default)]
pub struct Detail {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

impl Detail {
    /// The connector error it means; `status` when it came with one.
    pub fn error(&self, status: Option<u16>, retry_after: Option<u32>) -> Error {
        let message = match status {
            Some(status) => format!("HTTP {status}: {} ({})", self.message, self.kind),
            None => format!("{} ({})", self.message, self.kind),
        };
        match self.kind.as_str() {
            "authentication_error" | "permission_error" => Error::Auth(message),
            "not_found_error" => Error::NotFound(message),
            "invalid_request_error" | "request_too_large" => Error::Validation(message),
            "rate_limit_error" => Error::RateLimited(retry_after),
            // Overloaded (529), api_error (500): transient.
            _ => match status {
                Some(status) if status < 500 && status != 429 => Error::from_status(status, message, retry_after),
                Some(status) => Error::Provider(ProviderFailure {
                    status: Some(status),
                    message,
                }),
                None => Error::provider(message),
            },
        }
    }
}

/// Anthropic's refusal → the connector error: `authentication_error` and
/// `permission_error` → `auth`; `not_found_error` → `not-found`;
/// `invalid_request_error`, `request_too_large` → `validation`;
/// `rate_limit_error` → `rate-limited`; `overloaded_error` (529, retried
/// by the host first) and `api_error` → `provider`.
pub fn anthropic_error(response: &Response) -> Option<Error> {
    let body: Body = response.json().ok()?;
    Some(body.error.error(Some(response.status), response.retry_after()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, kind: &str) -> Error {
        let body = serde_json::json!({"type": "error", "error": {"type": kind, "message": "m"}});
        anthropic_error(&Response {
            status,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        })
        .unwrap()
    }

    #[test]
    fn anthropic_errors_map_to_connector_errors() {
        assert!(matches!(error(401, "authentication_error"), Error::Auth(_)));
        assert!(matches!(error(403, "permission_error"), Error::Auth(_)));
        assert!(matches!(error(404, "not_found_error"), Error::NotFound(_)));
        assert!(matches!(error(400, "invalid_request_error"), Error::Validation(_)));
        assert!(matches!(error(413, "request_too_large"), Error::Validation(_)));
        assert!(matches!(error(429, "rate_limit_error"), Error::RateLimited(None)));
        assert!(matches!(
            error(529, "overloaded_error"),
            Error::Provider(ProviderFailure { status: Some(529), .. })
        ));
        assert!(matches!(error(500, "api_error"), Error::Provider(_)));
    }
}
