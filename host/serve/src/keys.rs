//! `/v1/admin/keys`: the operator's endpoints for API keys (an admin key
//! is needed). A key is shown once, when it is created.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Admin;
use crate::json::Body;
use crate::problem::Problem;

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    /// The tenant it acts for.
    pub tenant: String,
    /// Whether it may use the operator's endpoints.
    #[serde(default)]
    pub admin: bool,
    /// What to call it.
    #[serde(default)]
    pub label: String,
}

/// An API key without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// The key's public id.
    pub id: String,
    /// The tenant it acts for.
    pub tenant: String,
    /// Whether it may use the operator's endpoints.
    pub admin: bool,
    /// What it is called.
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<patchbay::ApiKeyInfo> for KeyView {
    fn from(k: patchbay::ApiKeyInfo) -> Self {
        Self {
            id: k.id,
            tenant: k.tenant,
            admin: k.admin,
            label: k.label,
            created_at: k.created_at,
        }
    }
}

/// A key just created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The whole key: shown this once, never again.
    pub key: String,
    /// What is kept of it.
    #[serde(flatten)]
    pub info: KeyView,
}

/// Creates an API key.
#[utoipa::path(
    post,
    path = "/v1/admin/keys",
    tag = "admin",
    request_body = NewKeyBody,
    responses(
        (status = 201, description = "Created; `key` is shown once", body = CreatedKey),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid tenant name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn create_key(
    State(state): State<AppState>,
    _admin: Admin,
    Body(body): Body<NewKeyBody>,
) -> Result<(StatusCode, Json<CreatedKey>), Problem> {
    let created = state
        .host
        .api_keys()
        .create(&body.tenant, body.admin, &body.label)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: created.key,
            info: created.info.into(),
        }),
    ))
}

/// Lists the API keys (never their secrets).
#[utoipa::path(
    get,
    path = "/v1/admin/keys",
    tag = "admin",
    responses(
        (status = 200, description = "Every key, oldest first", body = [KeyView]),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn list_keys(State(state): State<AppState>, _admin: Admin) -> Result<Json<Vec<KeyView>>, Problem> {
    Ok(Json(
        state
            .host
            .api_keys()
            .list()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Revokes an API key.
#[utoipa::path(
    delete,
    path = "/v1/admin/keys/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "The key's public id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn revoke_key(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state.host.api_keys().revoke(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no API key {id:?}")))
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
}
