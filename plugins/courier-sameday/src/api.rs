//! Sameday's API: the base URL, the token login, and Sameday's error body.
//!
//! Sameday authenticates with a login: `POST /api/authenticate` with the
//! user in `X-Auth-Username` and the password in `X-Auth-Password` (both
//! `{{secret.…}}` placeholders the host fills in: the plugin never reads
//! them) answers `{"token", "expire_at": "Y-m-d H:i"}`; every other call
//! sends the token in `X-AUTH-TOKEN`. The token is cached in `kv` until it
//! expires, and a 401/403 on a cached token logs in again once, as
//! Sameday's own PHP SDK does.

use patchbay_sdk::client::{Call, Client};
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use patchbay_sdk::{kv, time};
use serde::Deserialize;

/// Where the token is cached.
const TOKEN_KEY: &str = "sameday/token";

/// `expire_at` is Bucharest wall time (UTC+2, +3 in summer) without a zone:
/// read as UTC it is two or three hours late, so this much is taken off, and
/// a minute more for the clocks.
const EXPIRY_MARGIN: i64 = 3 * 3600 + 60;

/// How long a token whose `expire_at` cannot be read is kept (the PHP
/// SDK's fallback too).
const FALLBACK_TTL: i64 = 600;

/// Sameday's API at the `api_base` setting (`https://api.sameday.ro`).
pub fn client() -> Result<Client> {
    Ok(Client::from_setting_or("api_base", "https://api.sameday.ro")?.errors(sameday_error))
}

#[derive(Deserialize)]
struct Login {
    token: String,
    #[serde(default)]
    expire_at: Option<String>,
}

/// Seconds a token answered at `now` stays usable.
fn lifetime(expire_at: Option<&str>, now: i64) -> i64 {
    expire_at
        .and_then(|at| time::unix(&at.replace(' ', "T")).ok())
        .map_or(FALLBACK_TTL, |at| at - EXPIRY_MARGIN - now)
}

/// Logs in and caches the token.
pub fn login() -> Result<String> {
    let response = client()?
        .post("api/authenticate")
        .header("X-Auth-Username", "{{secret.username}}")
        .header("X-Auth-Password", "{{secret.password}}")
        .form([("remember_me", "1")])
        .send()
        .map_err(|e| match e {
            // Any refusal of the login is the credentials'.
            Error::Validation(m) | Error::NotFound(m) => Error::Auth(m),
            Error::Permanent(f) => Error::Auth(f.message),
            other => other,
        })?;
    let login: Login = response.json()?;
    if login.token.is_empty() {
        return Err(Error::provider("Sameday's login answered no token"));
    }
    let ttl = lifetime(login.expire_at.as_deref(), time::now());
    if ttl > 0 {
        kv::set(TOKEN_KEY, login.token.as_bytes(), u32::try_from(ttl).ok())?;
    }
    Ok(login.token)
}

/// Sends `call` with a token: the cached one, or a fresh login; a cached
/// token the API refuses (it expired early, or was revoked) is dropped and
/// the call made once more with a fresh one.
pub fn authorized(call: impl Fn() -> Result<Call>) -> Result<Response> {
    if let Some(token) = kv::get_string(TOKEN_KEY)? {
        match call()?.header("X-AUTH-TOKEN", token).send() {
            Err(Error::Auth(_)) => {
                kv::delete(TOKEN_KEY)?;
            }
            other => return other,
        }
    }
    let token = login()?;
    call()?.header("X-AUTH-TOKEN", token).send()
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

/// The field errors of Sameday's validation body (Symfony's form errors:
/// `{"errors": {"children": {"field": {"errors": [...], "children": ...}}}}`)
/// as `field.sub: message` lines, by field name.
fn field_errors(node: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<String>) {
    if let Some(errors) = node.get("errors").and_then(serde_json::Value::as_array) {
        for error in errors.iter().filter_map(serde_json::Value::as_str) {
            out.push(if path.is_empty() {
                error.to_string()
            } else {
                format!("{}: {error}", path.join("."))
            });
        }
    }
    let children = node
        .get("children")
        .or_else(|| node.get("errors").and_then(|e| e.get("children")));
    if let Some(children) = children.and_then(serde_json::Value::as_object) {
        for (name, child) in children {
            path.push(name.clone());
            field_errors(child, path, out);
            path.pop();
        }
    }
}

/// Sameday's error body → the connector error: a 400 is the request's
/// fault (`validation`, naming each field Sameday names), 401/403 the
/// token's or the credentials' (`auth`), 404 `not-found`; the message is
/// Sameday's.
fn sameday_error(response: &Response) -> Option<Error> {
    let body: Body = response.json().ok()?;
    let mut message = body.message.unwrap_or_else(|| format!("HTTP {}", response.status));
    let mut fields = Vec::new();
    if let Some(errors) = &body.errors {
        field_errors(&serde_json::json!({ "errors": errors }), &mut Vec::new(), &mut fields);
    }
    if !fields.is_empty() {
        message = format!("{message}: {}", fields.join("; "));
    }
    Some(match response.status {
        400 => Error::Validation(message),
        status => Error::from_status(status, message, response.retry_after()),
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
    fn validation_errors_name_every_field() {
        let error = sameday_error(&response(
            400,
            serde_json::json!({
                "code": 400,
                "message": "Validation Failed",
                "errors": {"children": {
                    "pickupPoint": {"errors": ["The given pickupPoint is invalid!", "This value should not be null."]},
                    "contactPerson": {},
                    "awbRecipient": {"children": {"county": {}, "cityString": {"errors": ["Invalid city."]}}}
                }}
            }),
        ));
        let Some(Error::Validation(message)) = error else {
            panic!("{error:?}")
        };
        assert_eq!(
            message,
            "Validation Failed: awbRecipient.cityString: Invalid city.; pickupPoint: The given pickupPoint is invalid!; pickupPoint: This value should not be null."
        );
        let plain = sameday_error(&response(
            400,
            serde_json::json!({"code": 400, "message": "No data found for current user."}),
        ));
        assert!(matches!(&plain, Some(Error::Validation(m)) if m == "No data found for current user."));
        let refused = sameday_error(&response(401, serde_json::json!({"code": 401, "message": "Bad token"})));
        assert!(matches!(refused, Some(Error::Auth(_))));
        let missing = sameday_error(&response(
            404,
            serde_json::json!({"code": 404, "message": "Awb not found"}),
        ));
        assert!(matches!(missing, Some(Error::NotFound(_))));
        let down = sameday_error(&response(
            503,
            serde_json::json!({"code": 503, "message": "Maintenance"}),
        ));
        assert!(matches!(down, Some(Error::Provider(_))));
        assert!(sameday_error(&response(502, serde_json::json!("<html>"))).is_none());
    }

    #[test]
    fn tokens_expire_before_sameday_says() {
        // 12:00 Bucharest is 09:00 or 10:00 UTC; read as 12:00 UTC, less the margin.
        let now = time::unix("2026-12-01T08:00:00Z").unwrap();
        assert_eq!(lifetime(Some("2026-12-01 12:00"), now), 4 * 3600 - EXPIRY_MARGIN);
        assert_eq!(lifetime(Some("soon"), now), FALLBACK_TTL);
        assert_eq!(lifetime(None, now), FALLBACK_TTL);
        assert!(lifetime(Some("2026-12-01 08:30"), now) < 0, "already stale: not cached");
    }
}
