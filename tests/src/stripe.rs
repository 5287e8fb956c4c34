//! A Stripe-shaped mock for what localstripe does not implement: hosted
//! checkout sessions (<https://docs.stripe.com/api/checkout/sessions/create>),
//! webhook endpoints (<https://docs.stripe.com/api/webhook_endpoints>),
//! payment intents listed by creation time, and Stripe's request semantics:
//! `Authorization: Bearer sk_…`, form-encoded bodies with bracketed keys,
//! a `Request-Id` on every answer, `Idempotency-Key` replays (the same key
//! and parameters answer the first result again with `Idempotent-Replayed:
//! true`; other parameters are an `idempotency_error`,
//! <https://docs.stripe.com/api/idempotent_requests>), the error object
//! `{"error": {"type", "code", "message", "param"}}`, and 429s
//! (`rate_limit`). And the signing of webhook events as Stripe signs them
//! (<https://docs.stripe.com/webhooks#verify-manually>).

// Handlers return ready responses as their early-exit errors, as axum does.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use crate::mock::{RequestLog, RunningServer, SeenRequest};

/// The secret key the mock accepts.
pub const SECRET_KEY: &str = "sk_test_51MockPatchbayKey";

/// The first answer to an idempotency key: its parameters, status and body.
type Replay = (Vec<(String, String)>, u16, Value);

#[derive(Default)]
struct Inner {
    next: u64,
    /// Idempotency key → (parameters, status, body) of the first answer.
    replays: HashMap<String, Replay>,
    sessions: Vec<Value>,
    endpoints: Vec<Value>,
    intents: Vec<Value>,
    /// Answers still to throttle with a 429.
    throttle: u32,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    log: RequestLog,
}

/// A running Stripe-shaped mock.
pub struct MockStripe {
    server: RunningServer,
    shared: Shared,
}

impl MockStripe {
    /// Starts the mock on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let shared = Shared {
            inner: Arc::default(),
            log: RequestLog::default(),
        };
        let router = Router::new()
            .route("/v1/balance", get(balance))
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/payment_intents", get(list_intents))
            .route("/v1/webhook_endpoints", get(list_endpoints))
            .route("/v1/webhook_endpoints/{id}", delete(delete_endpoint))
            .with_state(shared.clone());
        Ok(Self {
            server: RunningServer::start(router, 0).await?,
            shared,
        })
    }

    /// The `api_base` setting for the adapter.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests seen, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.log.all()
    }

    /// The checkout sessions created.
    pub fn sessions(&self) -> Vec<Value> {
        self.shared.inner.lock().expect("mock state").sessions.clone()
    }

    /// The next `n` requests are answered 429.
    pub fn throttle(&self, n: u32) {
        self.shared.inner.lock().expect("mock state").throttle = n;
    }

    /// Adds a webhook endpoint, as the Dashboard would.
    pub fn add_endpoint(&self, url: &str, events: &[&str]) -> String {
        let mut inner = self.shared.inner.lock().expect("mock state");
        inner.next += 1;
        let id = format!("we_mock{:08}", inner.next);
        inner.endpoints.push(json!({
            "id": id, "object": "webhook_endpoint", "url": url, "enabled_events": events,
            "status": "enabled", "api_version": "2025-10-29.clover", "livemode": false,
        }));
        id
    }

    /// The webhook endpoints left.
    pub fn endpoints(&self) -> Vec<Value> {
        self.shared.inner.lock().expect("mock state").endpoints.clone()
    }

    /// Adds a payment intent created at `created` (Unix seconds).
    pub fn add_intent(&self, amount: i64, currency: &str, created: i64) -> String {
        let mut inner = self.shared.inner.lock().expect("mock state");
        inner.next += 1;
        let id = format!("pi_mock{:08}", inner.next);
        inner.intents.push(json!({
            "id": id, "object": "payment_intent", "amount": amount, "amount_received": amount,
            "currency": currency, "status": "succeeded", "created": created,
            "payment_method_types": ["card"], "latest_charge": null, "metadata": {},
        }));
        id
    }
}

