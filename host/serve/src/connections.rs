//! `/v1/connections`: a tenant's stored connections — create (credentials
//! checked against the manifest and sealed in the vault, never echoed
//! back), list, show, update credentials or settings, enable/disable,
//! delete, test,
//! call any exported function through the JSON bridge, and start an OAuth2
//! authorization. Another tenant's connection does not exist here (404).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use patchbay::{ConnectionInfo, Credentials, NewConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::json::Body;
use crate::problem::Problem;

/// A connection to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnectionBody {
    /// `family/name`, e.g. `shop/woocommerce`.
    pub provider: String,
    /// A human name (default: the provider's).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Credential values by field name; sealed in the vault, never shown again.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    /// Settings by name.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Credential fields the plugin may read; every other one stays secret.
    #[serde(default)]
    pub public_fields: Vec<String>,
    /// Credential fields the plugin may use as keys through `crypto`.
    #[serde(default)]
    pub signing_fields: Vec<String>,
}

/// New credentials for a connection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsBody {
    /// Credential values by field name (all of them: they replace the old ones).
    pub credentials: BTreeMap<String, String>,
}

/// New settings for a connection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// Settings by name (all of them: they replace the old ones).
    pub settings: BTreeMap<String, String>,
}

/// A stored connection, without any secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    /// The id.
    pub id: String,
    /// `family/name` of the provider.
    pub provider: String,
    /// Human name.
    pub display_name: String,
    /// Settings.
    pub settings: BTreeMap<String, String>,
    /// Names of the stored credential fields (never their values).
    pub credential_fields: Vec<String>,
    /// Fields the plugin may read.
    pub public_fields: Vec<String>,
    /// Fields the plugin may use through `crypto`.
    pub signing_fields: Vec<String>,
    /// The operator's switch.
    pub enabled: bool,
    /// False until an OAuth2 connection is authorized, and after the
    /// provider revokes it.
    pub connected: bool,
    /// Whether OAuth2 tokens are stored.
    pub authorized: bool,
    /// Consecutive authentication failures seen by the circuit breaker.
    pub auth_failures: u32,
    /// Whether the circuit breaker disabled it.
    pub circuit_disabled: bool,
    /// The last failure, if any.
    pub last_failure: Option<String>,
    /// When it happened (Unix seconds).
    pub last_failure_at: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl From<ConnectionInfo> for ConnectionView {
    fn from(c: ConnectionInfo) -> Self {
        Self {
            id: c.id,
            provider: c.provider,
            display_name: c.display_name,
            settings: c.settings,
            credential_fields: c.credential_fields,
            public_fields: c.public_fields,
            signing_fields: c.signing_fields,
            enabled: c.enabled,
            connected: c.connected,
            authorized: c.authorized,
            auth_failures: c.auth_failures,
            circuit_disabled: c.circuit_disabled,
            last_failure: c.last_failure,
            last_failure_at: c.last_failure_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The answer of a connection check.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTestView {
    /// Whether the credentials and settings work.
    pub success: bool,
    /// What the provider said.
    pub message: String,
    /// Details, as the plugin gives them.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Where to send the user to authorize a connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationView {
    /// The provider's authorization URL.
    pub url: String,
    /// The anti-forgery value the callback carries.
    pub state: String,
    /// Where the provider sends the user back.
    pub redirect_uri: String,
}

/// Options of an authorization.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeBody {
    /// Where the provider sends the user back (default: this service's
    /// `/oauth/callback`; it must be registered with the provider).
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

const NOT_FOUND: &str = "No such connection for this tenant";

/// Creates a connection.
#[utoipa::path(
    post,
    path = "/v1/connections",
    tag = "connections",
    request_body = NewConnectionBody,
    responses(
        (status = 201, description = "Created; the credentials are sealed and never shown again", body = ConnectionView),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A credential or setting does not fit the manifest (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn create_connection(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewConnectionBody>,
) -> Result<(StatusCode, Json<ConnectionView>), Problem> {
    let display_name = match body.display_name {
        Some(name) => name,
        None => state
            .host
            .provider(&body.provider)
            .map(|p| p.manifest().display_name.clone())
            .unwrap_or_default(),
    };
    let info = state
        .host
        .connections(caller.tenant())
        .add(NewConnection {
            provider: body.provider,
            display_name,
            credentials: body.credentials.into_iter().collect::<Credentials>(),
            settings: body.settings,
            // Always a random id: ids are unique across tenants, so a chosen
            // one that is taken would tell a tenant that another tenant has it.
            id: None,
            public_fields: body.public_fields,
            signing_fields: body.signing_fields,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

/// Lists the tenant's connections.
#[utoipa::path(
    get,
    path = "/v1/connections",
    tag = "connections",
    responses(
        (status = 200, description = "The tenant's connections", body = [ConnectionView]),
    ),
    security(("api_key" = []))
)]
async fn list_connections(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<ConnectionView>>, Problem> {
    let list = state.host.connections(caller.tenant()).list().await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Shows a connection.
#[utoipa::path(
    get,
    path = "/v1/connections/{id}",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn get_connection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, Problem> {
    Ok(Json(state.host.connections(caller.tenant()).get(&id).await?.into()))
}

/// Replaces a connection's credentials (checked against the manifest; a
/// connection the circuit breaker disabled is enabled again).
#[utoipa::path(
    put,
    path = "/v1/connections/{id}/credentials",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = CredentialsBody,
    responses(
        (status = 200, description = "Updated", body = ConnectionView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A credential does not fit the manifest", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn update_credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<CredentialsBody>,
) -> Result<Json<ConnectionView>, Problem> {
    let credentials = body.credentials.into_iter().collect::<Credentials>();
    let info = state
        .host
        .connections(caller.tenant())
        .update_credentials(&id, credentials)
        .await?;
    Ok(Json(info.into()))
}

/// Replaces a connection's settings (checked against the manifest with its
/// credentials). Tokens issued under the old settings are dropped: an OAuth2
/// connection needs a new authorization.
#[utoipa::path(
    put,
    path = "/v1/connections/{id}/settings",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "Updated", body = ConnectionView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A setting does not fit the manifest", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn update_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<SettingsBody>,
) -> Result<Json<ConnectionView>, Problem> {
    let info = state
        .host
        .connections(caller.tenant())
        .update_settings(&id, body.settings)
        .await?;
    Ok(Json(info.into()))
}

/// Enables a connection.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/enable",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "Enabled", body = ConnectionView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn enable_connection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, Problem> {
    Ok(Json(state.host.connections(caller.tenant()).enable(&id).await?.into()))
}

/// Disables a connection: calls are refused until it is enabled.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/disable",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "Disabled", body = ConnectionView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn disable_connection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, Problem> {
    Ok(Json(state.host.connections(caller.tenant()).disable(&id).await?.into()))
}

/// Deletes a connection with its tokens and its plugin data.
#[utoipa::path(
    delete,
    path = "/v1/connections/{id}",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn delete_connection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.host.connections(caller.tenant()).remove(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks a connection with the provider.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/test",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "The provider's answer (refused credentials are `success: false`)", body = ConnectionTestView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Disabled or not connected", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many calls in flight for the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The provider failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many calls in flight", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The call's deadline passed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn test_connection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionTestView>, Problem> {
    let _permit = state.in_flight.acquire(caller.tenant())?;
    let deadline = state.settings.call_timeout;
    let test = tokio::time::timeout(deadline, state.host.connections(caller.tenant()).test(&id))
        .await
        .map_err(|_| Problem::from(patchbay::CallError::Deadline(deadline)))??;
    let details = serde_json::from_str(&test.details).unwrap_or(serde_json::Value::String(test.details));
    Ok(Json(ConnectionTestView {
        success: test.success,
        message: test.message,
        details,
    }))
}

/// Calls any exported function of the connection's plugin with JSON
/// arguments keyed by parameter name (see the provider's `functions`), and
/// answers its result as JSON.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/call/{function}",
    tag = "calls",
    params(
        ("id" = String, Path, description = "The connection's id"),
        ("function" = String, Path, description = "`interface.function`, e.g. `shop.get-orders`"),
    ),
    request_body(content = Object, description = "The arguments by parameter name, e.g. `{\"query\": {\"limit\": 10}}`"),
    responses(
        (status = 200, description = "The function's result", body = serde_json::Value),
        (status = 404, description = "No such connection or function, or the provider says not found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Disabled, not connected, or misconfigured", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The arguments do not fit (`field` names where), or the plugin refused them", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The provider is rate-limiting, or too many calls in flight for the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 501, description = "The plugin does not support the operation", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The provider failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many calls in flight", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The call's deadline passed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn call_function(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, function)): Path<(String, String)>,
    Body(input): Body<serde_json::Value>,
) -> Result<Json<patchbay::JsonOutput>, Problem> {
    if !input.is_object() {
        return Err(Problem::invalid(
            "the body is an object of arguments by parameter name, e.g. {\"query\": {}}",
        ));
    }
    let _permit = state.in_flight.acquire(caller.tenant())?;
    let started = std::time::Instant::now();
    let outcome = call(&state, caller.tenant(), &id, &function, &input).await;
    let (status, kind) = match &outcome {
        Ok(_) => (200, "ok".to_string()),
        Err(problem) => (problem.status, problem.kind.clone()),
    };
    state
        .recent
        .record(caller.tenant(), &id, &function, status, &kind, started.elapsed());
    outcome.map(Json)
}

async fn call(
    state: &AppState,
    tenant: &str,
    id: &str,
    function: &str,
    input: &serde_json::Value,
) -> Result<patchbay::JsonOutput, Problem> {
    let connection = state.host.connections(tenant).open(id).await?;
    let deadline = state.settings.call_timeout;
    // Written straight from the plugin's types into the response body.
    match tokio::time::timeout(deadline, connection.call_json_output(function, input)).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(patchbay::CallError::Deadline(deadline).into()),
    }
}

/// Starts an OAuth2 authorization: send the user to `url`; the provider
/// sends them back to `/oauth/callback`, which finishes it.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/authorize",
    tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    request_body(content = AuthorizeBody, description = "Optional: another redirect URI"),
    responses(
        (status = 200, description = "Where to send the user", body = AuthorizationView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection's plugin has no usable OAuth2 flow", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The plugin's OAuth flow failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn authorize_connection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AuthorizationView>, Problem> {
    let options: AuthorizeBody = if body.iter().all(u8::is_ascii_whitespace) {
        AuthorizeBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Problem::invalid(format!("the body does not fit: {e}")))?
    };
    let redirect_uri = options.redirect_uri.unwrap_or_else(|| state.settings.callback_url());
    let authorization = state
        .host
        .connections(caller.tenant())
        .authorize(&id, &redirect_uri)
        .await?;
    Ok(Json(AuthorizationView {
        url: authorization.url,
        state: authorization.state,
        redirect_uri,
    }))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_connection, list_connections))
        .routes(routes!(get_connection, delete_connection))
        .routes(routes!(update_credentials))
        .routes(routes!(update_settings))
        .routes(routes!(enable_connection))
        .routes(routes!(disable_connection))
        .routes(routes!(test_connection))
        .routes(routes!(call_function))
        .routes(routes!(authorize_connection))
}
