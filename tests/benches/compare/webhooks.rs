//! §7: webhook ingestion through `patchbay serve` on loopback — deliveries
//! verified by the WooCommerce plugin in the sandbox, durably stored
//! (SQLite on disk, WAL, a sync per group commit) and acknowledged — driven
//! by wrk; then the push throughput of distinct events to a receiver.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use patchbay::{Host, NewConnection};
use patchbay_tests::woocommerce::{MockShop, ShopConfig, order, webhook_delivery};

use crate::{Report, plugin_path};

const CONNECTIONS: usize = 64;
const SECONDS: u64 = 8;
/// Distinct events for the push figure.
const EVENTS: u32 = 3_000;
pub(crate) const SECRET: &str = "bench-webhook-secret";

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A receiver that counts what it is pushed.
async fn receiver() -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&count);
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, count)
}

/// wrk's script posting one signed delivery again and again: every one is
/// verified and stored (a repeated delivery is one event, but each is a
/// delivery).
pub(crate) fn delivery_lua(headers: &[(String, String)], body: &[u8]) -> String {
    let mut lua = format!(
        "wrk.method = \"POST\"\nwrk.body = {:?}\n",
        String::from_utf8_lossy(body)
    );
    for (name, value) in headers {
        lua.push_str(&format!("wrk.headers[{name:?}] = {value:?}\n"));
    }
    lua
}

/// A WooCommerce connection to `shop` whose webhook secret is [`SECRET`],
/// a signing field.
pub(crate) fn webhook_connection(shop: &MockShop) -> NewConnection {
    NewConnection {
        provider: "shop/woocommerce".into(),
        credentials: patchbay::Credentials::from([
            ("consumer_key", "ck_test"),
            ("consumer_secret", "cs_test"),
            ("webhook_secret", SECRET),
        ]),
        settings: patchbay::Settings::from([("domain".to_string(), shop.url())]),
        signing_fields: vec!["webhook_secret".into()],
        ..NewConnection::default()
    }
}

pub async fn webhook_throughput(report: &mut Report) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    std::fs::copy(
        plugin_path("shop-woocommerce"),
        dir.path().join("plugins/shop-woocommerce.wasm"),
    )
    .unwrap();
    let host = Host::builder()
        .database(dir.path().join("state.db"))
        .vault_key(patchbay::vault::VaultKey::generate())
        .allow_private_network(true)
        .plugins_dir(dir.path().join("plugins"))
        .build()
        .await
        .unwrap();
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let tenant = host.connections("bench");
    let id = tenant.add(webhook_connection(&shop)).await.unwrap().id;
    let webhooks = host.webhooks("bench");
    let token = webhooks.ingress_token(&id).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut settings = patchbay_serve::Settings {
        listen: address,
        ..patchbay_serve::Settings::default()
    };
    settings.webhooks.workers.allow_private_network = true;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(patchbay_serve::serve(host.clone(), settings, listener, async move {
        let _ = stopped.await;
    }));
    let ingress = format!("http://{address}/v1/webhooks/{token}");

    // Ingestion: one delivery, over and over, by wrk.
    let (headers, body) = webhook_delivery(SECRET, "order.updated", &order(1), 1);
    let text = crate::service::wrk(&ingress, &delivery_lua(&headers, &body), CONNECTIONS, SECONDS).await;
    let value = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
            .unwrap_or_else(|| panic!("wrk's output has no {prefix}:\n{text}"))
    };
    assert!(!text.contains("Non-2xx"), "every delivery was acknowledged:\n{text}");
    let per_second: f64 = value("Requests/sec:").parse().unwrap();
    let (p50, p99) = (value("50%"), value("99%"));

    // Push throughput: distinct events, from their deliveries' arrival to
    // the receiver's last 2xx.
    let (receiver_url, pushed) = receiver().await;
    webhooks.create_endpoint(&receiver_url, vec![]).await.unwrap();
    let http = reqwest::Client::new();
    let started = Instant::now();
    let sends = futures::stream::iter(2..EVENTS + 2).map(|i| {
        let (http, ingress) = (http.clone(), ingress.clone());
        async move {
            let (headers, body) = webhook_delivery(SECRET, "order.created", &order(i), 1);
            let mut request = http.post(&ingress).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            assert_eq!(request.send().await.unwrap().status(), 200);
        }
    });
    use futures::StreamExt as _;
    sends.buffer_unordered(32).collect::<Vec<()>>().await;
    let acknowledged = started.elapsed();
    while pushed.load(Ordering::Relaxed) < u64::from(EVENTS) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the pushes did not finish"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_pushed = started.elapsed();
    let _ = stop.send(());
    let _ = server.await;

    report.section("7. Webhooks");
    report.para(&format!(
        "`patchbay serve` on loopback with the WooCommerce plugin and SQLite on disk (WAL; every \
         acknowledged delivery is committed before the answer, many per commit). Ingestion: wrk \
         (2 threads, {CONNECTIONS} connections, {SECONDS} s) posts a delivery signed as WooCommerce \
         signs it to `/v1/webhooks/{{token}}`; each is verified by the plugin in the sandbox \
         (`X-WC-Webhook-Signature` through `crypto`), stored with its parse job, then answered \
         200; the parse workers run meanwhile. Pushes: {EVENTS} distinct deliveries (32 in \
         flight), each parsed into an event and pushed, signed per Standard Webhooks, to a \
         receiver on loopback that answers 204. wrk, the service and the receiver share the \
         machine's two cores. Target: ≥ 5,000 acknowledged deliveries/s."
    ));
    report.table(
        &["figure", "value"],
        vec![
            vec![
                "deliveries verified, stored and acknowledged".into(),
                format!("{per_second:.0}/s"),
            ],
            vec!["acknowledgement latency p50 / p99".into(), format!("{p50} / {p99}")],
            vec![
                format!("{EVENTS} distinct deliveries acknowledged"),
                format!(
                    "{} ({:.0}/s)",
                    ms(acknowledged),
                    f64::from(EVENTS) / acknowledged.as_secs_f64()
                ),
            ],
            vec![
                format!("… and their {EVENTS} events pushed"),
                format!(
                    "{} ({:.0} events/s)",
                    ms(all_pushed),
                    f64::from(EVENTS) / all_pushed.as_secs_f64()
                ),
            ],
        ],
    );
}