/// `Stripe-Signature` for `body` at `timestamp`, signed with each secret
/// (two while a secret is rolled).
pub fn signature(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        header.push_str(&format!(",v1={}", hex::encode(mac.finalize().into_bytes())));
    }
    header
}

/// An event as Stripe sends one to an endpoint.
pub fn event(id: &str, kind: &str, created: i64, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "object": "event", "api_version": "2025-10-29.clover", "created": created,
        "type": kind, "livemode": false, "pending_webhooks": 1,
        "request": { "id": "req_mockrequest", "idempotency_key": null },
        "data": { "object": object },
    }))
    .expect("JSON serializes")
}

fn request_id(inner: &mut Inner) -> String {
    inner.next += 1;
    format!("req_mock{:012}", inner.next)
}

fn answer(status: u16, body: Value, request_id: &str) -> Response {
    let mut response = (StatusCode::from_u16(status).expect("a status"), axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert("request-id", request_id.parse().expect("ASCII"));
    response
}

fn error(status: u16, kind: &str, code: Option<&str>, message: &str, param: Option<&str>, id: &str) -> Response {
    let mut error = json!({ "type": kind, "message": message });
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    answer(status, json!({ "error": error }), id)
}

/// Logs the request, checks the key and the throttle; the request id.
fn admit(shared: &Shared, method: &Method, path: &str, query: &str, headers: &HeaderMap) -> Result<String, Response> {
    shared.log.record_parts(method, path, query, headers);
    let mut inner = shared.inner.lock().expect("mock state");
    let id = request_id(&mut inner);
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if key != SECRET_KEY {
        return Err(error(
            401,
            "invalid_request_error",
            None,
            "Invalid API Key provided: sk_test_****",
            None,
            &id,
        ));
    }
    if inner.throttle > 0 {
        inner.throttle -= 1;
        return Err(error(
            429,
            "invalid_request_error",
            Some("rate_limit"),
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            None,
            &id,
        ));
    }
    Ok(id)
}

async fn balance(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    match admit(&shared, &Method::GET, "/v1/balance", "", &headers) {
        Ok(id) => answer(
            200,
            json!({"object": "balance", "livemode": false, "available": [{"amount": 0, "currency": "eur"}], "pending": []}),
            &id,
        ),
        Err(refused) => refused,
    }
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn create_session(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let id = match admit(&shared, &Method::POST, "/v1/checkout/sessions", "", &headers) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let params = form(&body);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut inner = shared.inner.lock().expect("mock state");
    if let Some(key) = &key
        && let Some((first, status, body)) = inner.replays.get(key)
    {
        if *first != params {
            return error(
                400,
                "idempotency_error",
                None,
                &format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                ),
                None,
                &id,
            );
        }
        let mut response = answer(*status, body.clone(), &id);
        response
            .headers_mut()
            .insert("idempotent-replayed", "true".parse().expect("ASCII"));
        return response;
    }
    for required in [
        "success_url",
        "line_items[0][price_data][currency]",
        "line_items[0][price_data][unit_amount]",
    ] {
        if field(&params, required).is_none_or(str::is_empty) {
            return error(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                &format!("Missing required param: {required}."),
                Some(required),
                &id,
            );
        }
    }
    if field(&params, "mode") != Some("payment") {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_invalid"),
            "Invalid mode",
            Some("mode"),
            &id,
        );
    }
    let Some(unit) = field(&params, "line_items[0][price_data][unit_amount]").and_then(|a| a.parse::<i64>().ok())
    else {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_invalid_integer"),
            "Invalid integer",
            Some("line_items[0][price_data][unit_amount]"),
            &id,
        );
    };
    let quantity = field(&params, "line_items[0][quantity]")
        .and_then(|q| q.parse::<i64>().ok())
        .unwrap_or(1);
    inner.next += 1;
    let session_id = format!("cs_test_mock{:08}", inner.next);
    let metadata: serde_json::Map<String, Value> = params
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_string(), json!(v))))
        .collect();
    let session = json!({
        "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
        "payment_status": "unpaid", "amount_total": unit * quantity, "amount_subtotal": unit * quantity,
        "currency": field(&params, "line_items[0][price_data][currency]"),
        "client_reference_id": field(&params, "client_reference_id"),
        "customer_email": field(&params, "customer_email"),
        "success_url": field(&params, "success_url"), "cancel_url": field(&params, "cancel_url"),
        "metadata": metadata, "created": 1_764_496_800, "expires_at": 1_764_583_200,
        "url": format!("https://checkout.stripe.com/c/pay/{session_id}"), "livemode": false,
        "payment_intent": null,
    });
    inner.sessions.push(session.clone());
    if let Some(key) = key {
        inner.replays.insert(key, (params, 200, session.clone()));
    }
    answer(200, session, &id)
}

