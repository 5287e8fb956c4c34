//! Errors as `application/problem+json` (RFC 9457), and the one table that
//! maps every failure of the host to an HTTP status.
//!
//! | failure | status | `kind` |
//! |---|---|---|
//! | no or unknown API key | 401 | `unauthenticated` |
//! | an operator endpoint without an admin key | 403 | `forbidden` |
//! | malformed JSON, a wrong field, a bad argument | 422 | `invalid` (with `field`) |
//! | connector `validation` | 422 | `validation` |
//! | unknown provider, connection, endpoint, function; connector `not-found` | 404 | `not-found` |
//! | connection disabled, not connected, circuit open on auth | 409 | `unavailable` |
//! | connector `config`, a connection whose plugin has no OAuth2 flow | 409 | `config` |
//! | connector `rate-limited` | 429 + `Retry-After` | `rate-limited` |
//! | too many calls in flight for the tenant | 429 + `Retry-After` | `busy` |
//! | too many calls in flight overall | 503 + `Retry-After` | `overloaded` |
//! | body over the limit | 413 | `too-large` |
//! | a body that is not JSON / not sent as JSON | 400 / 415 | `invalid-json` / `unsupported-media-type` |
//! | connector `provider` (retryable) | 502 | `provider` |
//! | connector `permanent` | 502 | `permanent` |
//! | connector `auth` (the provider refused the stored credentials) | 502 | `provider-auth` |
//! | an OAuth2 server's refusal | 502 | `oauth` |
//! | connector `unsupported` (the plugin exports the operation but cannot do it) | 501 | `unsupported` |
//! | the call's deadline | 504 | `deadline` |
//! | the store is unreachable | 503 | `storage` |
//! | a plugin fault (trap, broken limit), a host fault | 500 | `fault` |
//!
//! No response carries a secret: connection bodies never echo credentials,
//! and plugins never see secrets to put in their messages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patchbay::types::{ConnectorError, describe_error, error_json};
use patchbay::{CallError, ConnectError, ConnectionsError};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:patchbay:problem:<kind>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for a person.
    pub detail: String,
    /// The stable kind (see the table in the API docs).
    pub kind: String,
    /// The input field that was wrong (`credentials.api_key`,
    /// `query.items[2].sku`), when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// Seconds to wait, when known (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    /// The plugin's connector error, as the JSON bridge writes it
    /// (`{"provider": {"status": 503, "message": "..."}}`), when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
}

impl Problem {
    /// A problem of `kind` with `status`.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            type_: format!("urn:patchbay:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            kind: kind.to_string(),
            field: None,
            retryable: matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_GATEWAY
            ),
            retry_after: None,
            error: None,
        }
    }

    /// The field that was wrong.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// How long to wait before trying again.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self.retryable = true;
        self
    }

    /// Whether the same request may succeed later.
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// 404 for anything the caller may not know exists.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 422 for input that does not fit.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
    }

    /// 500 for a fault of the host or the plugin.
    pub fn fault(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "fault", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let mut response = (status, axum::Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<&ConnectorError> for Problem {
    fn from(error: &ConnectorError) -> Self {
        let detail = describe_error(error);
        let problem = match error {
            ConnectorError::Validation(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail),
            ConnectorError::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not-found", detail),
            ConnectorError::RateLimited(after) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail).retry_after(after.unwrap_or(1))
            }
            ConnectorError::Provider(_) => Self::new(StatusCode::BAD_GATEWAY, "provider", detail),
            ConnectorError::Permanent(_) => Self::new(StatusCode::BAD_GATEWAY, "permanent", detail).retryable(false),
            ConnectorError::Auth(_) => Self::new(StatusCode::BAD_GATEWAY, "provider-auth", detail).retryable(false),
            ConnectorError::Config(_) => Self::new(StatusCode::CONFLICT, "config", detail),
            ConnectorError::Unsupported(_) => Self::new(StatusCode::NOT_IMPLEMENTED, "unsupported", detail),
            ConnectorError::WebhookVerification(_) => {
                Self::new(StatusCode::UNAUTHORIZED, "webhook-verification", detail)
            }
        };
        Self {
            error: Some(error_json(error)),
            ..problem
        }
    }
}

impl From<CallError> for Problem {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Connector(ref e) => e.into(),
            // No such function in the plugin (or in the contract): nothing to call.
            CallError::Unsupported(detail) => Self::not_found(detail),
            CallError::Input(e) => Self::invalid(format!("invalid input: {e}")).field(e.path.clone()),
            CallError::Deadline(limit) => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline",
                format!(
                    "the call exceeded its time limit of {} s and was stopped",
                    limit.as_secs_f64()
                ),
            ),
            CallError::Fault(detail) => Self::fault(format!("plugin fault: {detail}")),
        }
    }
}

impl From<ConnectError> for Problem {
    fn from(error: ConnectError) -> Self {
        let detail = error.to_string();
        match &error {
            ConnectError::UnknownProvider { .. } => Self::not_found(detail),
            ConnectError::Invalid { field, .. } => {
                let problem = Self::invalid(detail);
                match field {
                    Some(field) => problem.field(field.clone()),
                    None => problem,
                }
            }
        }
    }
}

impl From<ConnectionsError> for Problem {
    fn from(error: ConnectionsError) -> Self {
        let detail = error.to_string();
        match error {
            ConnectionsError::NotFound { id, .. } => Self::not_found(format!("no connection {id:?}")),
            ConnectionsError::UnknownState(_) => Self::not_found(detail),
            ConnectionsError::Disabled(_)
            | ConnectionsError::CircuitDisabled(_)
            | ConnectionsError::Disconnected { .. } => Self::new(StatusCode::CONFLICT, "unavailable", detail),
            ConnectionsError::Connect(e) => e.into(),
            ConnectionsError::Call(e) => e.into(),
            ConnectionsError::OAuth(patchbay::OAuthError::Config(_)) => {
                Self::new(StatusCode::CONFLICT, "config", detail)
            }
            ConnectionsError::OAuth(patchbay::OAuthError::Callback(_)) => {
                Self::new(StatusCode::BAD_REQUEST, "validation", detail)
            }
            ConnectionsError::OAuth(patchbay::OAuthError::Revoked(_)) => {
                Self::new(StatusCode::CONFLICT, "unavailable", detail)
            }
            ConnectionsError::OAuth(_) => Self::new(StatusCode::BAD_GATEWAY, "oauth", detail).retryable(false),
            ConnectionsError::Store(_) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage", detail).retry_after(5),
            ConnectionsError::Vault(_) => Self::fault(detail),
        }
    }
}

impl From<patchbay::store::StoreError> for Problem {
    fn from(error: patchbay::store::StoreError) -> Self {
        match error {
            patchbay::store::StoreError::InvalidKey(detail) => Self::invalid(detail),
            patchbay::store::StoreError::Conflict(detail) => Self::new(StatusCode::CONFLICT, "conflict", detail),
            other => Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage", other.to_string()).retry_after(5),
        }
    }
}
