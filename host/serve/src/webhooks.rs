//! Webhooks end to end over HTTP:
//!
//! - `POST /v1/webhooks/{token}`: a provider's delivery (no API key: the
//!   token names the connection). Verified by the plugin, stored, then 200
//!   (or the plugin's own answer); 401 when verification fails, 404 for an
//!   unknown token, 413 over the limit, 503 (with `Retry-After`) when it
//!   cannot be taken now. A challenge (a `GET`, or a `POST` the plugin's
//!   handshake recognizes) is answered by the plugin and stores nothing.
//! - `GET|POST /v1/connections/{id}/webhook`: the connection's ingress URL
//!   (made on first use); `POST …/webhook/rotate` replaces its token.
//! - `POST|GET|DELETE /v1/connections/{id}/webhook/registrations`: the
//!   plugin subscribes the ingress URL at the provider, lists, removes.
//! - `GET /v1/events?after=CURSOR&wait=SECONDS`: the tenant's events,
//!   long-polling.
//! - `/v1/endpoints`: where events are pushed, signed per Standard Webhooks.
//! - `/v1/dead-letters` and replay, one or a connection's time range.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay::store::webhooks::{Job, JobState};
use patchbay_jobs::{Inbound, Refused};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::json::Body;
use crate::problem::Problem;

/// A delivery was stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Always true: the delivery is durably stored.
    pub received: bool,
}

/// Receives a provider's webhook delivery for the connection the token names.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{token}",
    tag = "webhooks",
    params(("token" = String, Path, description = "The connection's ingress token (`whk_…`)")),
    request_body(content = String, description = "The provider's delivery, as it sends it", content_type = "*/*"),
    responses(
        (status = 200, description = "Verified and durably stored (or a challenge the plugin answered; then its answer, which may be another 2xx-4xx status)", body = Received),
        (status = 401, description = "The delivery failed verification", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No ingress has this token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Not taken now; send again later", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, Problem> {
    let body = body.map_err(|rejection| {
        let kind = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            state.webhooks.inbox().count_too_large();
            "too-large"
        } else {
            "invalid"
        };
        Problem::new(rejection.status(), kind, rejection.body_text())
    })?;
    let request = Inbound {
        method: "POST".into(),
        query: query.unwrap_or_default(),
        headers: pairs(&headers),
        body: body.to_vec(),
    };
    answer(state.webhooks.inbox().receive(&token, request).await)
}

/// Answers a provider's challenge of the ingress (Meta's `hub.challenge`):
/// only plugins with a handshake answer a GET.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{token}",
    tag = "webhooks",
    params(("token" = String, Path, description = "The connection's ingress token (`whk_…`)")),
    responses(
        (status = 200, description = "The plugin's answer to the challenge (it writes the status, headers and body)", content_type = "*/*"),
        (status = 401, description = "The challenge failed verification", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No ingress has this token", body = Problem, content_type = "application/problem+json"),
        (status = 405, description = "Not a challenge the plugin answers (deliveries are POSTed)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Not answered now; ask again later", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn challenge(
    State(state): State<AppState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let request = Inbound {
        method: "GET".into(),
        query: query.unwrap_or_default(),
        headers: pairs(&headers),
        body: Vec::new(),
    };
    answer(state.webhooks.inbox().receive(&token, request).await)
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect()
}

/// The HTTP answer to what the inbox made of a request.
fn answer(outcome: Result<patchbay_jobs::Received, Refused>) -> Result<Response, Problem> {
    match outcome {
        Ok(patchbay_jobs::Received::Stored { answer: None, .. }) => {
            Ok(Json(Received { received: true }).into_response())
        }
        Ok(
            patchbay_jobs::Received::Stored {
                answer: Some(answer), ..
            }
            | patchbay_jobs::Received::Answered { answer, .. },
        ) => {
            let mut response = Response::new(axum::body::Body::from(answer.body));
            *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            for (name, value) in answer.headers {
                // The inbox kept only valid names and values.
                if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    response.headers_mut().append(name, value);
                }
            }
            Ok(response)
        }
        Err(refused) => {
            let detail = refused.to_string();
            Err(match refused {
                Refused::UnknownToken | Refused::NoWebhooks(_) => {
                    Problem::not_found("no webhook ingress has this token")
                }
                Refused::TooLarge(_) => Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail),
                Refused::Method(_) => Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail),
                Refused::NotVerified(why) => {
                    // Counted and logged, never with the body.
                    tracing::warn!(reason = %why, "a webhook delivery failed verification");
                    Problem::new(StatusCode::UNAUTHORIZED, "unverified", detail)
                }
                Refused::Unavailable(_) => {
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail).retry_after(5)
                }
            })
        }
    }
}