async fn list_intents(State(shared): State<Shared>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let query = query.unwrap_or_default();
    let id = match admit(&shared, &Method::GET, "/v1/payment_intents", &query, &headers) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let params = form(query.as_bytes());
    let number = |name: &str| field(&params, name).and_then(|v| v.parse::<i64>().ok());
    let limit = number("limit").unwrap_or(10).clamp(1, 100) as usize;
    let inner = shared.inner.lock().expect("mock state");
    // Newest first, as Stripe lists.
    let mut intents: Vec<&Value> = inner
        .intents
        .iter()
        .filter(|i| number("created[gte]").is_none_or(|gte| i["created"].as_i64().unwrap_or(0) >= gte))
        .filter(|i| number("created[lte]").is_none_or(|lte| i["created"].as_i64().unwrap_or(0) <= lte))
        .collect();
    intents.sort_by_key(|i| std::cmp::Reverse(i["created"].as_i64()));
    let start = match field(&params, "starting_after") {
        Some(after) => match intents.iter().position(|i| i["id"] == after) {
            Some(at) => at + 1,
            None => {
                return error(
                    400,
                    "invalid_request_error",
                    Some("resource_missing"),
                    &format!("No such payment_intent: '{after}'"),
                    Some("starting_after"),
                    &id,
                );
            }
        },
        None => 0,
    };
    let page: Vec<Value> = intents.iter().skip(start).take(limit).map(|v| (*v).clone()).collect();
    let has_more = start + page.len() < intents.len();
    answer(
        200,
        json!({"object": "list", "url": "/v1/payment_intents", "has_more": has_more, "data": page}),
        &id,
    )
}

async fn list_endpoints(State(shared): State<Shared>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let query = query.unwrap_or_default();
    match admit(&shared, &Method::GET, "/v1/webhook_endpoints", &query, &headers) {
        Ok(id) => {
            let endpoints = shared.inner.lock().expect("mock state").endpoints.clone();
            answer(
                200,
                json!({"object": "list", "url": "/v1/webhook_endpoints", "has_more": false, "data": endpoints}),
                &id,
            )
        }
        Err(refused) => refused,
    }
}

async fn delete_endpoint(State(shared): State<Shared>, Path(endpoint): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v1/webhook_endpoints/{endpoint}");
    let id = match admit(&shared, &Method::DELETE, &path, "", &headers) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let mut inner = shared.inner.lock().expect("mock state");
    let before = inner.endpoints.len();
    inner.endpoints.retain(|e| e["id"] != endpoint.as_str());
    if inner.endpoints.len() == before {
        return error(
            404,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such webhook endpoint: '{endpoint}'"),
            Some("id"),
            &id,
        );
    }
    answer(
        200,
        json!({"id": endpoint, "object": "webhook_endpoint", "deleted": true}),
        &id,
    )
}
