//! `/v1/providers`: what is loaded, each provider's manifest, and its
//! functions with the JSON Schema of their input and output.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use patchbay::{Interface, Plugin, family_name};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;

/// A loaded provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderSummary {
    /// `family/name`, e.g. `shop/woocommerce`.
    pub provider: String,
    /// The family, e.g. `shop`.
    pub family: String,
    /// The name within the family.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// What it does.
    pub description: String,
    /// The plugin's version.
    pub version: String,
    /// The port it exports, e.g. `shop`.
    pub port: String,
    /// The capabilities it exports besides its port, e.g. `webhooks`.
    pub capabilities: Vec<String>,
}

impl From<&Plugin> for ProviderSummary {
    fn from(plugin: &Plugin) -> Self {
        let manifest = plugin.manifest();
        Self {
            provider: plugin.key().to_string(),
            family: family_name(manifest.family).to_string(),
            name: manifest.name.clone(),
            display_name: manifest.display_name.clone(),
            description: manifest.description.clone(),
            version: manifest.version.clone(),
            port: plugin.port().name().to_string(),
            capabilities: plugin.capabilities().iter().map(|i| i.name().to_string()).collect(),
        }
    }
}

/// One exported function and its JSON Schemas.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunctionInfo {
    /// `interface.function`, as calls name it: `shop.get-orders`.
    pub function: String,
    /// The JSON Schema of each argument, by parameter name; a call's body is
    /// an object with these keys.
    #[schema(value_type = Object)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The JSON Schema of the result (`null` when there is none).
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
}

fn plugin(state: &AppState, family: &str, name: &str) -> Result<Arc<Plugin>, Problem> {
    state
        .host
        .provider(&format!("{family}/{name}"))
        .ok_or_else(|| Problem::not_found(format!("no provider {family}/{name} is loaded")))
}

/// Lists the loaded providers.
#[utoipa::path(
    get,
    path = "/v1/providers",
    tag = "providers",
    responses(
        (status = 200, description = "The loaded providers", body = [ProviderSummary]),
    ),
    security(("api_key" = []))
)]
async fn list_providers(State(state): State<AppState>, _caller: Caller) -> Json<Vec<ProviderSummary>> {
    Json(
        state
            .host
            .providers()
            .iter()
            .map(|p| ProviderSummary::from(&**p))
            .collect(),
    )
}

/// One provider's manifest: credentials and settings a connection needs,
/// authentication, allowed hosts, hints.
#[utoipa::path(
    get,
    path = "/v1/providers/{family}/{name}",
    tag = "providers",
    params(("family" = String, Path, description = "e.g. `shop`"), ("name" = String, Path, description = "e.g. `woocommerce`")),
    responses(
        (status = 200, description = "The manifest, as the contract's `plugin-manifest` in JSON", body = Object),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn get_provider(
    State(state): State<AppState>,
    _caller: Caller,
    Path((family, name)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Problem> {
    Ok(Json(plugin(&state, &family, &name)?.manifest_json().clone()))
}

/// A provider's functions with the JSON Schema of their arguments and
/// result: what `POST /v1/connections/{id}/call/{function}` accepts.
#[utoipa::path(
    get,
    path = "/v1/providers/{family}/{name}/functions",
    tag = "providers",
    params(("family" = String, Path, description = "e.g. `shop`"), ("name" = String, Path, description = "e.g. `woocommerce`")),
    responses(
        (status = 200, description = "Every exported function", body = [FunctionInfo]),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn provider_functions(
    State(state): State<AppState>,
    _caller: Caller,
    Path((family, name)): Path<(String, String)>,
) -> Result<Json<Vec<FunctionInfo>>, Problem> {
    let plugin = plugin(&state, &family, &name)?;
    let mut interfaces: Vec<Interface> = vec![Interface::Connector, plugin.port()];
    interfaces.extend(plugin.capabilities());
    let mut out = Vec::new();
    for interface in interfaces {
        let functions: BTreeMap<String, _> = plugin
            .functions(interface)
            .into_iter()
            .map(|f| (f.name.clone(), f))
            .collect();
        for (name, f) in functions {
            out.push(FunctionInfo {
                function: format!("{}.{name}", interface.name()),
                params: f.params,
                result: f.result,
            });
        }
    }
    Ok(Json(out))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_providers))
        .routes(routes!(get_provider))
        .routes(routes!(provider_functions))
}
