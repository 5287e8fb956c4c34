//! The Matrix client-server API (<https://spec.matrix.org/v1.16/client-server-api/>):
//! a password login whose access token is kept in `kv` (the password is a
//! `{{secret.password}}` placeholder the host fills into the login body),
//! the device kept across logins, and Matrix's errors `{"errcode", "error"}`.

use patchbay_sdk::client::{Call, Client};
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::json;

/// Where the access token is kept.
const TOKEN_KEY: &str = "session.access-token";
/// Where the device is kept, so that logins reuse it (and transaction ids
/// stay deduplicated by the homeserver across them).
const DEVICE_KEY: &str = "session.device-id";
/// Where the account's full user id is kept.
const USER_KEY: &str = "session.user-id";

/// The homeserver's client-server API.
pub fn client() -> Result<Client> {
    Ok(Client::from_setting("homeserver")?
        .path("_matrix/client/v3")
        .errors(matrix_error))
}

/// The homeserver's media upload API.
pub fn media() -> Result<Client> {
    Ok(Client::from_setting("homeserver")?
        .path("_matrix/media/v3")
        .errors(matrix_error))
}

#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    errcode: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    retry_after_ms: Option<u64>,
}

/// Matrix's refusal → the connector error: `M_UNKNOWN_TOKEN`,
/// `M_MISSING_TOKEN`, `M_USER_DEACTIVATED` → `auth`; `M_FORBIDDEN` →
/// `permanent` (not in the room, no power), except on 401; `M_NOT_FOUND` →
/// `not-found`; `M_LIMIT_EXCEEDED` → `rate-limited` with `retry_after_ms`;
/// `M_BAD_JSON`, `M_NOT_JSON`, `M_INVALID_PARAM`, `M_TOO_LARGE`,
/// `M_UNRECOGNIZED` → `validation`.
fn matrix_error(response: &Response) -> Option<Error> {
    let refusal: Refusal = response.json().ok()?;
    let message = format!("HTTP {}: {} ({})", response.status, refusal.error, refusal.errcode);
    Some(match (response.status, refusal.errcode.as_str()) {
        (_, "M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN" | "M_USER_DEACTIVATED") | (401, _) => Error::Auth(message),
        (_, "M_NOT_FOUND") | (404, _) => Error::NotFound(message),
        (_, "M_LIMIT_EXCEEDED") | (429, _) => Error::RateLimited(
            refusal
                .retry_after_ms
                .map(|ms| u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX))
                .or_else(|| response.retry_after()),
        ),
        (_, "M_FORBIDDEN") => Error::Permanent(ProviderFailure {
            status: Some(response.status),
            message,
        }),
        (
            _,
            "M_BAD_JSON" | "M_NOT_JSON" | "M_INVALID_PARAM" | "M_TOO_LARGE" | "M_UNRECOGNIZED" | "M_INVALID_USERNAME",
        ) => Error::Validation(message),
        (status, _) => Error::from_status(status, message, response.retry_after()),
    })
}

#[derive(Deserialize)]
struct Login {
    access_token: String,
    #[serde(default)]
    device_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

/// The account as the login names it: `@name:server` → `name` is fine too.
fn identifier() -> Result<serde_json::Value> {
    let user = config::require("user")?;
    let user = user.trim();
    if user.is_empty() {
        return Err(Error::Config("the setting user is empty".into()));
    }
    Ok(json!({ "type": "m.id.user", "user": user }))
}

/// Logs in with the password (filled in by the host), keeps the token and
/// the device, and returns the token.
pub fn login() -> Result<String> {
    let mut body = json!({
        "type": "m.login.password",
        "identifier": identifier()?,
        "password": "{{secret.password}}",
        "initial_device_display_name": "Patchbay",
    });
    if let Some(device) = kv::get_string(DEVICE_KEY)? {
        body["device_id"] = json!(device);
    }
    let login: Login = client()?
        .post("login")
        .body_secrets(&["password"])
        .body_json(&body)?
        .send()
        .map_err(|e| match e {
            // Any refusal of the login is the credentials'.
            Error::Permanent(f) => Error::Auth(f.message),
            Error::NotFound(m) | Error::Validation(m) => Error::Auth(m),
            other => other,
        })?
        .json()?;
    if login.access_token.is_empty() {
        return Err(Error::provider("the homeserver's login answered no access token"));
    }
    kv::set(TOKEN_KEY, login.access_token.as_bytes(), None)?;
    if let Some(device) = &login.device_id {
        kv::set(DEVICE_KEY, device.as_bytes(), None)?;
    }
    if let Some(user) = &login.user_id {
        kv::set(USER_KEY, user.as_bytes(), None)?;
    }
    Ok(login.access_token)
}

/// The account's full user id (`@name:server`), as the login reported it.
pub fn user_id() -> Result<String> {
    if let Some(user) = kv::get_string(USER_KEY)? {
        return Ok(user);
    }
    login()?;
    kv::get_string(USER_KEY)?.ok_or_else(|| Error::provider("the homeserver's login did not name the user"))
}

/// Sends `call` with the access token: the kept one, or a fresh login; a
/// token the homeserver refuses (logged out, expired) is dropped and the
/// call made once more after a new login.
pub fn authorized(call: impl Fn() -> Result<Call>) -> Result<Response> {
    if let Some(token) = kv::get_string(TOKEN_KEY)? {
        match call()?.header("Authorization", format!("Bearer {token}")).send() {
            Err(Error::Auth(_)) => {
                kv::delete(TOKEN_KEY)?;
            }
            other => return other,
        }
    }
    let token = login()?;
    call()?.header("Authorization", format!("Bearer {token}")).send()
}

/// One path segment, percent-encoded (room ids hold `!` and `:`, aliases `#`).
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, body: serde_json::Value) -> Error {
        matrix_error(&Response {
            status,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        })
        .unwrap()
    }

    #[test]
    fn matrix_errors_map_to_connector_errors() {
        assert!(matches!(
            refusal(
                401,
                json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."})
            ),
            Error::Auth(_)
        ));
        assert!(matches!(
            refusal(403, json!({"errcode": "M_FORBIDDEN", "error": "User not in room"})),
            Error::Permanent(_)
        ));
        assert!(matches!(
            refusal(
                429,
                json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 1500})
            ),
            Error::RateLimited(Some(2))
        ));
        assert!(matches!(
            refusal(404, json!({"errcode": "M_NOT_FOUND", "error": "Room alias not found"})),
            Error::NotFound(_)
        ));
        assert!(matches!(
            refusal(400, json!({"errcode": "M_BAD_JSON", "error": "Content not JSON."})),
            Error::Validation(_)
        ));
        assert_eq!(segment("!abc:example.org"), "%21abc%3Aexample.org");
        assert_eq!(segment("#room:ex"), "%23room%3Aex");
    }
}
