//! Issue 21's replica test: three `patchbay serve` processes on one
//! PostgreSQL database and one Redis (started by `tests/with-postgres.sh`
//! and `tests/with-redis.sh`).
//!
//! 1. Calls spread over the three replicas share one rate budget: a mock
//!    WooCommerce that allows 10 requests/s per account and answers 429
//!    above it sees at most that, and never has to say 429.
//! 2. One replica is `kill -9`-ed while webhooks are being ingested and
//!    events pushed: every delivery a replica acknowledged reaches the
//!    receiver, the jobs the dead replica held being finished by the
//!    others once their leases run out.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay_tests::woocommerce::{MockShop, ShopConfig, order, webhook_delivery};
use reqwest::Method;
use serde_json::{Value, json};

use crate::webhooks::{Answer, Process, Receiver, WEBHOOK_SECRET, connection_body, send_orders, wait_pushed};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `just test` (tests/with-postgres.sh and tests/with-redis.sh)")
    })
}

/// The provider's limit per account: a bucket of 10 refilled at 10/s.
const PROVIDER_RATE: f64 = 10.0;

/// The host's budget for the whole account, shared by the replicas:
/// requests per second, one at a time (below the provider's limit).
const HOST_RATE: f64 = 9.0;

/// WooCommerce behind an account rate limit, as providers enforce one: a
/// request beyond it is answered 429 with `Retry-After`, never forwarded.
#[derive(Clone)]
struct Limited {
    shop: String,
    http: reqwest::Client,
    bucket: Arc<Mutex<(f64, Instant)>>,
    /// Every request: when, and whether it was refused.
    seen: Arc<Mutex<Vec<(Instant, bool)>>>,
}

async fn limit(State(limited): State<Limited>, request: Request) -> Response {
    let now = Instant::now();
    let admitted = {
        let mut bucket = limited.bucket.lock().unwrap();
        let (tokens, at) = *bucket;
        let tokens = (tokens + now.duration_since(at).as_secs_f64() * PROVIDER_RATE).min(PROVIDER_RATE);
        let admitted = tokens >= 1.0;
        *bucket = (if admitted { tokens - 1.0 } else { tokens }, now);
        admitted
    };
    limited.seen.lock().unwrap().push((now, !admitted));
    if !admitted {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            Body::from(r#"{"code":"rate_limited","message":"Too many requests.","data":{"status":429}}"#),
        )
            .into_response();
    }
    let uri = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut forward = limited
        .http
        .request(request.method().clone(), format!("{}{uri}", limited.shop));
    for (name, value) in request.headers() {
        if name != "host" {
            forward = forward.header(name, value);
        }
    }
    let body = axum::body::to_bytes(request.into_body(), 1 << 20).await.unwrap();
    let answer = forward.body(body).send().await.unwrap();
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection") {
            headers.insert(name.clone(), value.clone());
        }
    }
    let body = answer.bytes().await.unwrap();
    (status, headers, body).into_response()
}

