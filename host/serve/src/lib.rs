//! # patchbay-serve
//!
//! `patchbay serve`: the Patchbay host as a multi-tenant HTTP service, over
//! the embedder API (the library knows nothing of HTTP serving).
//!
//! - `/v1/providers`, `/v1/connections` (per tenant, by API key), calls of
//!   any exported function through the JSON bridge, OAuth2 authorization
//!   and `/oauth/callback`, `/v1/admin/keys` for operators;
//! - `/healthz`, `/readyz`, `/metrics`;
//! - `/openapi.json` (OpenAPI 3.1, generated from the handlers) and `/docs`;
//! - errors as `application/problem+json` ([`problem`] has the table);
//! - a body limit (413), a deadline per call (504), bounded calls in flight
//!   per tenant and overall (429/503 with `Retry-After`), an access log with
//!   a request id, and a graceful shutdown.
//!
//! ```no_run
//! # async fn demo(host: patchbay::Host) -> std::io::Result<()> {
//! let settings = patchbay_serve::Settings::default();
//! let listener = tokio::net::TcpListener::bind(settings.listen).await?;
//! patchbay_serve::serve(host, settings, listener, patchbay_serve::shutdown_signal()).await
//! # }
//! ```
#![deny(missing_docs)]
// Handlers answer a `Problem` by value on their error path, where its size
// (a few strings) costs nothing that matters.
#![allow(clippy::result_large_err)]

mod auth;
mod config;
mod connections;
mod dashboard;
mod docs;
mod health;
mod json;
mod keys;
mod limits;
mod oauth;
pub mod problem;
mod providers;
mod recent;
mod webhooks;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use patchbay::Host;
use tracing::Instrument as _;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

pub use config::{ConfigError, ConfigFile, RateLimit, Settings};
use limits::InFlight;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub host: Host,
    pub settings: Arc<Settings>,
    pub in_flight: Arc<InFlight>,
    pub recent: Arc<recent::RecentCalls>,
    pub webhooks: patchbay_jobs::Runtime,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Patchbay",
        description = "Integration connectors as a service: providers, per-tenant connections, calls of any plugin function with JSON in and out, OAuth2 authorization. Errors are `application/problem+json`; every `/v1` endpoint needs an API key (`Authorization: Bearer <key>`).",
        license(name = "Apache-2.0 OR MIT")
    ),
    modifiers(&ApiKeyScheme),
    tags(
        (name = "providers", description = "The loaded plugins"),
        (name = "connections", description = "A tenant's stored connections"),
        (name = "calls", description = "Any exported function, JSON in and out"),
        (name = "oauth", description = "The providers' redirect back"),
        (name = "webhooks", description = "Providers' deliveries in; events out: pulled, or pushed signed per Standard Webhooks"),
        (name = "admin", description = "Operator endpoints (an admin key)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct ApiKeyScheme;

impl utoipa::Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `patchbay keys create`"))
                    .build(),
            ),
        );
    }
}

/// What every operation of a kind may also answer, said once here rather
/// than on every handler: an operation that needs an API key, that there was
/// none or a bad one (401); one that reads a JSON body, that the body is not
/// JSON (400), too large (413), not sent as JSON (415), or does not fit (422).
struct BodyProblems;

impl utoipa::Modify for BodyProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    operation
                        .responses
                        .responses
                        .entry("401".to_string())
                        .or_insert_with(|| problem("No API key, or not a valid one").into());
                }
            }
            for operation in [&mut item.post, &mut item.put, &mut item.patch].into_iter().flatten() {
                if operation.request_body.is_none() {
                    continue;
                }
                for (status, description) in [
                    ("400", "The body is not JSON"),
                    ("413", "The body is over the limit"),
                    ("415", "The body is not sent as JSON"),
                    ("422", "The body does not fit (`field` names where)"),
                ] {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem(description).into());
                }
            }
        }
    }
}

/// The service's router and its OpenAPI document.
pub fn router(host: Host, settings: Settings) -> (Router, utoipa::openapi::OpenApi) {
    let webhooks = patchbay_jobs::Runtime::start(host.clone(), settings.webhooks.clone())
        .expect("the webhook runtime starts (its HTTP client builds)");
    let state = AppState {
        webhooks,
        in_flight: Arc::new(InFlight::new(settings.max_in_flight, settings.max_in_flight_per_tenant)),
        recent: Arc::new(recent::RecentCalls::new(200)),
        settings: Arc::new(settings),
        host,
    };
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(providers::routes())
        .merge(connections::routes())
        .merge(oauth::routes())
        .merge(keys::routes())
        .merge(webhooks::routes())
        .merge(health::routes())
        .merge(dashboard::routes())
        .split_for_parts();
    utoipa::Modify::modify(&BodyProblems, &mut openapi);
    let document = Arc::new(openapi.to_pretty_json().expect("the OpenAPI document serializes"));
    let router = router
        .merge(docs::routes(document))
        .merge(dashboard::page())
        .fallback(|| async { problem::Problem::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(middleware::from_fn(access_log))
        .with_state(state);
    (router, openapi)
}

/// Tags each request with an id (`X-Request-Id`, kept when the client sends
/// a sane one), runs it in a span that the call's spans nest under, and logs
/// one line when it is answered.
async fn access_log(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert("x-request-id", value);
    }
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let span = tracing::info_span!("request", request_id = %id, %method, %path, tenant = tracing::field::Empty);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            target: "patchbay::access",
            status,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "{method} {path} {status}"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Serves until `shutdown` resolves, then stops accepting, lets the calls in
/// flight finish within the grace period, and returns.
pub async fn serve(
    host: Host,
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = settings.shutdown_grace;
    let (router, _) = router(host, settings);
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; waiting for the calls in flight");
        let _ = stopping_tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(graceful);
    let deadline = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(grace_seconds = grace.as_secs(), "calls still in flight after the grace period: stopping them");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// How long a call may take at most, by default.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
