//! The pipeline's behaviours tested on the pipeline itself, with no guest
//! and no WebAssembly: a real upstream on loopback, a real HTTP client.
//! (The integration tests prove that both of the sandbox's doors reach it.)

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patchbay_outbound::{
    AuthScheme, BudgetRefusal, CircuitConfig, CostBudget, HostGrant, HostPattern, HttpLimits, OutboundError,
    OutboundMetrics, OutboundPolicy, OutboundRequest, Pipeline, RateQuota, Reflections, RequestContext, RetryMode,
    RetryPolicy, TimeoutPhase, Timeouts,
};
use patchbay_secrets::Credentials;
use patchbay_store::MemoryStore;
use url::Url;

const TOKEN: &str = "tok-below-the-wasm-line";

#[derive(Clone, Default)]
struct Upstream {
    hits: Arc<AtomicU32>,
    /// What `/echo` received, request by request, before any scrubbing.
    seen: Arc<Mutex<Vec<String>>>,
    /// `/graphql`'s cost budget: units available, and when.
    budget: Arc<Mutex<Option<(f64, Instant)>>>,
    /// Queries `/graphql` ran (not throttled).
    ran: Arc<AtomicU32>,
    /// Event streams `/events` finished sending.
    streams_done: Arc<AtomicU32>,
}

impl Upstream {
    fn saw(&self, text: &str) -> bool {
        self.seen.lock().unwrap().iter().any(|seen| seen.contains(text))
    }
}

async fn status(State(up): State<Upstream>, Path((key, code)): Path<(String, u16)>) -> Response {
    let _ = key;
    up.hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::from_u16(code).unwrap(), "status").into_response()
}

async fn too_many_then_ok(State(up): State<Upstream>, Path(retry_after): Path<String>) -> Response {
    if up.hits.fetch_add(1, Ordering::SeqCst) == 0 {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after)],
            "slow down",
        )
            .into_response();
    }
    "ok".into_response()
}

/// A GraphQL endpoint with a cost budget as Shopify's Admin API keeps one:
/// each query costs 50 of 100, restored at 100 per second; over budget, an
/// HTTP 200 with a `THROTTLED` error that runs nothing. `/graphql/{n}`
/// starts with `n` available.
async fn graphql(State(up): State<Upstream>, Path(start): Path<f64>, body: String) -> Response {
    let hits = up.hits.fetch_add(1, Ordering::SeqCst);
    up.seen.lock().unwrap().push(body);
    let now = Instant::now();
    let mut budget = up.budget.lock().unwrap();
    let (available, at) = budget.get_or_insert((start, now));
    let restored = (*available + now.duration_since(*at).as_secs_f64() * 100.0).min(100.0);
    let status = |available: f64| {
        serde_json::json!({"requestedQueryCost": 50, "throttleStatus":
            {"maximumAvailable": 100.0, "currentlyAvailable": available, "restoreRate": 100.0}})
    };
    if restored < 50.0 {
        *budget = Some((restored, now));
        return axum::Json(serde_json::json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": status(restored)},
        }))
        .into_response();
    }
    *budget = Some((restored - 50.0, now));
    up.ran.fetch_add(1, Ordering::SeqCst);
    axum::Json(serde_json::json!({
        "data": {"hit": hits},
        "extensions": {"cost": status(restored - 50.0)},
    }))
    .into_response()
}

async fn redirect(Path(to): Path<String>) -> Response {
    let to = to.replace('!', "/");
    (StatusCode::FOUND, [("location", to)], "").into_response()
}

/// A 307: the method and the body go along.
async fn keep_method(Path(to): Path<String>) -> Response {
    let to = to.replace('!', "/");
    (StatusCode::TEMPORARY_REDIRECT, [("location", to)], "").into_response()
}

/// Records the headers and the body it received, answers "ok".
async fn login(State(up): State<Upstream>, headers: HeaderMap, body: String) -> &'static str {
    let mut out = String::new();
    for (name, value) in &headers {
        out.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
    }
    out.push_str(&body);
    up.seen.lock().unwrap().push(out);
    "ok"
}

async fn echo(State(up): State<Upstream>, uri: Uri, headers: HeaderMap) -> String {
    let mut out = format!("{uri}\n");
    for (name, value) in &headers {
        out.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
    }
    up.seen.lock().unwrap().push(out.clone());
    out
}

/// A byte of body every `ms` milliseconds, `bytes` in all.
async fn trickle(Path((bytes, ms)): Path<(usize, u64)>) -> Response {
    let stream = futures::stream::unfold(0usize, move |sent| async move {
        if sent == bytes {
            return None;
        }
        if sent > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Some((Ok::<_, std::io::Error>(vec![b'.']), sent + 1))
    });
    axum::body::Body::from_stream(stream).into_response()
}

