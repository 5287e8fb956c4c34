//! Shopify's GraphQL Admin API: the endpoint, the access token (named; the
//! host fills it into `X-Shopify-Access-Token`), one POST per operation, and
//! Shopify's errors — HTTP statuses, top-level GraphQL `errors` with their
//! `extensions.code`, and a mutation's `userErrors`.
//!
//! The query-cost budget each answer reports (`extensions.cost`) is not
//! read here: the plugin declares it (`rate-signals`) and the host paces
//! the connection by it and repeats a `THROTTLED` request.

use patchbay_sdk::client::Client;
use patchbay_sdk::config;
use patchbay_sdk::http::Response;
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The API version when the setting is empty.
const DEFAULT_VERSION: &str = "2026-10";

/// The store's Admin API, `{store_url}/admin/api/{version}`.
pub fn client() -> Result<Client> {
    let version = config::get("api_version")?
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_VERSION.into());
    let version = version.trim();
    let valid = version == "unstable"
        || (version.len() == 7
            && version.as_bytes()[4] == b'-'
            && version.bytes().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit()));
    if !valid {
        return Err(Error::Config(format!(
            "api_version {version:?} is not a Shopify API version (YYYY-MM)"
        )));
    }
    // A custom app's token, or the token the host obtained through OAuth
    // (`oauth.access_token`: the host puts it in this header, refreshed
    // by the host; the plugin sees neither).
    let token = match config::get("auth")?.as_deref() {
        Some("oauth") => "oauth.access_token",
        _ => "access_token",
    };
    Ok(Client::from_setting("store_url")?
        .path(&format!("admin/api/{version}"))
        .header_auth("X-Shopify-Access-Token", token, None)
        .header("accept", "application/json")
        .errors(http_error))
}

/// Shopify's error body outside GraphQL: `{"errors": "…"}` or a list.
fn http_error(response: &Response) -> Option<Error> {
    #[derive(Deserialize)]
    struct Body {
        errors: Value,
    }
    let body: Body = response.json().ok()?;
    let message = match &body.errors {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_string)
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    Some(match response.status {
        // 402: the store is frozen (unpaid); 423: locked. Neither passes by retrying.
        402 | 423 => Error::permanent(format!("HTTP {}: {message}", response.status)),
        status => Error::from_status(status, message, response.retry_after()),
    })
}

#[derive(Deserialize)]
struct GqlError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    extensions: Option<Value>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Option<Vec<GqlError>>,
}

/// Top-level GraphQL errors → the connector error, by their codes.
fn graphql_error(errors: &[GqlError]) -> Error {
    let code = |e: &GqlError| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let message = errors
        .iter()
        .map(|e| match code(e).as_str() {
            "" => e.message.clone(),
            c => format!("{} ({c})", e.message),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let codes: Vec<String> = errors.iter().map(code).collect();
    let has = |c: &str| codes.iter().any(|x| x == c);
    if has("THROTTLED") {
        // The host repeats a throttled request while the call has time;
        // this is what is left when it had none.
        Error::RateLimited(None)
    } else if has("ACCESS_DENIED") || has("UNAUTHORIZED") {
        Error::Auth(message)
    } else if has("MAX_COST_EXCEEDED") {
        Error::Validation(format!("{message}: ask for fewer items per page"))
    } else if has("INTERNAL_SERVER_ERROR") || has("SERVICE_UNAVAILABLE") {
        Error::provider(message)
    } else {
        Error::permanent(message)
    }
}

/// Runs a GraphQL operation and reads its `data` as `T`. Every operation
/// is safe to repeat — a query reads, and each mutation this plugin sends is
/// idempotent by nature or carries `@idempotent` — so each carries an
/// idempotency key and the host may retry it.
pub fn graphql<T: DeserializeOwned>(operation: &str, document: &str, variables: Value) -> Result<T> {
    let body = json!({ "query": document, "operationName": operation, "variables": variables });
    let response = client()?
        .post("graphql.json")
        .body_json(&body)?
        .idempotency_key(idempotency_key(operation))
        .send()?;
    let envelope: Envelope = response.json()?;
    if let Some(errors) = envelope.errors.filter(|e| !e.is_empty()) {
        return Err(graphql_error(&errors));
    }
    let data = envelope
        .data
        .ok_or_else(|| Error::provider(format!("Shopify answered {operation} with no data")))?;
    serde_json::from_value(data).map_err(|e| Error::provider(format!("Shopify's answer to {operation}: {e}")))
}

/// A mutation's `userErrors` (`[{field: [..], message, code}]`) → a
/// validation error naming each field, or `Ok` when there are none.
pub fn user_errors(payload: &Value) -> Result<()> {
    let lists = ["userErrors", "orderCancelUserErrors"];
    let errors: Vec<String> = lists
        .iter()
        .filter_map(|l| payload.get(*l).and_then(Value::as_array))
        .flatten()
        .map(|e| {
            let field = e
                .get("field")
                .and_then(Value::as_array)
                .map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("."))
                .unwrap_or_default();
            let message = e.get("message").and_then(Value::as_str).unwrap_or("invalid");
            let code = e.get("code").and_then(Value::as_str);
            match (field.is_empty(), code) {
                (true, None) => message.to_string(),
                (true, Some(code)) => format!("{message} ({code})"),
                (false, None) => format!("{field}: {message}"),
                (false, Some(code)) => format!("{field}: {message} ({code})"),
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors.join("; ")))
    }
}

/// A fresh key per operation (the host's randomness seeds `RandomState`).
pub fn idempotency_key(operation: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("patchbay-{operation}-{:016x}{:016x}", word(), word())
}

/// The kinds of Shopify object an id may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `gid://shopify/Order/…`
    Order,
    /// `gid://shopify/Product/…`
    Product,
    /// `gid://shopify/ProductVariant/…`
    Variant,
    /// `gid://shopify/Location/…`
    Location,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Order => "Order",
            Self::Product => "Product",
            Self::Variant => "ProductVariant",
            Self::Location => "Location",
        }
    }
}

