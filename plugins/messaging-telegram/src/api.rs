//! The Telegram Bot API: `{api_base}/bot{token}/{method}` (the token is a
//! `{{secret.bot_token}}` placeholder the host fills into the path; the
//! plugin never reads it), answers `{"ok": true, "result": …}` or `{"ok":
//! false, "error_code", "description", "parameters": {"retry_after"}}`.
//! <https://core.telegram.org/bots/api#making-requests>

use patchbay_sdk::client::Client;
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The bot's API.
pub fn client() -> Result<Client> {
    Ok(Client::from_setting_or("api_base", "https://api.telegram.org")?
        .path("bot{{secret.bot_token}}")
        .errors(telegram_error))
}

#[derive(Deserialize)]
struct Answer<T> {
    ok: bool,
    result: Option<T>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize, Default)]
struct Parameters {
    retry_after: Option<u32>,
}

#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Parameters>,
}

/// Telegram's refusal → the connector error. 401: the token; 403: the user
/// blocked the bot or the bot was removed from the chat (`permanent`, as
/// retrying cannot fix it); 400 names what was wrong (`chat not found`,
/// `message is too long`) — `validation`; 429 carries its wait in
/// `parameters.retry_after` (in the body, not a header).
fn telegram_error(response: &Response) -> Option<Error> {
    let refusal: Refusal = response.json().ok()?;
    let message = if refusal.description.is_empty() {
        format!("HTTP {}", response.status)
    } else {
        refusal.description
    };
    let retry_after = refusal
        .parameters
        .and_then(|p| p.retry_after)
        .or_else(|| response.retry_after());
    Some(match response.status {
        400 if message.contains("chat not found") || message.contains("message to be replied not found") => {
            Error::NotFound(message)
        }
        400 => Error::Validation(message),
        403 => Error::permanent(message),
        status => Error::from_status(status, message, retry_after),
    })
}

/// Calls a Bot API method with a JSON body; its `result`.
pub fn call<T: DeserializeOwned>(method: &str, body: &serde_json::Value) -> Result<T> {
    let answer: Answer<T> = client()?.post(method).body_json(body)?.json()?;
    unwrap(method, answer)
}

/// The `result` of an answer, or its refusal when a 200 says `ok: false`.
fn unwrap<T>(method: &str, answer: Answer<T>) -> Result<T> {
    match (answer.ok, answer.result) {
        (true, Some(result)) => Ok(result),
        _ => Err(Error::provider(format!(
            "Telegram answered {method} without a result: {}",
            answer.description.unwrap_or_default()
        ))),
    }
}

/// Calls a method with a multipart body (uploads).
pub fn upload<T: DeserializeOwned>(method: &str, form: patchbay_sdk::http::Multipart) -> Result<T> {
    let answer: Answer<T> = client()?.post(method).multipart(form).json()?;
    unwrap(method, answer)
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
    fn refusals_become_connector_errors() {
        let slow = telegram_error(&response(
            429,
            serde_json::json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}),
        ));
        assert!(matches!(slow, Some(Error::RateLimited(Some(7)))), "{slow:?}");
        let missing = telegram_error(&response(
            400,
            serde_json::json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        ));
        assert!(matches!(missing, Some(Error::NotFound(_))), "{missing:?}");
        let long = telegram_error(&response(
            400,
            serde_json::json!({"ok": false, "error_code": 400, "description": "Bad Request: message caption is too long"}),
        ));
        assert!(matches!(long, Some(Error::Validation(m)) if m.contains("too long")));
        let blocked = telegram_error(&response(
            403,
            serde_json::json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
        ));
        assert!(matches!(blocked, Some(Error::Permanent(_))));
        let token = telegram_error(&response(
            401,
            serde_json::json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
        ));
        assert!(matches!(token, Some(Error::Auth(_))));
    }
}
