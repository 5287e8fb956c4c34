//! Who is calling: the API key in `Authorization: Bearer <key>` (or
//! `X-Api-Key`) decides the tenant. Keys are checked by the host, which
//! keeps only their hashes and compares in constant time.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use patchbay::ApiKeyInfo;

use crate::AppState;
use crate::problem::Problem;

/// The caller of an API endpoint: a valid key and its tenant.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key.
    pub key: ApiKeyInfo,
}

impl Caller {
    /// The tenant the key acts for.
    pub fn tenant(&self) -> &str {
        &self.key.tenant
    }
}

/// The caller of an operator endpoint: an admin key.
#[derive(Debug, Clone)]
pub struct Admin;

fn presented(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, key) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| key.trim());
    }
    parts.headers.get("x-api-key")?.to_str().ok().map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Some(key) = presented(parts) else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "an API key is required: send `Authorization: Bearer <key>` (keys come from `patchbay keys create`)",
            ));
        };
        match state.host.api_keys().verify(key).await? {
            Some(key) => {
                tracing::Span::current().record("tenant", key.tenant.as_str());
                Ok(Self { key })
            }
            None => Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the API key is not valid (unknown, revoked or malformed)",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.key.admin {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this endpoint is for operators: it needs an admin key (`patchbay keys create --admin`)",
            ));
        }
        Ok(Self)
    }
}