/// A global id from an id as a caller writes it: the number, or the gid.
pub fn gid(id: &str, kind: Kind) -> Result<String> {
    let id = id.trim();
    let prefix = format!("gid://shopify/{}/", kind.name());
    let number = id.strip_prefix(&prefix).unwrap_or(id);
    if !number.is_empty() && number.len() <= 20 && number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(format!("{prefix}{number}"))
    } else {
        Err(Error::Validation(format!(
            "{id:?} is not a Shopify {} id (a number or {prefix}…)",
            kind.name()
        )))
    }
}

/// The kind of a gid, when it is one of ours.
pub fn kind_of(id: &str) -> Option<Kind> {
    let rest = id.trim().strip_prefix("gid://shopify/")?;
    let (name, _) = rest.split_once('/')?;
    [Kind::Order, Kind::Product, Kind::Variant, Kind::Location]
        .into_iter()
        .find(|k| k.name() == name)
}

/// The number at the end of a gid (`gid://shopify/Order/1001` → `1001`).
pub fn number(gid: &str) -> String {
    gid.rsplit('/')
        .next()
        .unwrap_or(gid)
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: Value) -> Vec<GqlError> {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn graphql_errors_map_by_code() {
        let throttled = errors(json!([{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]));
        assert!(matches!(graphql_error(&throttled), Error::RateLimited(None)));
        let cost = errors(
            json!([{"message": "Query cost is 1502, which exceeds the single query max cost limit (1000).", "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1502, "maxCost": 1000}}]),
        );
        assert!(matches!(graphql_error(&cost), Error::Validation(m) if m.contains("fewer")));
        let denied =
            errors(json!([{"message": "Access denied for orders field.", "extensions": {"code": "ACCESS_DENIED"}}]));
        assert!(matches!(graphql_error(&denied), Error::Auth(_)));
        let syntax = errors(
            json!([{"message": "Field 'nope' doesn't exist on type 'Order'", "locations": [{"line": 1, "column": 2}]}]),
        );
        assert!(matches!(graphql_error(&syntax), Error::Permanent(f) if f.message.contains("nope")));
    }

    #[test]
    fn user_errors_name_their_fields() {
        assert!(user_errors(&json!({"userErrors": []})).is_ok());
        let error = user_errors(
            &json!({"userErrors": [{"field": ["variants", "0", "price"], "message": "Price must be greater than or equal to 0", "code": "GREATER_THAN_OR_EQUAL_TO"}]}),
        );
        assert!(
            matches!(&error, Err(Error::Validation(m)) if m == "variants.0.price: Price must be greater than or equal to 0 (GREATER_THAN_OR_EQUAL_TO)"),
            "{error:?}"
        );
    }

    #[test]
    fn ids_read_as_numbers_or_gids() {
        assert_eq!(gid("1001", Kind::Order).unwrap(), "gid://shopify/Order/1001");
        assert_eq!(
            gid("gid://shopify/Order/1001", Kind::Order).unwrap(),
            "gid://shopify/Order/1001"
        );
        assert!(gid("gid://shopify/Product/1", Kind::Order).is_err());
        assert!(gid("../1", Kind::Order).is_err());
        assert_eq!(kind_of("gid://shopify/ProductVariant/7"), Some(Kind::Variant));
        assert_eq!(kind_of("7"), None);
        assert_eq!(number("gid://shopify/Order/1001"), "1001");
    }
}