/// A connection's ingress.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ingress {
    /// The URL to give the provider.
    pub url: String,
}

/// The connection's webhook ingress URL, made on first use.
#[utoipa::path(
    get,
    path = "/v1/connections/{id}/webhook",
    tag = "webhooks",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "The ingress URL", body = Ingress),
        (status = 404, description = "No such connection", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn ingress(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Ingress>, Problem> {
    let token = state.host.webhooks(caller.tenant()).ingress_token(&id).await?;
    Ok(Json(Ingress {
        url: state.settings.ingress_url(&token),
    }))
}

/// Replaces the connection's ingress token: the old URL stops working.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/webhook/rotate",
    tag = "webhooks",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "The new ingress URL", body = Ingress),
        (status = 404, description = "No such connection", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Ingress>, Problem> {
    let token = state.host.webhooks(caller.tenant()).rotate_ingress_token(&id).await?;
    Ok(Json(Ingress {
        url: state.settings.ingress_url(&token),
    }))
}

/// What to subscribe.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// The provider's event types (the plugin's defaults when empty).
    #[serde(default)]
    pub events: Vec<String>,
}

/// A subscription at the provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    /// Its id at the provider.
    pub id: String,
    /// Where the provider delivers.
    pub url: String,
    /// The provider's event types.
    pub events: Vec<String>,
    /// Whether it is active.
    pub active: bool,
}

impl From<patchbay::types::Registration> for RegistrationView {
    fn from(r: patchbay::types::Registration) -> Self {
        Self {
            id: r.id,
            url: r.url,
            events: r.events,
            active: r.active,
        }
    }
}

/// Subscribes the connection's ingress URL at the provider, through its plugin.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/webhook/registrations",
    tag = "webhooks",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Subscribed", body = RegistrationView),
        (status = 404, description = "No such connection", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection is disabled or not connected", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The provider refused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<RegisterBody>,
) -> Result<(StatusCode, Json<RegistrationView>), Problem> {
    let token = state.host.webhooks(caller.tenant()).ingress_token(&id).await?;
    let connection = state.host.connections(caller.tenant()).open(&id).await?;
    let registration = connection
        .webhooks()?
        .register(&state.settings.ingress_url(&token), &body.events)
        .await?;
    Ok((StatusCode::CREATED, Json(registration.into())))
}

/// The connection's subscriptions at the provider.
#[utoipa::path(
    get,
    path = "/v1/connections/{id}/webhook/registrations",
    tag = "webhooks",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "The provider's subscriptions", body = [RegistrationView]),
        (status = 404, description = "No such connection", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection is disabled or not connected", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The provider refused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn registrations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<RegistrationView>>, Problem> {
    let connection = state.host.connections(caller.tenant()).open(&id).await?;
    let list = connection.webhooks()?.list_registrations().await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Removes a subscription at the provider.
#[utoipa::path(
    delete,
    path = "/v1/connections/{id}/webhook/registrations/{registration}",
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "The connection's id"),
        ("registration" = String, Path, description = "The subscription's id at the provider"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such connection or subscription", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection is disabled or not connected", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The provider refused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn unregister(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, registration)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let connection = state.host.connections(caller.tenant()).open(&id).await?;
    connection.webhooks()?.unregister(&registration).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where to read from.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The cursor of the last event read (0: from the start).
    #[serde(default)]
    pub after: i64,
    /// At most this many events (1-500, 100 by default).
    pub limit: Option<usize>,
    /// Seconds to wait for an event when there is none yet (0 by default;
    /// at most the service's `events-max-wait`, 60 s unless configured).
    pub wait: Option<u64>,
}

