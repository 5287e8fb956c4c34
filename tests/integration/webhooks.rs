//! Webhooks end to end over real HTTP on loopback: WooCommerce deliveries
//! signed as WooCommerce signs them reach a receiver as events signed per
//! Standard Webhooks; a duplicate delivery is one event; a tampered one is
//! refused and stores nothing; a failing receiver is retried on the
//! schedule, honouring `Retry-After`; one that never recovers ends in a
//! dead letter that replays.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay_jobs::{Schedule, signature};
use patchbay_serve::Settings;
use patchbay_tests::woocommerce::{MockShop, ShopConfig, order, webhook_delivery, webhook_ping};
use reqwest::Method;
use serde_json::{Value, json};

use crate::serve::{Service, problem};

pub(crate) const WEBHOOK_SECRET: &str = "wc-webhook-secret-5f2a";

/// What a receiver does with each request, in turn; the last repeats.
#[derive(Clone)]
pub(crate) enum Answer {
    Ok,
    Fail(u16),
    TooMany(u64),
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub at: Instant,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub(crate) struct Receiver {
    script: Arc<Mutex<Vec<Answer>>>,
    got: Arc<Mutex<Vec<Got>>>,
}

async fn take(State(receiver): State<Receiver>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    receiver.got.lock().unwrap().push(Got {
        at: Instant::now(),
        headers,
        body: body.to_vec(),
    });
    let answer = {
        let mut script = receiver.script.lock().unwrap();
        if script.len() > 1 {
            script.remove(0)
        } else {
            script[0].clone()
        }
    };
    match answer {
        Answer::Ok => StatusCode::NO_CONTENT.into_response(),
        Answer::Fail(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Answer::TooMany(seconds) => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", seconds.to_string())]).into_response()
        }
    }
}

impl Receiver {
    pub(crate) async fn start(script: Vec<Answer>) -> (Self, String) {
        let receiver = Self {
            script: Arc::new(Mutex::new(script)),
            got: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(take))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    pub(crate) fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Got> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.got();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A service whose pushes may reach loopback, retried after 300 ms, 300 ms
/// (three attempts, no jitter), its workers looking every 50 ms.
async fn service() -> Service {
    service_with(&[]).await
}

async fn service_with(plugins: &[&str]) -> Service {
    let mut settings = Settings::default();
    settings.webhooks.workers.allow_private_network = true;
    settings.webhooks.workers.push_schedule = Schedule {
        delays: vec![Duration::from_millis(300), Duration::from_millis(300)],
        jitter: 0.0,
    };
    settings.webhooks.workers.poll = Duration::from_millis(50);
    Service::start_with(settings, plugins).await
}

/// A WooCommerce connection to `shop` whose webhook secret is a signing
/// field.
pub(crate) fn connection_body(shop: &MockShop) -> Value {
    json!({
        "provider": "shop/woocommerce",
        "credentials": {
            "consumer_key": shop.config.consumer_key,
            "consumer_secret": shop.config.consumer_secret,
            "webhook_secret": WEBHOOK_SECRET,
        },
        "settings": {"domain": shop.url()},
        "signing_fields": ["webhook_secret"],
    })
}

/// A WooCommerce connection of `acme` whose webhook secret is a signing
/// field; its ingress URL.
async fn woocommerce(service: &Service, key: &str, shop: &MockShop) -> (String, String) {
    let created = service
        .send(Method::POST, "/v1/connections", key, Some(connection_body(shop)))
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    let id = created.1["id"].as_str().unwrap().to_string();
    let ingress = service
        .send(Method::GET, &format!("/v1/connections/{id}/webhook"), key, None)
        .await;
    assert_eq!(ingress.0.as_u16(), 200, "{}", ingress.1);
    let url = ingress.1["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/v1/webhooks/whk_", service.url)), "{url}");
    (id, url)
}

async fn deliver(service: &Service, url: &str, delivery: (Vec<(String, String)>, Vec<u8>)) -> (u16, Value) {
    let mut request = service.http.post(url).body(delivery.1);
    for (name, value) in delivery.0 {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn endpoint(service: &Service, key: &str, url: &str, types: Value) -> String {
    let created = service
        .send(
            Method::POST,
            "/v1/endpoints",
            key,
            Some(json!({"url": url, "event_types": types})),
        )
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    assert!(created.1["secret"].as_str().unwrap().starts_with("whsec_"));
    created.1["secret"].as_str().unwrap().to_string()
}

/// Checks a push is signed per Standard Webhooks with `secret`.
fn verify_standard_webhook(got: &Got, secret: &str) -> Value {
    let header = |name: &str| got.headers.get(name).unwrap().to_str().unwrap().to_string();
    let id = header("webhook-id");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    let key = signature::secret_key(secret).unwrap();
    assert!(
        signature::verify(&key, &id, timestamp, &got.body, &header("webhook-signature")),
        "the push verifies as Standard Webhooks"
    );
    let now = patchbay::now_ms() / 1000;
    assert!((now - timestamp).abs() < 60, "a fresh timestamp");
    let message: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(message["data"]["id"], id, "webhook-id is the event's id");
    message
}

#[tokio::test]
async fn a_signed_woocommerce_delivery_reaches_the_receiver_once_signed_per_standard_webhooks() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let service = service().await;
    let acme = service.key("acme", false).await;
    let globex = service.key("globex", false).await;
    let (receiver, receiver_url) = Receiver::start(vec![Answer::Ok]).await;
    let secret = endpoint(&service, &acme, &receiver_url, json!(["order.*"])).await;
    let (connection, ingress) = woocommerce(&service, &acme, &shop).await;

    // WooCommerce pings when the webhook is saved: the plugin's handshake
    // answers it, nothing is stored.
    assert_eq!(deliver(&service, &ingress, webhook_ping(7)).await.0, 200);
    // WooCommerce challenges nothing with a GET: not a delivery either.
    let get = service.http.get(&ingress).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
    // An order, delivered twice (as a provider retrying would).
    let created = order(42);
    let delivery = webhook_delivery(WEBHOOK_SECRET, "order.created", &created, 7);
    assert_eq!(deliver(&service, &ingress, delivery.clone()).await.0, 200);
    assert_eq!(deliver(&service, &ingress, delivery.clone()).await.0, 200);
    // Tampered, unsigned, wrongly signed: 401, nothing stored.
    let (headers, mut body) = delivery.clone();
    body[10] ^= 1;
    problem(
        &deliver_pair(&service, &ingress, headers, body).await,
        401,
        "unverified",
    );
    let unsigned: Vec<(String, String)> = delivery
        .0
        .iter()
        .filter(|(n, _)| n != "x-wc-webhook-signature")
        .cloned()
        .collect();
    problem(
        &deliver_pair(&service, &ingress, unsigned, delivery.1.clone()).await,
        401,
        "unverified",
    );
    let forged = webhook_delivery("not-the-secret", "order.updated", &order(43), 7);
    problem(
        &deliver_pair(&service, &ingress, forged.0, forged.1).await,
        401,
        "unverified",
    );
    // A product update: the endpoint takes only order events.
    let product = webhook_delivery(
        WEBHOOK_SECRET,
        "product.updated",
        &json!({"id": 5, "date_modified_gmt": "2026-11-30T10:00:00"}),
        8,
    );
    assert_eq!(deliver(&service, &ingress, product).await.0, 200);
    // Unknown token, oversized body.
    let unknown = format!("{}/v1/webhooks/whk_nope", service.url);
    problem(
        &deliver_pair(&service, &unknown, delivery.0.clone(), delivery.1.clone()).await,
        404,
        "not-found",
    );
    let huge = (delivery.0.clone(), vec![b'x'; 2 * 1024 * 1024]);
    assert_eq!(deliver(&service, &ingress, huge).await.0, 413);

    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_now = receiver.got();
    assert_eq!(got_now.len(), 1, "one event for the order, pushed once: {got:?}");
    let message = verify_standard_webhook(&got_now[0], &secret);
    assert_eq!(message["type"], "order.created");
    assert_eq!(message["data"]["connection"], connection);
    assert_eq!(message["data"]["provider_event_type"], "order.created");
    assert_eq!(message["data"]["payload"], created, "the order as WooCommerce sent it");

    // Pulled: both events, in order, for acme only.
    let page = service.send(Method::GET, "/v1/events?after=0", &acme, None).await;
    assert_eq!(page.0.as_u16(), 200, "{}", page.1);
    let types: Vec<&str> = page.1["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["order.created", "product.updated"]);
    let next = page.1["next"].as_i64().unwrap();
    let empty = service
        .send(Method::GET, &format!("/v1/events?after={next}&wait=1"), &acme, None)
        .await;
    assert_eq!(empty.1["events"], json!([]), "nothing after the cursor, after waiting");
    let other = service.send(Method::GET, "/v1/events?after=0", &globex, None).await;
    assert_eq!(other.1["events"], json!([]), "another tenant sees nothing");

    // Counted in /metrics (and on the dashboard, from the same numbers).
    let metrics = metrics(&service).await;
    for line in [
        "patchbay_webhook_deliveries_total{outcome=\"accepted\"} 3",
        "patchbay_webhook_deliveries_total{outcome=\"answered\"} 1",
        "patchbay_webhook_deliveries_total{outcome=\"not-verified\"} 3",
        "patchbay_webhook_deliveries_total{outcome=\"unknown\"} 1",
        "patchbay_webhook_inbox_depth 0",
        "patchbay_webhook_dead_letters 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert!(metrics.trim_end().ends_with("# EOF"), "still one OpenMetrics document");
}

/// The service's `/metrics` document.
async fn metrics(service: &Service) -> String {
    let response = service
        .http
        .get(format!("{}/metrics", service.url))
        .send()
        .await
        .unwrap();
    response.text().await.unwrap()
}

async fn deliver_pair(
    service: &Service,
    url: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> (reqwest::StatusCode, Value) {
    let (status, value) = deliver(service, url, (headers, body)).await;
    (reqwest::StatusCode::from_u16(status).unwrap(), value)
}

#[tokio::test]
async fn a_failing_receiver_is_retried_on_the_schedule_and_a_dead_one_replays() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let service = service().await;
    let acme = service.key("acme", false).await;
    // Fails, then asks for a second's pause, then takes it.
    let (flaky, flaky_url) = Receiver::start(vec![Answer::Fail(503), Answer::TooMany(1), Answer::Ok]).await;
    // Never takes anything (until it does, for the replay).
    let (down, down_url) = Receiver::start(vec![Answer::Fail(500)]).await;
    endpoint(&service, &acme, &flaky_url, json!([])).await;
    endpoint(&service, &acme, &down_url, json!([])).await;
    let (connection, ingress) = woocommerce(&service, &acme, &shop).await;
    let started_at = patchbay::now_ms();
    let delivery = webhook_delivery(WEBHOOK_SECRET, "order.updated", &order(9), 3);
    assert_eq!(deliver(&service, &ingress, delivery).await.0, 200);

    let got = flaky.wait_for(3, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 3, "503, 429, then 204");
    let first_wait = got[1].at - got[0].at;
    let second_wait = got[2].at - got[1].at;
    assert!(
        first_wait >= Duration::from_millis(250),
        "the schedule's 300 ms: {first_wait:?}"
    );
    assert!(
        second_wait >= Duration::from_millis(950),
        "Retry-After: 1 is longer than 300 ms: {second_wait:?}"
    );
    let ids: Vec<_> = got.iter().map(|g| g.headers["webhook-id"].clone()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one webhook-id for every attempt");

    // Three attempts, then a dead letter with the last error.
    let got = down.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3);
    let letters = wait_for_dead_letter(&service, &acme).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["kind"], "push");
    assert_eq!(letter["attempts"], 3);
    assert_eq!(letter["last_status"], 500);
    assert_eq!(letter["last_error"], "the endpoint answered 500");

    // The receiver recovers; the dead letter replays.
    *down.script.lock().unwrap() = vec![Answer::Ok];
    let id = letter["id"].as_i64().unwrap();
    let replayed = service
        .send(Method::POST, &format!("/v1/dead-letters/{id}/replay"), &acme, None)
        .await;
    assert_eq!(replayed.0.as_u16(), 202, "{}", replayed.1);
    assert_eq!(down.wait_for(4, Duration::from_secs(10)).await.len(), 4);
    let letters = service.send(Method::GET, "/v1/dead-letters", &acme, None).await;
    assert_eq!(letters.1, json!([]));

    // A time range replays every push of the connection's events.
    let replayed = service
        .send(
            Method::POST,
            &format!("/v1/connections/{connection}/events/replay"),
            &acme,
            Some(json!({"from_ms": started_at})),
        )
        .await;
    assert_eq!(replayed.1["queued"], 2, "{}", replayed.1);
    assert_eq!(down.wait_for(5, Duration::from_secs(10)).await.len(), 5);
    assert_eq!(flaky.wait_for(4, Duration::from_secs(10)).await.len(), 4);
}

async fn wait_for_dead_letter(service: &Service, key: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let letters = service.send(Method::GET, "/v1/dead-letters", key, None).await;
        let list = letters.1.as_array().cloned().unwrap_or_default();
        if !list.is_empty() || Instant::now() > deadline {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `patchbay serve` as a process with a config file, on a fixed port.
pub(crate) struct Process {
    pub child: std::process::Child,
    pub log: std::path::PathBuf,
}

impl Process {
    fn start(dir: &std::path::Path, config: &std::path::Path) -> Self {
        Self::start_with(dir, config, &[])
    }

    /// [`start`](Self::start) with more environment (`PATCHBAY_DATABASE_URL`, ...).
    pub(crate) fn start_with(dir: &std::path::Path, config: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let log = dir.join(format!(
            "serve-{}-{}.log",
            patchbay::now_ms(),
            config.file_stem().unwrap_or_default().to_string_lossy()
        ));
        let child = std::process::Command::new(crate::cli::patchbay())
            .args(["serve", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .env("PATCHBAY_DATABASE", dir.join("state.db"))
            .env("PATCHBAY_VAULT_KEY_FILE", dir.join("vault.key"))
            .env(
                "PATCHBAY_CACHE",
                crate::support::workspace().join("target/test-compile-cache"),
            )
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::OpenOptions::new().append(true).open(&log).unwrap())
            .spawn()
            .unwrap();
        Self { child, log }
    }

    pub(crate) async fn wait_listening(&mut self) {
        for _ in 0..300 {
            if std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .contains("listening on")
            {
                return;
            }
            assert!(self.child.try_wait().unwrap().is_none(), "patchbay serve exited");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("patchbay serve did not start");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A provider sending orders `1..=n` as WooCommerce deliveries (every
/// fifth twice), `lanes` at a time, to the `ingress` URLs in turn: a
/// delivery not acknowledged is sent again, to the next URL, as providers
/// do. `acknowledged` collects the orders as they are acknowledged.
pub(crate) fn send_orders(
    ingress: Vec<String>,
    n: u32,
    lanes: usize,
    acknowledged: Arc<Mutex<std::collections::BTreeSet<u32>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let sends: Vec<u32> = (1..=n)
            .flat_map(|i| if i % 5 == 0 { vec![i, i] } else { vec![i] })
            .collect();
        let lanes = sends
            .chunks(sends.len().div_ceil(lanes))
            .enumerate()
            .map(|(lane, chunk)| {
                let (http, ingress, acknowledged) = (http.clone(), ingress.clone(), Arc::clone(&acknowledged));
                let chunk = chunk.to_vec();
                async move {
                    let mut next = lane % ingress.len();
                    for i in chunk {
                        let (headers, body) = webhook_delivery(WEBHOOK_SECRET, "order.created", &order(i), 1);
                        for _ in 0..400 {
                            let mut request = http.post(&ingress[next]).body(body.clone());
                            next = (next + 1) % ingress.len();
                            for (name, value) in &headers {
                                request = request.header(name, value);
                            }
                            if let Ok(response) = request.send().await
                                && response.status() == 200
                            {
                                acknowledged.lock().unwrap().insert(i);
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            });
        futures::future::join_all(lanes).await;
    })
}

/// Waits (up to 90 s) until every acknowledged order reached `receiver`;
/// the orders it got, by `webhook-id`.
pub(crate) async fn wait_pushed(
    receiver: &Receiver,
    acknowledged: &std::collections::BTreeSet<u32>,
) -> std::collections::BTreeMap<String, u64> {
    let order_of = |got: &Got| -> (String, u64) {
        let message: Value = serde_json::from_slice(&got.body).unwrap();
        (
            got.headers["webhook-id"].to_str().unwrap().to_string(),
            message["data"]["payload"]["id"].as_u64().unwrap(),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let by_id: std::collections::BTreeMap<String, u64> = receiver.got().iter().map(order_of).collect();
        let seen: std::collections::BTreeSet<u64> = by_id.values().copied().collect();
        let missing: Vec<_> = acknowledged
            .iter()
            .filter(|i| !seen.contains(&u64::from(**i)))
            .take(10)
            .collect();
        if missing.is_empty() {
            return by_id;
        }
        assert!(Instant::now() < deadline, "acknowledged but never pushed: {missing:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Issue 15's crash test: a sender fires signed deliveries (some twice) at
/// a server that is `kill -9`-ed and restarted mid-stream while events are
/// being pushed to a receiver. Every delivery the sender saw acknowledged
/// reaches the receiver, at least once and de-duplicated by `webhook-id`.
#[tokio::test]
async fn nothing_acknowledged_is_lost_when_the_server_is_killed_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    std::fs::copy(
        crate::support::workspace().join("target/plugins/shop-woocommerce.wasm"),
        dir.path().join("plugins/shop-woocommerce.wasm"),
    )
    .unwrap();
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\nplugins = \"{}\"\nallow-private-network = true\n\
             webhook-lease = 2\nwebhook-retry = [1, 1, 1, 1, 1, 1, 1, 1]\nshutdown-grace = 1\n",
            dir.path().join("plugins").display()
        ),
    )
    .unwrap();
    let key = std::process::Command::new(crate::cli::patchbay())
        .args(["keys", "create", "--tenant", "acme"])
        .env("PATCHBAY_DATABASE", dir.path().join("state.db"))
        .env("PATCHBAY_VAULT_KEY_FILE", dir.path().join("vault.key"))
        .output()
        .unwrap();
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key = String::from_utf8(key.stdout).unwrap().trim().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let api = |method: Method, path: &str, body: Option<Value>| {
        let mut request = http.request(method, format!("{base}{path}")).bearer_auth(&key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let mut server = Process::start(dir.path(), &config);
    server.wait_listening().await;
    let (receiver, receiver_url) = Receiver::start(vec![Answer::Ok]).await;
    let (status, _) = api(Method::POST, "/v1/endpoints", Some(json!({"url": receiver_url}))).await;
    assert_eq!(status, 201);
    let (status, created) = api(Method::POST, "/v1/connections", Some(connection_body(&shop))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (_, ingress) = api(Method::GET, &format!("/v1/connections/{id}/webhook"), None).await;
    let ingress = ingress["url"].as_str().unwrap().to_string();

    // The sender: orders 1..=N, every fifth delivered twice, eight at a
    // time; a delivery not acknowledged is sent again, as providers do.
    const N: u32 = 240;
    let acknowledged = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let sender = send_orders(vec![ingress.clone()], N, 8, Arc::clone(&acknowledged));

    // Mid-stream, while pushes are going out: kill -9, then restart.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < (N / 3) as usize || receiver.got().is_empty() {
        assert!(Instant::now() < deadline, "the stream did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let at_kill = acknowledged.lock().unwrap().len();
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    drop(server);
    let mut server = Process::start(dir.path(), &config);
    server.wait_listening().await;
    sender.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_eq!(
        acknowledged.len(),
        N as usize,
        "every delivery was acknowledged in the end"
    );
    assert!(at_kill < N as usize, "the kill came mid-stream ({at_kill} of {N})");

    // Every acknowledged order reaches the receiver.
    let by_id = wait_pushed(&receiver, &acknowledged).await;
    // De-duplicated by webhook-id, one event per order: duplicates and
    // re-sent deliveries made no second event.
    let orders: std::collections::BTreeSet<u64> = by_id.values().copied().collect();
    assert_eq!(by_id.len(), orders.len(), "one webhook-id per order");
    assert_eq!(orders.len(), N as usize);
    // The CLI prints the same ingress URL, from the same database.
    let cli = std::process::Command::new(crate::cli::patchbay())
        .args(["webhooks", "url", id, "--tenant", "acme", "--public-url", &base])
        .env("PATCHBAY_DATABASE", dir.path().join("state.db"))
        .env("PATCHBAY_VAULT_KEY_FILE", dir.path().join("vault.key"))
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    assert_eq!(String::from_utf8(cli.stdout).unwrap().trim(), ingress);
    eprintln!(
        "killed after {at_kill} of {N} acknowledged; {} pushes received for {} events",
        receiver.got().len(),
        by_id.len()
    );
    drop(server);
}

/// The plugin subscribes the ingress URL at WooCommerce (one webhook per
/// topic, the secret filled in by the host), the shop then delivers as
/// WooCommerce does, and the event arrives; the subscriptions are listed
/// and removed through the plugin too.
#[tokio::test]
async fn registration_subscribes_at_the_provider_which_then_delivers() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let service = service().await;
    let acme = service.key("acme", false).await;
    let (receiver, receiver_url) = Receiver::start(vec![Answer::Ok]).await;
    endpoint(&service, &acme, &receiver_url, json!([])).await;
    // Without a webhook secret (or one the host may sign with), nothing is
    // subscribed: deliveries could not be verified.
    let mut unsigned = connection_body(&shop);
    unsigned["signing_fields"] = json!([]);
    let created = service
        .send(Method::POST, "/v1/connections", &acme, Some(unsigned))
        .await;
    let plain = created.1["id"].as_str().unwrap();
    let refused = service
        .send(
            Method::POST,
            &format!("/v1/connections/{plain}/webhook/registrations"),
            &acme,
            Some(json!({})),
        )
        .await;
    problem(&refused, 409, "config");
    assert!(
        refused.1["detail"].as_str().unwrap().contains("webhook_secret"),
        "{}",
        refused.1
    );
    assert!(shop.webhooks().is_empty());

    let (connection, ingress) = woocommerce(&service, &acme, &shop).await;
    let path = format!("/v1/connections/{connection}/webhook/registrations");
    let registered = service
        .send(
            Method::POST,
            &path,
            &acme,
            Some(json!({"events": ["order.created", "order.updated"]})),
        )
        .await;
    assert_eq!(registered.0.as_u16(), 201, "{}", registered.1);
    assert_eq!(registered.1["url"], ingress);
    assert_eq!(registered.1["id"], "1,2", "one WooCommerce webhook per topic");
    let hooks = shop.webhooks();
    assert_eq!(hooks.len(), 2);
    for (hook, secret) in &hooks {
        assert_eq!(hook["delivery_url"], ingress);
        assert_eq!(
            secret, WEBHOOK_SECRET,
            "the host filled the secret in; the plugin never had it"
        );
    }
    assert!(
        shop.log
            .all()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/webhooks"))
            .all(|r| r.query.contains("secret=")),
        "the secret went in the query"
    );
    let listed = service.send(Method::GET, &path, &acme, None).await;
    assert_eq!(listed.1.as_array().unwrap().len(), 2, "{}", listed.1);

    assert_eq!(shop.fire("order.created", &order(77)).await, [200]);
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    let message: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(message["data"]["payload"]["id"], 77);

    let removed = service.send(Method::DELETE, &format!("{path}/1,2"), &acme, None).await;
    assert_eq!(removed.0.as_u16(), 204, "{}", removed.1);
    assert!(shop.webhooks().is_empty());
}

/// Discord interactions (the TypeScript plugin, contract 0.1.1): the
/// Interactions Endpoint URL is registered as Discord accepts one (a signed
/// PING answered with a PONG by the plugin's handshake, a forged one refused
/// with 401, nothing stored); a slash command signed with Ed25519 over
/// timestamp + body is acknowledged with a deferred response once stored,
/// de-duplicated, pushed as `message.received`, and replied to by
/// completing the deferred response; tampered and expired ones get 401.
#[tokio::test]
async fn discord_interactions_are_verified_answered_and_delivered_as_messages() {
    use patchbay_tests::discord::{
        APPLICATION_ID, BOT_TOKEN, MockDiscord, command_interaction, now_seconds, ping_interaction, send_interaction,
        sign,
    };
    let discord = MockDiscord::start().await.unwrap();
    let service = service_with(&["messaging-discord"]).await;
    let acme = service.key("acme", false).await;
    let (receiver, receiver_url) = Receiver::start(vec![Answer::Ok]).await;
    let secret = endpoint(&service, &acme, &receiver_url, json!(["message.*"])).await;
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            &acme,
            Some(json!({
                "provider": "messaging/discord",
                "credentials": {"bot_token": BOT_TOKEN},
                "settings": {"api_base": discord.api_base()},
            })),
        )
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    let connection = created.1["id"].as_str().unwrap().to_string();
    let ingress = service
        .send(
            Method::GET,
            &format!("/v1/connections/{connection}/webhook"),
            &acme,
            None,
        )
        .await
        .1["url"]
        .as_str()
        .unwrap()
        .to_string();

    // Registration: Discord checks the URL with a signed PING (the plugin
    // reads the public key from the application's verify_key) and a forged
    // one before it keeps it.
    let path = format!("/v1/connections/{connection}/webhook/registrations");
    let registered = service.send(Method::POST, &path, &acme, Some(json!({}))).await;
    assert_eq!(registered.0.as_u16(), 201, "{}", registered.1);
    assert_eq!(registered.1["id"], APPLICATION_ID);
    assert_eq!(discord.interactions_endpoint().as_deref(), Some(ingress.as_str()));
    let listed = service.send(Method::GET, &path, &acme, None).await;
    assert_eq!(listed.1[0]["url"], ingress, "{}", listed.1);

    // A PING at any time: a PONG, and nothing stored.
    let ping = serde_json::to_vec(&ping_interaction()).unwrap();
    let (status, pong) = send_interaction(&ingress, &ping, &now_seconds(), None).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_slice::<Value>(&pong).unwrap(), json!({"type": 1}));

    // A slash command, sent twice: a deferred response each time, one event.
    let command = serde_json::to_vec(&command_interaction(
        "1170000000000000001",
        "ask",
        &[("question", "where is my order?")],
    ))
    .unwrap();
    let now = now_seconds();
    for _ in 0..2 {
        let (status, ack) = send_interaction(&ingress, &command, &now, None).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&ack));
        assert_eq!(serde_json::from_slice::<Value>(&ack).unwrap(), json!({"type": 5}));
    }
    // Tampered, signed by another key, expired (signed ten minutes ago),
    // unsigned: 401, nothing stored.
    let mut tampered = command.clone();
    tampered[20] ^= 1;
    assert_eq!(
        send_interaction(&ingress, &tampered, &now, Some(&sign(&now, &command)))
            .await
            .0,
        401
    );
    let forged = ring::signature::Ed25519KeyPair::from_seed_unchecked(&[1; 32]).unwrap();
    let mut message = now.as_bytes().to_vec();
    message.extend_from_slice(&command);
    let forged = hex::encode(forged.sign(&message).as_ref());
    assert_eq!(send_interaction(&ingress, &command, &now, Some(&forged)).await.0, 401);
    let old = (now.parse::<u64>().unwrap() - 600).to_string();
    assert_eq!(send_interaction(&ingress, &command, &old, None).await.0, 401, "expired");
    let unsigned = service.http.post(&ingress).body(command.clone()).send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);

    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.got().len(), 1, "one event for the command: {got:?}");
    let event = verify_standard_webhook(&got[0], &secret);
    assert_eq!(event["type"], "message.received");
    assert_eq!(event["data"]["provider_event_type"], "APPLICATION_COMMAND");
    let inbound = &event["data"]["payload"];
    assert_eq!(inbound["body"], "/ask question:where is my order?");
    assert_eq!(inbound["sender"], "1080000000000000042");
    assert_eq!(inbound["sender-name"], "Ada");
    assert_eq!(inbound["conversation-id"], patchbay_tests::discord::CHANNEL);

    // Replying to the event's message completes the deferred response.
    let reply = service
        .send(
            Method::POST,
            &format!("/v1/connections/{connection}/call/messaging.reply"),
            &acme,
            Some(json!({"to": inbound, "body": "It ships today."})),
        )
        .await;
    assert_eq!(reply.0.as_u16(), 200, "{}", reply.1);
    let edits = discord.edits();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert!(
        edits[0].0.starts_with("aW50ZXJhY3Rpb246"),
        "the interaction's own token"
    );
    assert_eq!(edits[0].1["content"], "It ships today.");

    // Unregistering clears the Interactions Endpoint URL.
    let removed = service
        .send(Method::DELETE, &format!("{path}/{APPLICATION_ID}"), &acme, None)
        .await;
    assert_eq!(removed.0.as_u16(), 204, "{}", removed.1);
    assert_eq!(discord.interactions_endpoint(), None);
}

/// Meta's way (WhatsApp, Messenger): when the callback URL is set up, Meta
/// GETs it with `hub.mode=subscribe`, `hub.verify_token` and
/// `hub.challenge`, and wants the challenge back; the plugin's handshake
/// answers it (the token checked through `crypto`), nothing is stored, and
/// a wrong token is refused. Deliveries are then POSTed, signed with
/// `X-Hub-Signature-256`.
#[tokio::test]
async fn a_get_challenge_is_answered_by_the_plugin_and_stores_nothing() {
    use hmac::Mac as _;
    let service = service_with(&["challenger"]).await;
    let acme = service.key("acme", false).await;
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            &acme,
            Some(json!({
                "provider": "other/challenger",
                "credentials": {"verify_token": "meta-verify-7f3a", "app_secret": "meta-app-secret-91c2"},
                "signing_fields": ["verify_token", "app_secret"],
            })),
        )
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    let connection = created.1["id"].as_str().unwrap().to_string();
    let ingress = service
        .send(
            Method::GET,
            &format!("/v1/connections/{connection}/webhook"),
            &acme,
            None,
        )
        .await
        .1["url"]
        .as_str()
        .unwrap()
        .to_string();

    let check = |token: &str| format!("{ingress}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444");
    let answered = service.http.get(check("meta-verify-7f3a")).send().await.unwrap();
    assert_eq!(answered.status().as_u16(), 200);
    assert_eq!(answered.headers()["content-type"], "text/plain");
    assert_eq!(answered.text().await.unwrap(), "1158201444", "the challenge, verbatim");
    let refused = service.http.get(check("someone-elses")).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);

    // A delivery, signed as Meta signs it.
    let body = serde_json::to_vec(&json!({"object": "page", "entry": [{"id": "1", "time": 1764496800,
        "messaging": [{"sender": {"id": "42"}, "message": {"mid": "m_1", "text": "hello"}}]}]}))
    .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"meta-app-secret-91c2").unwrap();
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let delivery = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("x-hub-signature-256".to_string(), signature),
    ];
    assert_eq!(deliver(&service, &ingress, (delivery, body)).await.0, 200);

    // Only the delivery became an event; the challenges stored nothing.
    let mut events = Value::Null;
    for _ in 0..100 {
        events = service.send(Method::GET, "/v1/events?after=0", &acme, None).await.1;
        if !events["events"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["message"]["type"], "message.received");
    let metrics = metrics(&service).await;
    for line in [
        "patchbay_webhook_deliveries_total{outcome=\"answered\"} 1",
        "patchbay_webhook_deliveries_total{outcome=\"not-verified\"} 1",
        "patchbay_webhook_deliveries_total{outcome=\"accepted\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}