impl Limited {
    async fn start(shop: &MockShop) -> (Self, String) {
        let limited = Self {
            shop: shop.url().trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            bucket: Arc::new(Mutex::new((PROVIDER_RATE, Instant::now()))),
            seen: Arc::default(),
        };
        let app = axum::Router::new().fallback(limit).with_state(limited.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (limited, url)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn three_replicas_share_one_budget_and_lose_nothing_when_one_dies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    std::fs::copy(
        crate::support::workspace().join("target/plugins/shop-woocommerce.wasm"),
        dir.path().join("plugins/shop-woocommerce.wasm"),
    )
    .unwrap();
    let database = patchbay_tests::postgres::database("patchbay_replicas").await;
    let redis = env("PATCHBAY_REDIS_URL");
    let shared = [
        ("PATCHBAY_DATABASE_URL", database.as_str()),
        ("PATCHBAY_REDIS_URL", redis.as_str()),
        ("PATCHBAY_REPLICAS", "3"),
    ];
    let key = std::process::Command::new(crate::cli::patchbay())
        .args(["keys", "create", "--tenant", "acme"])
        .envs(shared)
        .env("PATCHBAY_VAULT_KEY_FILE", dir.path().join("vault.key"))
        .output()
        .unwrap();
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key = String::from_utf8(key.stdout).unwrap().trim().to_string();

    // Three replicas: the host's budget for WooCommerce (9/s, one at a time) is
    // below the provider's 10/s, for the whole account.
    let ports = [free_port(), free_port(), free_port()];
    let mut replicas: Vec<Option<Process>> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let config = dir.path().join(format!("replica-{i}.toml"));
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\nplugins = \"{}\"\nallow-private-network = true\n\
                 webhook-lease = 2\nwebhook-retry = [1, 1, 1, 1, 1, 1, 1, 1]\nshutdown-grace = 1\n\
                 [rate-limits.\"shop/woocommerce\"]\nrequests-per-second = {HOST_RATE}\nburst = 1\n",
                dir.path().join("plugins").display()
            ),
        )
        .unwrap();
        replicas.push(Some(Process::start_with(dir.path(), &config, &shared)));
    }
    for replica in replicas.iter_mut().flatten() {
        replica.wait_listening().await;
    }
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let api = |replica: usize, method: Method, path: &str, body: Option<Value>| {
        let mut request = http
            .request(method, format!("{}{path}", bases[replica]))
            .bearer_auth(&key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let (provider, provider_url) = Limited::start(&shop).await;
    let mut body = connection_body(&shop);
    body["settings"] = json!({"domain": provider_url, "currency": "RON"});
    let (status, created) = api(0, Method::POST, "/v1/connections", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    for replica in 1..3 {
        let (status, seen) = api(replica, Method::GET, &format!("/v1/connections/{id}"), None).await;
        assert_eq!(status, 200, "every replica sees the connection: {seen}");
    }

    // 1. Thirty callers, ten per replica, as fast as they are answered:
    //    far more than the budget (each replica alone would exceed it).
    let calls_for = Duration::from_secs(4);
    let started = Instant::now();
    let callers = (0..30).map(|caller| {
        let api = &api;
        let path = format!("/v1/connections/{id}/call/shop.get-orders");
        async move {
            let mut answered = Vec::new();
            while started.elapsed() < calls_for {
                let (status, body) = api(caller % 3, Method::POST, &path, Some(json!({"query": {"limit": 1}}))).await;
                answered.push((status, body));
            }
            answered
        }
    });
    let answered: Vec<(u16, Value)> = futures::future::join_all(callers).await.into_iter().flatten().collect();
    let seen = provider.seen.lock().unwrap().clone();
    let refused = seen.iter().filter(|(_, refused)| *refused).count();
    assert_eq!(
        refused,
        0,
        "the provider never had to answer 429 ({} requests)",
        seen.len()
    );
    let busiest = seen
        .iter()
        .map(|(at, _)| {
            seen.iter()
                .filter(|(t, _)| *t >= *at && *t < *at + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    // Requests leave the replicas at the budget's pace but reach the
    // provider after a pipeline and a loopback hop whose delay varies on a
    // loaded machine: one admitted late can land in the next second's
    // window. Each replica alone would send 9/s, all three 27/s.
    assert!(
        busiest <= PROVIDER_RATE as usize + 3,
        "at most 10 requests in any second, give or take arrival jitter: {busiest}"
    );
    let span = match (
        seen.iter().map(|(at, _)| *at).min(),
        seen.iter().map(|(at, _)| *at).max(),
    ) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    assert!(
        seen.len() as f64 <= HOST_RATE * span + 5.0,
        "the replicas together kept to {HOST_RATE} requests/s: {} requests in {span:.2} s",
        seen.len()
    );
    let ok = answered.iter().filter(|(status, _)| *status == 200).count();
    assert!(
        seen.len() >= 25 && ok >= 25,
        "the calls ran at the shared budget, not below it: {} requests, {ok} answered 200 of {}",
        seen.len(),
        answered.len()
    );
    if let Some((status, body)) = answered.iter().find(|(status, _)| *status != 200) {
        panic!("a call failed ({status}): {body}");
    }
    eprintln!(
        "rate: {} calls over three replicas, {} provider requests, at most {busiest} in a second, none refused",
        answered.len(),
        seen.len()
    );

    // 2. Webhooks. A long-poll on one replica gets the event of a delivery
    // another replica took (without the wake-up across replicas it could
    // wait out its 20 s and come back empty).
    let (_, ingress) = api(2, Method::GET, &format!("/v1/connections/{id}/webhook"), None).await;
    let path = url::Url::parse(ingress["url"].as_str().unwrap())
        .unwrap()
        .path()
        .to_string();
    let poll = api(0, Method::GET, "/v1/events?after=0&wait=20", None);
    let deliver = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (headers, body) = webhook_delivery(WEBHOOK_SECRET, "order.created", &order(9_999), 1);
        let mut request = http.post(format!("{}{path}", bases[1])).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        assert_eq!(request.send().await.unwrap().status(), 200);
    };
    let ((status, page), ()) = tokio::join!(poll, deliver);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["events"][0]["message"]["data"]["payload"]["id"], 9_999,
        "the long-poll on replica 0 got the event delivered to replica 1: {page}"
    );

    // A sender spreads deliveries over the replicas; one of them is killed
    // mid-stream while events are being pushed.
    let (receiver, receiver_url) = Receiver::start(vec![Answer::Ok]).await;
    let (status, _) = api(1, Method::POST, "/v1/endpoints", Some(json!({"url": receiver_url}))).await;
    assert_eq!(status, 201);
    const N: u32 = 180;
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let ingress: Vec<String> = bases.iter().map(|base| format!("{base}{path}")).collect();
    let sender = send_orders(ingress, N, 6, Arc::clone(&acknowledged));
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < (N / 3) as usize || receiver.got().is_empty() {
        assert!(Instant::now() < deadline, "the stream did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let at_kill = acknowledged.lock().unwrap().len();
    let mut victim = replicas[2].take().unwrap();
    victim.child.kill().unwrap(); // SIGKILL
    victim.child.wait().unwrap();
    sender.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_eq!(
        acknowledged.len(),
        N as usize,
        "every delivery was acknowledged in the end"
    );
    assert!(at_kill < N as usize, "the kill came mid-stream ({at_kill} of {N})");

    let by_id = wait_pushed(&receiver, &acknowledged).await;
    let orders: BTreeSet<u64> = by_id.values().copied().collect();
    assert_eq!(
        by_id.len(),
        orders.len(),
        "one webhook-id per order, whichever replica parsed it"
    );
    assert_eq!(orders.len(), N as usize);
    // Nothing is left waiting: the dead replica's jobs were finished.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = http
            .get(format!("{}/metrics", bases[0]))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let gauge = |name: &str| {
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(name)?.trim().parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{name} is missing from /metrics"))
        };
        let (parse, push) = (
            gauge("patchbay_webhook_inbox_depth "),
            gauge("patchbay_webhook_pushes_pending "),
        );
        if parse == 0 && push == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "work left behind: {parse} parses and {push} pushes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "webhooks: killed a replica after {at_kill} of {N} acknowledged; {} pushes received for {} events",
        receiver.got().len(),
        by_id.len()
    );
}

/// Two replicas on one database call through one OAuth connection at once,
/// round after round; its tokens live 5 s (inside the refresh margin: every
/// call refreshes) and the provider rotates refresh tokens strictly (one
/// use each). Each refresh holds the connection's row lock, so the second
/// replica refreshes with the token the first just stored: no call fails
/// and the connection stays connected.
#[tokio::test]
async fn replicas_refresh_a_rotating_oauth_token_one_at_a_time() {
    use crate::oauth::{authorized, claims, request};
    let url = patchbay_tests::postgres::database("patchbay_oauth_replicas").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::workspace().join("target/test-plugins/probe.wasm"),
        dir.path().join("probe.wasm"),
    )
    .unwrap();
    let key = patchbay::vault::VaultKey::generate();
    let mut hosts = Vec::new();
    for _ in 0..2 {
        let host = crate::support::builder()
            .plugins_dir(dir.path())
            .postgres(&url)
            .vault_key(key.clone())
            .build()
            .await
            .unwrap();
        hosts.push(host);
    }
    let upstream = patchbay_tests::hostile::Hostile::start().await.unwrap();
    let id = authorized(&hosts[0].connections("acme"), &upstream, "short-lived-rotating-client").await;
    let connections = [
        hosts[0].connections("acme").open(&id).await.unwrap(),
        hosts[1].connections("acme").open(&id).await.unwrap(),
    ];
    let echo = format!("{}/echo", upstream.server.url());
    for round in 0..5 {
        let (a, b) = tokio::join!(
            request(&connections[0], echo.clone()),
            request(&connections[1], echo.clone())
        );
        for answer in [&a, &b] {
            assert_eq!(answer["status"], 200, "round {round}: {answer}");
        }
        assert_eq!(claims(&upstream, &b)["grant"], "refresh_token");
    }
    let info = hosts[1].connections("acme").get(&id).await.unwrap();
    assert!(info.connected && info.authorized, "{info:?}");
}