/// One event as the tenant's system reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Its cursor: pass it as `after` to read what follows.
    pub cursor: i64,
    /// The event: `{type, timestamp, data}`, as pushed.
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<EventView>,
    /// The cursor to continue from.
    pub next: i64,
}

/// The tenant's events after a cursor, long-polling.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "webhooks",
    params(EventsQuery),
    responses(
        (status = 200, description = "The events after the cursor (none when the wait ran out)", body = EventPage),
        (status = 422, description = "A query parameter does not fit (`field` names which)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, Problem> {
    let Query(query) = query.map_err(|rejection| Problem::invalid(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(Problem::invalid(format!("limit {limit} is not between 1 and 500")).field("limit"));
    }
    let wait = Duration::from_secs(query.wait.unwrap_or(0)).min(state.settings.events_max_wait);
    let events = state
        .webhooks
        .feed()
        .poll(caller.tenant(), query.after, limit, wait)
        .await?;
    let next = events.last().map_or(query.after, |e| e.seq);
    Ok(Json(EventPage {
        events: events
            .iter()
            .map(|e| EventView {
                cursor: e.seq,
                message: patchbay_jobs::message(e),
            })
            .collect(),
        next,
    }))
}

/// An endpoint to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpointBody {
    /// Where events are POSTed.
    pub url: String,
    /// The event types it takes (`order.created`, `order.*`); all when empty.
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// An endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    /// Its id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it takes; all when empty.
    pub event_types: Vec<String>,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

impl From<patchbay::EndpointInfo> for EndpointView {
    fn from(e: patchbay::EndpointInfo) -> Self {
        Self {
            id: e.id,
            url: e.url,
            event_types: e.event_types,
            created_at_ms: e.created_at_ms,
        }
    }
}

/// An endpoint just created, with its signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    /// The Standard Webhooks signing secret (`whsec_…`).
    pub secret: String,
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: EndpointView,
}

/// Adds an endpoint that the tenant's events are pushed to.
#[utoipa::path(
    post,
    path = "/v1/endpoints",
    tag = "webhooks",
    request_body = NewEndpointBody,
    responses((status = 201, description = "Created, with its signing secret", body = CreatedEndpoint)),
    security(("api_key" = []))
)]
async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewEndpointBody>,
) -> Result<(StatusCode, Json<CreatedEndpoint>), Problem> {
    let created = state
        .host
        .webhooks(caller.tenant())
        .create_endpoint(&body.url, body.event_types)
        .await
        .map_err(|e| match e {
            patchbay::EndpointError::Invalid(why) => Problem::invalid(why).field("url"),
            patchbay::EndpointError::Connections(e) => e.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            secret: created.secret,
            endpoint: created.info.into(),
        }),
    ))
}

/// The tenant's endpoints.
#[utoipa::path(
    get,
    path = "/v1/endpoints",
    tag = "webhooks",
    responses((status = 200, description = "Oldest first", body = [EndpointView])),
    security(("api_key" = []))
)]
async fn list_endpoints(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<EndpointView>>, Problem> {
    let endpoints = state.host.webhooks(caller.tenant()).endpoints().await?;
    Ok(Json(endpoints.into_iter().map(Into::into).collect()))
}

/// Removes an endpoint; its queued pushes go with it.
#[utoipa::path(
    delete,
    path = "/v1/endpoints/{id}",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state.host.webhooks(caller.tenant()).delete_endpoint(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no endpoint {id:?}")))
    }
}

