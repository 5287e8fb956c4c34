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
    AuthScheme, CircuitConfig, HostGrant, HostPattern, HttpLimits, OutboundError, OutboundMetrics, OutboundPolicy,
    OutboundRequest, Pipeline, RateQuota, RequestContext, RetryMode, RetryPolicy,
};
use patchbay_secrets::Credentials;
use patchbay_store::MemoryStore;
use url::Url;

const TOKEN: &str = "tok-below-the-wasm-line";

#[derive(Clone, Default)]
struct Upstream {
    hits: Arc<AtomicU32>,
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

async fn redirect(Path(to): Path<String>) -> Response {
    let to = to.replace('!', "/");
    (StatusCode::FOUND, [("location", to)], "").into_response()
}

async fn echo(uri: Uri, headers: HeaderMap) -> String {
    let mut out = format!("{uri}\n");
    for (name, value) in &headers {
        out.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
    }
    out
}

async fn big(Path(bytes): Path<usize>) -> Vec<u8> {
    vec![b'x'; bytes]
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
        .with_state(upstream.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, upstream)
}

fn pipeline(allow_private_network: bool) -> Pipeline {
    let store = Arc::new(MemoryStore::new());
    Pipeline::new(
        HttpLimits {
            max_response_bytes: 64 * 1024,
            allow_private_network,
            ..HttpLimits::default()
        },
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
    }
}

fn get_request(url: &str) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::GET,
        url: Url::parse(url).unwrap(),
        headers: Vec::new(),
        body: None,
        auth: None,
        timeout_ms: None,
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
    let (url, _) = start().await;
    let (other, _) = start().await;
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
    assert!(!body.contains(TOKEN), "the credential stayed behind: {body}");

    let mut same = get_request(&format!("{url}/redirect/!echo"));
    same.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let kept = pipeline.send(&context(&[&url]), same).await.unwrap();
    assert!(
        String::from_utf8(kept.body)
            .unwrap()
            .contains(&format!("authorization: Bearer {TOKEN}")),
        "same origin: the credential goes along"
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

    let (url, _) = start().await;
    let pipeline = pipeline(true);
    let ctx = context(&[&url]);
    let mut request = get_request(&format!("{url}/echo/{{{{secret.token}}}}?k={{{{secret.token}}}}"));
    request.headers.push(("x-key".into(), "{{secret.token}}".into()));
    request.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let echoed = pipeline.send(&ctx, request).await.unwrap();
    assert!(
        String::from_utf8(echoed.body).unwrap().contains(TOKEN),
        "the upstream got it"
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
