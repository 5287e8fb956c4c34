//! Stripe's API: the base URL, the secret key as a bearer token (named; the
//! host fills it in), form-encoded bodies, idempotency keys, and Stripe's
//! error object. <https://docs.stripe.com/api/errors>

use patchbay_sdk::client::Client;
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use serde::Deserialize;

/// Stripe's API at the `api_base` setting (`https://api.stripe.com`), `/v1`.
pub fn client() -> Result<Client> {
    Ok(Client::from_setting_or("api_base", "https://api.stripe.com")?
        .path("v1")
        .bearer_auth("secret_key")
        .errors(stripe_error))
}

#[derive(Deserialize)]
struct Envelope {
    error: StripeError,
}

#[derive(Deserialize)]
struct StripeError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    param: Option<String>,
}

/// Stripe's error object → the connector error: a card error (declined,
/// expired, wrong CVC) is the payer's input, `validation`, as is an invalid
/// request naming a parameter; a missing object is `not-found`; bad keys
/// `auth`; throttling `rate-limited`; Stripe's own failures `provider`. The
/// message is Stripe's, with its code and the request id.
fn stripe_error(response: &Response) -> Option<Error> {
    let Envelope { error } = response.json().ok()?;
    let mut message = error.message.unwrap_or_else(|| format!("HTTP {}", response.status));
    for (label, value) in [
        ("code", error.code.as_deref()),
        ("decline_code", error.decline_code.as_deref()),
        ("param", error.param.as_deref()),
        ("request", response.header("request-id")),
    ] {
        if let Some(value) = value {
            message.push_str(&format!(" ({label} {value})"));
        }
    }
    Some(match (response.status, error.kind.as_str()) {
        (401 | 403, _) => Error::Auth(message),
        (429, _) => Error::RateLimited(response.retry_after()),
        (_, "card_error") => Error::Validation(message),
        (404, _) | (_, "invalid_request_error") if error.code.as_deref() == Some("resource_missing") => {
            Error::NotFound(message)
        }
        (400, "invalid_request_error") => Error::Validation(message),
        (status, _) => Error::from_status(status, message, response.retry_after()),
    })
}

/// A Stripe list: `{"object": "list", "data": [...], "has_more": bool}`.
#[derive(Deserialize)]
pub struct List<T> {
    /// The page's objects.
    pub data: Vec<T>,
    /// Whether more follow (ask with `starting_after` the last one's id).
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![Header {
                name: "request-id".into(),
                value: "req_123".into(),
            }],
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn stripe_errors_become_connector_errors() {
        let card = stripe_error(&response(
            402,
            serde_json::json!({"error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}}),
        ));
        assert!(
            matches!(&card, Some(Error::Validation(m)) if m.contains("insufficient funds") && m.contains("decline_code insufficient_funds") && m.contains("request req_123")),
            "{card:?}"
        );
        let missing = stripe_error(&response(
            404,
            serde_json::json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "intent", "message": "No such payment_intent: 'pi_x'"}}),
        ));
        assert!(matches!(missing, Some(Error::NotFound(_))), "{missing:?}");
        let param = stripe_error(&response(
            400,
            serde_json::json!({"error": {"type": "invalid_request_error", "param": "amount", "message": "Invalid integer: abc"}}),
        ));
        assert!(
            matches!(&param, Some(Error::Validation(m)) if m.contains("param amount")),
            "{param:?}"
        );
        let key = stripe_error(&response(
            401,
            serde_json::json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}}),
        ));
        assert!(matches!(key, Some(Error::Auth(_))));
        let idempotency = stripe_error(&response(
            400,
            serde_json::json!({"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}}),
        ));
        assert!(matches!(idempotency, Some(Error::Permanent(_))), "{idempotency:?}");
        let down = stripe_error(&response(
            500,
            serde_json::json!({"error": {"type": "api_error", "message": "An unknown error occurred"}}),
        ));
        assert!(matches!(down, Some(Error::Provider(_))));
        assert!(
            stripe_error(&response(502, serde_json::json!("<html>"))).is_none(),
            "not Stripe's body: the status table"
        );
    }
}