/// A parse or push that ran out of attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetter {
    /// Its id (to replay it).
    pub id: i64,
    /// `parse` (a delivery) or `push` (an event to an endpoint).
    pub kind: String,
    /// The connection.
    pub connection: String,
    /// The event's cursor, for a push.
    pub event: Option<i64>,
    /// The endpoint, for a push.
    pub endpoint: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub last_error: Option<String>,
    /// The last HTTP status of a push.
    pub last_status: Option<u16>,
    /// When it died, Unix milliseconds.
    pub updated_at_ms: i64,
}

impl From<Job> for DeadLetter {
    fn from(job: Job) -> Self {
        Self {
            id: job.id,
            kind: job.kind.name().to_string(),
            connection: job.connection_id,
            event: job.event_seq,
            endpoint: job.endpoint_id,
            attempts: job.attempts,
            last_error: job.last_error,
            last_status: job.last_status,
            updated_at_ms: job.updated_at_ms,
        }
    }
}

/// The tenant's dead letters, newest first.
#[utoipa::path(
    get,
    path = "/v1/dead-letters",
    tag = "webhooks",
    responses((status = 200, description = "Newest first (at most 500)", body = [DeadLetter])),
    security(("api_key" = []))
)]
async fn dead_letters(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<DeadLetter>>, Problem> {
    let jobs = state
        .host
        .webhook_store()
        .jobs(caller.tenant(), JobState::Dead, 500)
        .await?;
    Ok(Json(jobs.into_iter().map(Into::into).collect()))
}

/// Replays one dead letter: it is tried again now, attempts reset.
#[utoipa::path(
    post,
    path = "/v1/dead-letters/{id}/replay",
    tag = "webhooks",
    params(("id" = String, Path, description = "The dead letter's id")),
    responses(
        (status = 202, description = "Queued again"),
        (status = 404, description = "No such dead letter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn replay_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(Problem::not_found(format!("no dead letter {id:?}")));
    };
    if state
        .host
        .webhook_store()
        .replay_job(caller.tenant(), id, patchbay::now_ms())
        .await?
    {
        state.webhooks.wake();
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(Problem::not_found(format!("no dead letter {id}")))
    }
}

/// Which events to push again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// From (Unix milliseconds, inclusive).
    pub from_ms: i64,
    /// To (Unix milliseconds, exclusive); now when absent.
    pub to_ms: Option<i64>,
}

/// How many pushes were queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Pushes queued again.
    pub queued: u64,
}

/// Pushes again every event of a connection stored in a time range, to
/// every endpoint that takes it, whatever became of earlier pushes.
#[utoipa::path(
    post,
    path = "/v1/connections/{id}/events/replay",
    tag = "webhooks",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = ReplayBody,
    responses((status = 202, description = "Queued again", body = Replayed)),
    security(("api_key" = []))
)]
async fn replay_range(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ReplayBody>,
) -> Result<(StatusCode, Json<Replayed>), Problem> {
    let now = patchbay::now_ms();
    let to = body.to_ms.unwrap_or(now + 1);
    if to <= body.from_ms {
        return Err(Problem::invalid("to_ms must be after from_ms").field("to_ms"));
    }
    let queued = state
        .host
        .webhook_store()
        .replay_events(caller.tenant(), &id, body.from_ms, to, now)
        .await?;
    state.webhooks.wake();
    Ok((StatusCode::ACCEPTED, Json(Replayed { queued })))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive, challenge))
        .routes(routes!(ingress))
        .routes(routes!(rotate))
        .routes(routes!(register, registrations))
        .routes(routes!(unregister))
        .routes(routes!(events))
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(delete_endpoint))
        .routes(routes!(dead_letters))
        .routes(routes!(replay_one))
        .routes(routes!(replay_range))
}
