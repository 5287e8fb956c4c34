//! `/healthz` (the process answers), `/readyz` (the store answers and
//! plugins are loaded), `/metrics` (the host's registry, OpenMetrics text).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::Problem;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Providers loaded.
    pub providers: usize,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Up", body = Health)))]
async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        providers: state.host.providers().len(),
    })
}

/// The service can serve: the store answers and plugins are loaded.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The store does not answer, or no plugin is loaded", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    if let Err(error) = state.host.store_ready().await {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            format!("the store does not answer: {error}"),
        )
        .retry_after(5));
    }
    let providers = state.host.providers().len();
    if providers == 0 {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "no plugin is loaded: put .wasm plugins in the plugins directory",
        )
        .retry_after(5));
    }
    Ok(Json(Health {
        status: "ok".into(),
        providers,
    }))
}

/// The host's metrics for a Prometheus scrape: calls, outbound requests by
/// status, retries, rate-limit waits, latencies, circuit state; webhook
/// deliveries by outcome, the inbox depth, the retry backlog, dead letters.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String))
)]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.host.metrics_text();
    // The webhook runtime's gauges and counters go before the end marker.
    match state.webhooks.status().await {
        Ok(status) => {
            let end = text.rfind("# EOF").unwrap_or(text.len());
            text.insert_str(end, &status.metrics_text());
        }
        Err(error) => tracing::warn!(%error, "the webhook backlog cannot be read for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}
