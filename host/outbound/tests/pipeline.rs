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

#[tokio::test]
async fn headers_the_host_derives_are_refused_before_anything_is_sent() {
    let (url, up) = start().await;
    for (name, value) in [
        ("Host", "admin.internal"),
        ("content-length", "0"),
        ("Transfer-Encoding", "chunked"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("Proxy-Authorization", "Basic x"),
    ] {
        let mut request = get_request(&format!("{url}/status/forged/200"));
        request.headers.push((name.to_string(), value.to_string()));
        match pipeline(true).send(&context(&[&url]), request).await {
            Err(OutboundError::InvalidRequest(why)) => assert!(why.contains(name), "{why}"),
            other => panic!("{name}: expected invalid-request, got {other:?}"),
        }
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 0, "nothing reached the upstream");
    let echoed = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/echo")))
        .await
        .unwrap();
    let host_line = format!("host: {}", url.trim_start_matches("http://"));
    assert!(
        String::from_utf8_lossy(&echoed.body).contains(&host_line),
        "the host derives Host from the URL"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let (url, up) = start().await;
    let started = Instant::now();
    let response = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/429/1")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(up.hits.load(Ordering::SeqCst), 2, "one refusal, one retry");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited the second it was asked to"
    );
}

fn shopify_budget() -> CostBudget {
    CostBudget {
        available: "/extensions/cost/throttleStatus/currentlyAvailable".into(),
        restore_rate: "/extensions/cost/throttleStatus/restoreRate".into(),
        cost: "/extensions/cost/requestedQueryCost".into(),
        refusal: Some(BudgetRefusal {
            items: "/errors".into(),
            code: "/extensions/code".into(),
            value: "THROTTLED".into(),
        }),
    }
}

fn graphql_request(url: &str, query: &str) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::POST,
        body: Some(query.as_bytes().to_vec().into()),
        ..get_request(url)
    }
}