/// Answers after `ms` milliseconds.
async fn slow(Path(ms): Path<u64>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "late"
}

/// Reads a body as it arrives and records its length, its SHA-256 and the
/// `content-length` and `x-amz-content-sha256` it came with; with
/// `fail_first` 1, the first upload is answered 503 once read.
async fn upload(
    State(up): State<Upstream>,
    Path(fail_first): Path<u8>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    use futures::StreamExt as _;
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    let mut len = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        len += chunk.len();
        digest.update(&chunk);
    }
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    up.seen.lock().unwrap().push(format!(
        "{len} {} {} {}",
        hex::encode(digest.finalize()),
        header("content-length"),
        header("x-amz-content-sha256")
    ));
    if fail_first == 1 && up.hits.fetch_add(1, Ordering::SeqCst) == 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    }
    "stored".into_response()
}

async fn big(Path(bytes): Path<usize>) -> Vec<u8> {
    vec![b'x'; bytes]
}

/// Server-sent events, one every `ms` milliseconds, `count` in all; the
/// third echoes the connection's token, split across two writes.
async fn events(State(up): State<Upstream>, Path((count, ms)): Path<(usize, u64)>) -> Response {
    let stream = futures::stream::unfold(0usize, move |sent| {
        let up = up.clone();
        async move {
            if sent == count {
                up.streams_done.fetch_add(1, Ordering::SeqCst);
                return None;
            }
            if sent > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let event = match sent {
                2 => format!("data: {}", &TOKEN[..5]),
                3 => format!("{} echoed\n\n", &TOKEN[5..]),
                n => format!("data: event {n}\n\n"),
            };
            Some((Ok::<_, std::io::Error>(event.into_bytes()), sent + 1))
        }
    });
    (
        [("content-type", "text/event-stream")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

async fn start() -> (String, Upstream) {
    let upstream = Upstream::default();
    let app = Router::new()
        .route("/status/{key}/{code}", get(status))
        .route("/429/{retry_after}", get(too_many_then_ok))
        .route("/redirect/{to}", get(redirect))
        .route("/echo", get(echo))
        .route("/echo/{*rest}", get(echo))
        .route("/big/{bytes}", get(big))
        .route("/trickle/{bytes}/{ms}", get(trickle))
        .route("/slow/{ms}", get(slow))
        .route("/events/{count}/{ms}", get(events))
        .route("/login", axum::routing::post(login))
        .route("/keep-method/{to}", axum::routing::post(keep_method))
        .route("/graphql/{start}", axum::routing::post(graphql))
        .route("/upload/{fail_first}", axum::routing::put(upload))
        .with_state(upstream.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, upstream)
}

fn pipeline(allow_private_network: bool) -> Pipeline {
    pipeline_with(HttpLimits {
        max_response_bytes: 64 * 1024,
        allow_private_network,
        ..HttpLimits::default()
    })
}

fn pipeline_with(limits: HttpLimits) -> Pipeline {
    let store = Arc::new(MemoryStore::new());
    Pipeline::new(
        limits,
        CircuitConfig::default(),
        store.clone(),
        store,
        Arc::new(OutboundMetrics::unregistered()),
    )
    .unwrap()
}

fn context(allowed: &[&str]) -> RequestContext {
    let patterns = allowed.iter().map(|p| HostPattern::parse(p).unwrap()).collect();
    RequestContext {
        provider: "other/test".into(),
        connection_id: "c1".into(),
        call_id: "call-1".into(),
        grant: Arc::new(HostGrant::new(patterns, None)),
        credentials: Arc::new(Credentials::from([("token", TOKEN)])),
        reflections: Reflections::new([TOKEN]),
        deadline: Instant::now() + Duration::from_secs(20),
        retry: Arc::new(RetryPolicy {
            max_retries: 3,
            ..RetryPolicy::default()
        }),
        rate_quota: None,
        rate_key: "other/test|c1".into(),
        credentials_fingerprint: "fp".into(),
        oauth: None,
        sigv4_services: None,
        forwarding_headers: Arc::from(Vec::new()),
        cost_budget: None,
    }
}

fn get_request(url: &str) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::GET,
        url: Url::parse(url).unwrap(),
        headers: Vec::new(),
        body: None,
        auth: None,
        timeouts: Timeouts::default(),
        retry: RetryMode::Automatic,
        idempotency_key: None,
    }
}

mod bodies;
mod policy;
mod retries;
