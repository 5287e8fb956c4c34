//! The operators' dashboard: `/` is a self-contained page that reads
//! `/v1/admin/overview` with an admin key — providers and their
//! capabilities, each tenant's connections with their enabled, connected and
//! circuit state and last failure, and the last calls with their outcome and
//! latency. Nothing is fetched from elsewhere.

use std::collections::BTreeSet;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Admin;
use crate::connections::ConnectionView;
use crate::problem::Problem;
use crate::providers::ProviderSummary;
use crate::recent::CallRecord;

const PAGE: &str = include_str!("dashboard.html");

/// A tenant and its connections.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// The tenant.
    pub tenant: String,
    /// Its connections.
    pub connections: Vec<ConnectionView>,
}

/// What the dashboard shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// The loaded providers.
    pub providers: Vec<ProviderSummary>,
    /// Plugin files that did not load, and why.
    pub load_failures: Vec<String>,
    /// Every tenant that has an API key, with its connections.
    pub tenants: Vec<TenantView>,
    /// The last calls, newest first.
    pub recent_calls: Vec<CallRecord>,
    /// Webhooks: the inbox depth, deliveries by outcome, the retry
    /// backlog, dead letters.
    #[schema(value_type = Object)]
    pub webhooks: patchbay_jobs::Status,
}

/// Everything the dashboard shows, for operators.
#[utoipa::path(
    get,
    path = "/v1/admin/overview",
    tag = "admin",
    responses(
        (status = 200, description = "Providers, tenants' connections, recent calls", body = Overview),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn overview(State(state): State<AppState>, _admin: Admin) -> Result<Json<Overview>, Problem> {
    let tenants: BTreeSet<String> = state
        .host
        .api_keys()
        .list()
        .await?
        .into_iter()
        .map(|k| k.tenant)
        .collect();
    let mut views = Vec::new();
    for tenant in tenants {
        let connections = state.host.connections(tenant.clone()).list().await?;
        views.push(TenantView {
            tenant,
            connections: connections.into_iter().map(Into::into).collect(),
        });
    }
    Ok(Json(Overview {
        providers: state
            .host
            .providers()
            .iter()
            .map(|p| ProviderSummary::from(&**p))
            .collect(),
        load_failures: state.host.load_failures(),
        tenants: views,
        recent_calls: state.recent.newest_first(),
        webhooks: state.webhooks.status().await?,
    }))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(overview))
}

pub(crate) fn page() -> Router<AppState> {
    Router::new().route("/", get(|| async { Html(PAGE) }))
}
