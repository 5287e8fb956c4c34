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

const WEBHOOK_SECRET: &str = "wc-webhook-secret-5f2a";

/// What a receiver does with each request, in turn; the last repeats.
#[derive(Clone)]
enum Answer {
    Ok,
    Fail(u16),
    TooMany(u64),
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    at: Instant,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Receiver {
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
    async fn start(script: Vec<Answer>) -> (Self, String) {
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

    fn got(&self) -> Vec<Got> {
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
    let mut settings = Settings::default();
    settings.webhooks.workers.allow_private_network = true;
    settings.webhooks.workers.push_schedule = Schedule {
        delays: vec![Duration::from_millis(300), Duration::from_millis(300)],
        jitter: 0.0,
    };
    settings.webhooks.workers.poll = Duration::from_millis(50);
    Service::start(settings).await
}

/// A WooCommerce connection of `acme` whose webhook secret is a signing
/// field; its ingress URL.
async fn woocommerce(service: &Service, key: &str, shop: &MockShop) -> (String, String) {
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            key,
            Some(json!({
                "provider": "shop/woocommerce",
                "credentials": {
                    "consumer_key": shop.config.consumer_key,
                    "consumer_secret": shop.config.consumer_secret,
                    "webhook_secret": WEBHOOK_SECRET,
                },
                "settings": {"domain": shop.url()},
                "signing_fields": ["webhook_secret"],
            })),
        )
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

    // WooCommerce pings when the webhook is saved: answered, no event.
    assert_eq!(deliver(&service, &ingress, webhook_ping(7)).await.0, 200);
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