#[tokio::test]
async fn a_cost_budget_in_the_body_paces_the_connection_and_throttled_posts_are_repeated() {
    let (url, up) = start().await;
    let pipeline = pipeline(true);
    let mut ctx = context(&[&url]);
    ctx.cost_budget = Some(Arc::new(shopify_budget()));

    // Nothing in hand: the provider refuses with a 200 THROTTLED; the POST
    // (it did not run) is repeated once 50 units are restored, not before.
    let started = Instant::now();
    let response = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert!(body["data"].is_object(), "the repeated query's answer: {body}");
    assert_eq!(up.hits.load(Ordering::SeqCst), 2, "refused once, then run");
    assert_eq!(
        up.seen.lock().unwrap().as_slice(),
        ["{ orders }", "{ orders }"],
        "the same request again"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "waited for the budget to refill"
    );

    // Paced: ten queries in a row are never refused — each waits until the
    // budget holds its cost — and take the restore rate's time.
    let started = Instant::now();
    for _ in 0..10 {
        pipeline
            .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
            .await
            .unwrap();
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 12, "no refusal while paced");
    assert_eq!(up.ran.load(Ordering::SeqCst), 11);
    assert!(
        started.elapsed() >= Duration::from_millis(4000),
        "50 units at 100 per second each"
    );

    // Without the declaration the same refusal is just a 200.
    let (url, up) = start().await;
    let plain = context(&[&url]);
    let response = pipeline
        .send(&plain, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&response.body).contains("THROTTLED"));
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_throttled_request_is_not_repeated_past_its_retries_or_its_deadline() {
    let (url, up) = start().await;
    let pipeline = pipeline(true);
    let mut ctx = context(&[&url]);
    ctx.cost_budget = Some(Arc::new(shopify_budget()));
    ctx.retry = Arc::new(RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    });
    let response = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&response.body).contains("THROTTLED"),
        "no retries left: the refusal"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    // The refusal paused the connection's budget: a request that cannot
    // wait for the refill is refused by the host, not sent.
    ctx.deadline = Instant::now() + Duration::from_millis(100);
    let paused = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await;
    assert!(matches!(paused, Err(OutboundError::RateLimited(Some(1)))), "{paused:?}");
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);

    let pipeline = self::pipeline(true);
    let (url, up) = start().await;
    let mut ctx = context(&[&url]);
    ctx.cost_budget = Some(Arc::new(shopify_budget()));
    ctx.deadline = Instant::now() + Duration::from_millis(200);
    let response = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&response.body).contains("THROTTLED"),
        "the refill outlasts the call"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_absurd_retry_after_returns_the_429_at_once_without_a_panic() {
    let (url, up) = start().await;
    let mut ctx = context(&[&url]);
    ctx.rate_quota = Some(RateQuota {
        per_second: 10.0,
        burst: 1,
    });
    let pipeline = pipeline(true);
    let started = Instant::now();
    let response = pipeline
        .send(&ctx, get_request(&format!("{url}/429/18446744073709551615")))
        .await
        .unwrap();
    assert_eq!(
        response.status, 429,
        "longer than the host would wait: the provider's answer"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    let paused = pipeline.send(&ctx, get_request(&format!("{url}/echo"))).await;
    assert!(
        matches!(paused, Err(OutboundError::RateLimited(Some(_)))),
        "the budget stays paused for everyone: {paused:?}"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_rechecked_hop_by_hop_and_drop_credentials_across_origins() {
    let (url, up) = start().await;
    let (other, other_up) = start().await;
    let pipeline = pipeline(true);
    let outside = pipeline
        .send(
            &context(&[&url]),
            get_request(&format!("{url}/redirect/{}", format!("{other}/echo").replace('/', "!"))),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&outside, OutboundError::Denied(why) if why.contains("redirect refused")),
        "{outside:?}"
    );

    let mut request = get_request(&format!("{url}/redirect/{}", format!("{other}/echo").replace('/', "!")));
    request.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let followed = pipeline.send(&context(&[&url, &other]), request).await.unwrap();
    let body = String::from_utf8(followed.body).unwrap();
    assert!(body.starts_with("/echo"), "followed to the other origin: {body}");
    assert!(
        other_up.saw("/echo") && !other_up.saw(TOKEN),
        "the credential stayed behind"
    );

    let mut same = get_request(&format!("{url}/redirect/!echo"));
    same.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let kept = pipeline.send(&context(&[&url]), same).await.unwrap();
    assert!(
        up.saw(&format!("authorization: Bearer {TOKEN}")),
        "same origin: the credential goes along"
    );
    let echoed = String::from_utf8(kept.body).unwrap();
    assert!(
        echoed.contains("authorization: Bearer [redacted]") && !echoed.contains(TOKEN),
        "and its echo is scrubbed: {echoed}"
    );
}

#[tokio::test]
async fn oversize_bodies_are_refused_while_reading() {
    let (url, _) = start().await;
    let refused = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/big/200000")))
        .await
        .unwrap_err();
    assert_eq!(refused, OutboundError::TooLarge(64 * 1024));
    let fine = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/big/1000")))
        .await
        .unwrap();
    assert_eq!(fine.body.len(), 1000);
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed_literal_or_resolved() {
    let (url, up) = start().await;
    let port = url.rsplit(':').next().unwrap();
    for target in [url.clone(), format!("http://localhost:{port}")] {
        let refused = pipeline(false)
            .send(&context(&[&target]), get_request(&format!("{target}/echo")))
            .await
            .unwrap_err();
        assert!(matches!(&refused, OutboundError::Denied(_)), "{target}: {refused:?}");
    }
    let outside = pipeline(true)
        .send(
            &context(&["https://api.example.com"]),
            get_request(&format!("{url}/echo")),
        )
        .await
        .unwrap_err();
    assert!(matches!(outside, OutboundError::Denied(_)), "not in the grant");
    assert_eq!(up.hits.load(Ordering::SeqCst), 0, "nothing reached the upstream");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_filled_in_by_the_pipeline_never_reach_its_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (url, up) = start().await;
    let pipeline = pipeline(true);
    let ctx = context(&[&url]);
    let mut request = get_request(&format!("{url}/echo/{{{{secret.token}}}}?k={{{{secret.token}}}}"));
    request.headers.push(("x-key".into(), "{{secret.token}}".into()));
    request.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let echoed = pipeline.send(&ctx, request).await.unwrap();
    assert!(up.saw(TOKEN), "the upstream got it");
    assert!(
        !String::from_utf8(echoed.body).unwrap().contains(TOKEN),
        "and cannot hand it back"
    );
    let mut failing = get_request(&format!("{url}/status/a/503?k={{{{secret.token}}}}"));
    failing.auth = Some(AuthScheme::Query {
        param: "key".into(),
        field: "token".into(),
    });
    pipeline.send(&ctx, failing).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("outbound_attempt"), "the attempts were logged:\n{logs}");
    assert!(!logs.contains(TOKEN), "a secret reached the logs:\n{logs}");
}

#[tokio::test]
async fn sigv4_is_never_signed_for_sts_or_iam_unless_the_operator_allows_it() {
    let (url, up) = start().await;
    let mut ctx = context(&[&url]);
    ctx.credentials = Arc::new(Credentials::from([("key", "AKIDEXAMPLE"), ("secret", "wJalrXUtnFEMI")]));
    let signed = |service: &str| {
        let mut request = get_request(&format!("{url}/echo"));
        request.auth = Some(AuthScheme::AwsSigV4 {
            service: service.into(),
            region: "us-east-1".into(),
            key_id_field: "key".into(),
            secret_field: "secret".into(),
            session_token_field: None,
        });
        request
    };
    let pipeline = pipeline(true);
    for service in ["sts", "IAM"] {
        let refused = pipeline.send(&ctx, signed(service)).await.unwrap_err();
        assert!(
            matches!(&refused, OutboundError::Denied(why) if why.contains("operator")),
            "{refused:?}"
        );
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 0);
    pipeline
        .send(&ctx, signed("s3"))
        .await
        .expect("an ordinary service is signed");

    ctx.sigv4_services = Some(Arc::from(vec!["s3".to_string()]));
    let pinned = pipeline.send(&ctx, signed("sqs")).await.unwrap_err();
    assert!(
        matches!(&pinned, OutboundError::Denied(why) if why.contains("only for s3")),
        "{pinned:?}"
    );
    ctx.sigv4_services = Some(Arc::from(vec!["sts".to_string()]));
    pipeline
        .send(&ctx, signed("sts"))
        .await
        .expect("the operator allowed it");
}

/// A listener whose accept queue is full: a new connection is never
/// completed (the kernel drops its SYN), so connecting to it hangs.
async fn unanswering_listener() -> (String, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let address = socket.local_addr().unwrap();
    let listener = socket.listen(0).unwrap();
    let mut fillers = Vec::new();
    // Fill the queue (backlog 0 still admits one or two) without accepting.
    for _ in 0..4 {
        match tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    std::mem::forget(listener);
    (format!("http://{address}"), fillers)
}

fn once(url: &str, timeouts: Timeouts) -> OutboundRequest {
    OutboundRequest {
        retry: RetryMode::Never,
        timeouts,
        ..get_request(url)
    }
}

fn phase_of(result: Result<patchbay_outbound::OutboundResponse, OutboundError>) -> (TimeoutPhase, String) {
    match result {
        Err(OutboundError::Timeout(phase, message)) => (phase, message),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn connect_first_byte_between_bytes_and_total_timeouts_each_cut_off_and_say_which() {
    let (url, _) = start().await;
    let ctx = context(&[&url]);
    let ms = Duration::from_millis;
    let strict = Pipeline::new(
        HttpLimits {
            first_byte_timeout: ms(300),
            idle_timeout: ms(300),
            allow_private_network: true,
            ..HttpLimits::default()
        },
        CircuitConfig::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryStore::new()),
        Arc::new(OutboundMetrics::unregistered()),
    )
    .unwrap();

    // A trickling body: cut off by the host's idle timeout, long before
    // the total (30 s) or the body's end (40 s).
    let started = Instant::now();
    let (phase, message) = phase_of(
        strict
            .send(&ctx, once(&format!("{url}/trickle/100/400"), Timeouts::default()))
            .await,
    );
    assert_eq!(phase, TimeoutPhase::BetweenBytes);
    assert!(
        message.starts_with("between-bytes timeout") && message.contains("after 1 bytes"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The plugin may ask for a tighter one: a byte every 200 ms passes the
    // host's 300 ms but not the plugin's 100 ms.
    let generous = pipeline(true);
    assert!(
        generous
            .send(&ctx, once(&format!("{url}/trickle/3/200"), Timeouts::default()))
            .await
            .is_ok()
    );
    let asked = Timeouts {
        between_bytes: Some(ms(100)),
        ..Timeouts::default()
    };
    let (phase, _) = phase_of(generous.send(&ctx, once(&format!("{url}/trickle/3/200"), asked)).await);
    assert_eq!(phase, TimeoutPhase::BetweenBytes);

    // No response head.
    let (phase, message) = phase_of(
        strict
            .send(&ctx, once(&format!("{url}/slow/2000"), Timeouts::default()))
            .await,
    );
    assert_eq!(phase, TimeoutPhase::FirstByte);
    assert!(message.starts_with("first-byte timeout"), "{message}");
    let asked = Timeouts {
        first_byte: Some(ms(100)),
        ..Timeouts::default()
    };
    let (phase, _) = phase_of(generous.send(&ctx, once(&format!("{url}/slow/1000"), asked)).await);
    assert_eq!(phase, TimeoutPhase::FirstByte);

    // The total bounds a body that keeps coming, each byte in time.
    let asked = Timeouts {
        total: Some(ms(500)),
        ..Timeouts::default()
    };
    let (phase, message) = phase_of(generous.send(&ctx, once(&format!("{url}/trickle/100/50"), asked)).await);
    assert_eq!(phase, TimeoutPhase::Total);
    assert!(message.starts_with("total timeout"), "{message}");

    // No connection: the plugin's connect timeout, tighter than the host's.
    let (silent, _fillers) = unanswering_listener().await;
    let ctx = context(&[&silent]);
    let asked = Timeouts {
        connect: Some(ms(200)),
        ..Timeouts::default()
    };
    let started = Instant::now();
    let (phase, message) = phase_of(generous.send(&ctx, once(&format!("{silent}/x"), asked)).await);
    assert_eq!(phase, TimeoutPhase::Connect, "{message}");
    assert!(
        message.starts_with("connect timeout: no connection within 200 ms"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A streamed body reaches the reader event by event, before the upstream
/// has finished, with the connection's secret scrubbed even when it is
/// split across writes; the size limit, the between-bytes timeout and the
/// call's deadline still cut off a hostile upstream mid-stream; an error
/// answer is read whole and retried like any other.
#[tokio::test]
async fn streamed_bodies_arrive_as_sent_under_the_same_limits() {
    let (url, up) = start().await;
    let ctx = context(&[&url]);
    let pipeline = pipeline(true);
    let mut streamed = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/events/6/150")))
        .await
        .unwrap();
    assert_eq!(streamed.status, 200);
    let first = streamed.body.read(1024).await.unwrap().unwrap();
    assert_eq!(first, b"data: event 0\n\n");
    assert_eq!(
        up.streams_done.load(Ordering::SeqCst),
        0,
        "the first event is not held back until the body ends"
    );
    let rest = String::from_utf8(streamed.body.read_to_end().await.unwrap()).unwrap();
    assert_eq!(
        rest,
        "data: event 1\n\ndata: [redacted] echoed\n\ndata: event 4\n\ndata: event 5\n\n"
    );
    assert_eq!(streamed.body.read(10).await.unwrap(), None);

    // Over the size limit (64 KiB here): refused at once when the length
    // is announced, while reading when it is not.
    let announced = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/big/200000")))
        .await
        .unwrap_err();
    assert_eq!(announced, OutboundError::TooLarge(64 * 1024));
    let mut unannounced = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/events/6000/0")))
        .await
        .unwrap();
    assert_eq!(
        unannounced.body.read_to_end().await.unwrap_err(),
        OutboundError::TooLarge(64 * 1024)
    );

    // A stream that stalls: the between-bytes timeout.
    let strict = Pipeline::new(
        HttpLimits {
            idle_timeout: Duration::from_millis(300),
            allow_private_network: true,
            ..HttpLimits::default()
        },
        CircuitConfig::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryStore::new()),
        Arc::new(OutboundMetrics::unregistered()),
    )
    .unwrap();
    let mut stalled = strict
        .send_streamed(&ctx, get_request(&format!("{url}/trickle/5/1000")))
        .await
        .unwrap();
    assert!(matches!(
        stalled.body.read_to_end().await,
        Err(OutboundError::Timeout(TimeoutPhase::BetweenBytes, _))
    ));

    // One that keeps flowing past the call's deadline: cut off there, and
    // not by the host's request timeout (30 s) — a stream may run long.
    let mut short = context(&[&url]);
    short.deadline = Instant::now() + Duration::from_millis(600);
    let mut endless = pipeline
        .send_streamed(&short, get_request(&format!("{url}/events/100/100")))
        .await
        .unwrap();
    let Err(OutboundError::Timeout(TimeoutPhase::Total, message)) = endless.body.read_to_end().await else {
        panic!("cut off at the deadline")
    };
    assert!(message.contains("deadline"), "{message}");

    // A 503 is not streamed: read whole and retried, as `send` does.
    let mut answered = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/status/streamed/503")))
        .await
        .unwrap();
    assert_eq!(answered.status, 503);
    answered.body.read_to_end().await.unwrap();
    assert_eq!(up.hits.load(Ordering::SeqCst), 4, "first attempt and three retries");
}

/// A login that takes the password in its JSON body: the plugin names the
/// field in `patchbay-body-secrets` and writes the placeholder; the host
/// fills it in, JSON-escaped, and sends neither the header nor the
/// placeholder. Unnamed placeholders (text the plugin did not write) stay as
/// they are, and the filled body never follows a redirect to another origin.
#[tokio::test]
async fn named_body_secrets_are_filled_in_and_never_leave_the_origin() {
    let (url, up) = start().await;
    let (other, other_up) = start().await;
    let pipeline = pipeline(true);
    let mut ctx = context(&[&url, &other]);
    ctx.credentials = Arc::new(Credentials::from([("token", TOKEN), ("password", "pa\"ss-word")]));
    let login = |to: String, named: &str| OutboundRequest {
        method: reqwest::Method::POST,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("patchbay-body-secrets".into(), named.into()),
        ],
        body: Some(
            br#"{"password":"{{secret.password}}","message":"{{secret.token}}"}"#
                .to_vec()
                .into(),
        ),
        ..get_request(&to)
    };
    pipeline
        .send(&ctx, login(format!("{url}/login"), "password"))
        .await
        .unwrap();
    let seen = up.seen.lock().unwrap().pop().unwrap();
    assert!(
        seen.ends_with(r#"{"password":"pa\"ss-word","message":"{{secret.token}}"}"#),
        "{seen}"
    );
    assert!(
        !seen.contains("patchbay-body-secrets"),
        "the header is the host's: {seen}"
    );

    // Not named: nothing is filled in.
    pipeline.send(&ctx, login(format!("{url}/login"), "")).await.unwrap();
    assert!(up.seen.lock().unwrap().pop().unwrap().contains("{{secret.password}}"));
    // A named field the connection lacks is refused before sending.
    let mut absent = login(format!("{url}/login"), "password, absent");
    absent.body = Some(br#"{"password":"{{secret.absent}}"}"#.to_vec().into());
    let refused = pipeline.send(&ctx, absent).await.unwrap_err();
    assert!(
        matches!(&refused, OutboundError::Denied(why) if why.contains("\"absent\"")),
        "{refused:?}"
    );

    // A 307 to another origin would carry the password along: refused.
    let away = format!("{url}/keep-method/{}", format!("{other}/login").replace('/', "!"));
    let refused = pipeline.send(&ctx, login(away, "password")).await.unwrap_err();
    assert!(
        matches!(&refused, OutboundError::Denied(why) if why.contains("another origin")),
        "{refused:?}"
    );
    assert!(!other_up.saw("pa\"ss-word"), "the password stayed behind");
}

/// The SMTP door refuses before connecting: a server outside the grant, a
/// login without TLS, a private address unless allowed, a credential field
/// the connection lacks, a malformed address.
#[tokio::test]
async fn the_smtp_door_refuses_what_the_policy_forbids_before_connecting() {
    use patchbay_outbound::{MailError, MailLogin, MailSecurity, OutboundMail};
    let mail = |server: &str, security: MailSecurity, login: Option<(&str, &str)>| OutboundMail {
        server: Url::parse(server).unwrap(),
        security,
        login: login.map(|(user, password)| MailLogin {
            user_field: user.into(),
            password_field: password.into(),
        }),
        envelope_from: "shop@example.com".into(),
        envelope_to: vec!["ada@example.org".into()],
        message: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
    };
    let strict = pipeline(false);
    let ctx = context(&["smtp://mail.example.com:587", "smtp://127.0.0.1:2525"]);
    let outside = strict
        .send_mail(&ctx, mail("smtp://other.example.com:587", MailSecurity::StartTls, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&outside, MailError::Denied(why) if why.contains("smtp://other.example.com:587")),
        "{outside:?}"
    );
    let clear = strict
        .send_mail(
            &ctx,
            mail("smtp://mail.example.com", MailSecurity::None, Some(("token", "token"))),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&clear, MailError::Denied(why) if why.contains("never sent in clear")),
        "{clear:?}"
    );
    let private = strict
        .send_mail(&ctx, mail("smtp://127.0.0.1:2525", MailSecurity::StartTls, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&private, MailError::Denied(why) if why.contains("loopback")),
        "{private:?}"
    );
    let unknown = pipeline(true)
        .send_mail(
            &ctx,
            mail(
                "smtp://127.0.0.1:2525",
                MailSecurity::StartTls,
                Some(("token", "absent")),
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, MailError::Denied(why) if why.contains("\"absent\"")),
        "{unknown:?}"
    );
    let mut bad = mail("smtp://mail.example.com", MailSecurity::StartTls, None);
    bad.envelope_to = vec!["not an address".into()];
    let bad = strict.send_mail(&ctx, bad).await.unwrap_err();
    assert!(
        matches!(&bad, MailError::InvalidRequest(why) if why.starts_with("envelope-to[0]")),
        "{bad:?}"
    );
}

/// A file of `len` bytes in `dir` whose bytes are not all alike.
fn patterned_file(dir: &std::path::Path, len: usize) -> (std::path::PathBuf, Vec<u8>) {
    let content: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
    let path = dir.join("content.bin");
    std::fs::write(&path, &content).unwrap();
    (path, content)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn put(url: &str, body: impl Into<patchbay_outbound::RequestBody>) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::PUT,
        body: Some(body.into()),
        ..get_request(url)
    }
}

/// A blob body goes out from its file with its length, whole or as a byte
/// range, and a retried request sends it again from the file.
#[tokio::test]
async fn blob_bodies_stream_from_their_file_and_are_sent_again_on_a_retry() {
    let (url, up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = patterned_file(dir.path(), 6 * 1024 * 1024 + 13);
    let blob = patchbay_outbound::Blob::from_file(&path).unwrap();
    let response = pipeline(true)
        .send(&context(&[&url]), put(&format!("{url}/upload/1"), blob.whole()))
        .await
        .unwrap();
    assert_eq!(response.status, 200, "the 503 was retried");
    let whole = format!("{} {} {} ", content.len(), sha256_hex(&content), content.len());
    assert_eq!(*up.seen.lock().unwrap(), [whole.clone(), whole]);

    let part = blob.range(1000, 3 * 1024 * 1024).unwrap();
    pipeline(true)
        .send(&context(&[&url]), put(&format!("{url}/upload/0"), part))
        .await
        .unwrap();
    let slice = &content[1000..1000 + 3 * 1024 * 1024];
    assert_eq!(
        up.seen.lock().unwrap()[2],
        format!("{} {} {} ", slice.len(), sha256_hex(slice), slice.len())
    );
}

/// SigV4 signs a blob body by its SHA-256, read from the file before
/// sending, as S3 wants it in `x-amz-content-sha256`; secrets are never
/// filled into a blob.
#[tokio::test]
async fn sigv4_signs_a_blob_by_its_hash_and_blobs_carry_no_secrets() {
    let (url, up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = patterned_file(dir.path(), 700 * 1024);
    let blob = patchbay_outbound::Blob::from_file(&path).unwrap();
    let mut ctx = context(&[&url]);
    ctx.credentials = Arc::new(Credentials::from([("key", "AKIDEXAMPLE"), ("secret", "s3cr3t")]));
    let mut request = put(&format!("{url}/upload/0"), blob.whole());
    request.auth = Some(AuthScheme::AwsSigV4 {
        service: "s3".into(),
        region: "us-east-1".into(),
        key_id_field: "key".into(),
        secret_field: "secret".into(),
        session_token_field: None,
    });
    assert_eq!(pipeline(true).send(&ctx, request).await.unwrap().status, 200);
    let hash = sha256_hex(&content);
    assert_eq!(
        up.seen.lock().unwrap()[0],
        format!("{} {hash} {} {hash}", content.len(), content.len())
    );

    let mut request = put(&format!("{url}/upload/0"), blob.whole());
    request.headers.push(("patchbay-body-secrets".into(), "token".into()));
    match pipeline(true).send(&context(&[&url]), request).await {
        Err(OutboundError::InvalidRequest(why)) => assert!(why.contains("the body is a blob"), "{why}"),
        other => panic!("expected invalid-request, got {other:?}"),
    }
}

/// A 2xx answer is written into a blob past the response size limit, in
/// chunks, scrubbed of the connection's secrets, under the blob limit; an
/// answer that is not 2xx comes back whole in `body`.
#[tokio::test]
async fn answers_are_written_into_blobs_under_the_blob_limit() {
    let (url, _up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(true);
    let ctx = context(&[&url]);
    let writer = || patchbay_outbound::BlobWriter::create(dir.path()).unwrap();
    let big = format!("{url}/big/{}", 5 * 1024 * 1024);
    match pipeline.send(&ctx, get_request(&big)).await {
        Err(OutboundError::TooLarge(limit)) => assert_eq!(limit, 64 * 1024),
        other => panic!("a body in hand keeps the response limit: {other:?}"),
    }
    let answer = pipeline.send_to_blob(&ctx, get_request(&big), writer()).await.unwrap();
    assert_eq!(answer.status, 200);
    let blob = answer.blob.expect("a 2xx body is in the blob");
    assert_eq!(blob.len(), 5 * 1024 * 1024);
    assert_eq!(std::fs::read(blob.path()).unwrap(), vec![b'x'; 5 * 1024 * 1024]);
    drop(blob);

    let mut echo = get_request(&format!("{url}/echo"));
    echo.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let answer = pipeline.send_to_blob(&ctx, echo, writer()).await.unwrap();
    let echoed = String::from_utf8(std::fs::read(answer.blob.unwrap().path()).unwrap()).unwrap();
    assert!(echoed.contains("authorization: Bearer [redacted]"), "{echoed}");
    assert!(!echoed.contains(TOKEN));

    let answer = pipeline
        .send_to_blob(&ctx, get_request(&format!("{url}/status/k/404")), writer())
        .await
        .unwrap();
    assert_eq!((answer.status, answer.body.as_slice()), (404, &b"status"[..]));
    assert!(answer.blob.is_none());

    let small = pipeline_with(HttpLimits {
        max_blob_bytes: 1024 * 1024,
        allow_private_network: true,
        ..HttpLimits::default()
    });
    match small.send_to_blob(&ctx, get_request(&big), writer()).await {
        Err(OutboundError::TooLarge(limit)) => assert_eq!(limit, 1024 * 1024),
        other => panic!("expected too-large, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no blob file is left behind"
    );
}

/// A body written into a blob may take as long as the call: the host's
/// request timeout is for bodies in hand, the between-bytes timeout still
/// cuts off a stall.
#[tokio::test]
async fn a_long_body_into_a_blob_is_bounded_by_the_call_not_the_request_timeout() {
    let (url, _up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline_with(HttpLimits {
        request_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(300),
        allow_private_network: true,
        ..HttpLimits::default()
    });
    let ctx = context(&[&url]);
    let trickle = format!("{url}/trickle/8/100");
    match pipeline.send(&ctx, get_request(&trickle)).await {
        Err(OutboundError::Timeout(TimeoutPhase::Total, _)) => {}
        other => panic!("a body in hand keeps the request timeout: {other:?}"),
    }
    let writer = patchbay_outbound::BlobWriter::create(dir.path()).unwrap();
    let answer = pipeline
        .send_to_blob(&ctx, get_request(&trickle), writer)
        .await
        .unwrap();
    assert_eq!(answer.blob.unwrap().len(), 8);
    let writer = patchbay_outbound::BlobWriter::create(dir.path()).unwrap();
    match pipeline
        .send_to_blob(&ctx, get_request(&format!("{url}/trickle/3/600")), writer)
        .await
    {
        Err(OutboundError::Timeout(TimeoutPhase::BetweenBytes, _)) => {}
        other => panic!("a stall is cut off: {other:?}"),
    }
}
