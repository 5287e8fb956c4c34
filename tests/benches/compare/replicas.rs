//! §9: one replica on SQLite beside one and three on PostgreSQL (with
//! Redis for the rate budgets of three): webhook ingestion and calls per
//! second through `patchbay serve`, driven by wrk, one wrk per replica at
//! once. The replicas are hosts in this process, each with its own store
//! connections, webhook workers and server, sharing the machine's two
//! cores with wrk, PostgreSQL, Redis and the mock shop.

use std::time::Duration;

use patchbay::Host;
use patchbay_tests::woocommerce::{MockShop, ShopConfig, order, webhook_delivery};
use serde_json::json;

use crate::webhooks::{SECRET, delivery_lua, webhook_connection};
use crate::{Report, plugin_path};

/// wrk connections in all, split between the replicas.
const CONNECTIONS: usize = 48;
const SECONDS: u64 = 8;

/// Where the replicas keep their state.
#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Replicas serving on loopback, and what wrk needs to call them.
struct Replicas {
    hosts: Vec<Host>,
    addresses: Vec<std::net::SocketAddr>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    servers: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    connection: String,
    key: String,
    token: String,
    _dir: tempfile::TempDir,
}

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run `just bench` (it starts PostgreSQL and Redis for §9)"))
}

async fn start(backend: Backend, count: usize, shop: &MockShop) -> Replicas {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    std::fs::copy(
        plugin_path("shop-woocommerce"),
        dir.path().join("plugins/shop-woocommerce.wasm"),
    )
    .unwrap();
    let key = patchbay::vault::VaultKey::generate();
    let url = match backend {
        Backend::Postgres => Some(patchbay_tests::postgres::database(&format!("patchbay_bench_{count}")).await),
        Backend::Sqlite => None,
    };
    let mut hosts = Vec::new();
    for _ in 0..count {
        let builder = Host::builder()
            .vault_key(key.clone())
            .allow_private_network(true)
            // The manifest's politeness to real shops is not measured here.
            .rate_limit("shop/woocommerce", 1e6, 1_000_000)
            .plugins_dir(dir.path().join("plugins"));
        let builder = match &url {
            Some(url) if count > 1 => builder
                .postgres(url)
                .redis(env("PATCHBAY_REDIS_URL"))
                .replicas(count as u32),
            Some(url) => builder.postgres(url),
            None => builder.database(dir.path().join("state.db")),
        };
        hosts.push(builder.build().await.unwrap());
    }
    let tenant = hosts[0].connections("bench");
    let connection = tenant.add(webhook_connection(shop)).await.unwrap().id;
    let token = hosts[0].webhooks("bench").ingress_token(&connection).await.unwrap();
    let key = hosts[0].api_keys().create("bench", false, "bench").await.unwrap().key;
    let (mut addresses, mut stops, mut servers) = (Vec::new(), Vec::new(), Vec::new());
    for host in &hosts {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut settings = patchbay_serve::Settings {
            listen: address,
            max_in_flight: 4096,
            max_in_flight_per_tenant: 4096,
            ..patchbay_serve::Settings::default()
        };
        settings.webhooks.workers.allow_private_network = true;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        servers.push(tokio::spawn(patchbay_serve::serve(
            host.clone(),
            settings,
            listener,
            async move {
                let _ = stopped.await;
            },
        )));
        addresses.push(address);
        stops.push(stop);
    }
    Replicas {
        hosts,
        addresses,
        stops,
        servers,
        connection,
        key,
        token,
        _dir: dir,
    }
}

impl Replicas {
    /// wrk against every replica at once (`CONNECTIONS` split between
    /// them), the same request to each; requests per second in all, and
    /// whether any answer was not a 2xx.
    async fn load(&self, path: &str, lua: &str) -> (f64, bool) {
        let each = (CONNECTIONS / self.addresses.len()).max(2);
        let urls: Vec<String> = self.addresses.iter().map(|a| format!("http://{a}{path}")).collect();
        let runs = urls.iter().map(|url| crate::service::wrk(url, lua, each, SECONDS));
        let outputs = futures::future::join_all(runs).await;
        let mut total = 0.0;
        let mut failed = false;
        for text in &outputs {
            failed |= text.contains("Non-2xx");
            total += text
                .lines()
                .find_map(|l| l.trim_start().strip_prefix("Requests/sec:"))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or_else(|| panic!("wrk's output has no Requests/sec:\n{text}"));
        }
        (total, failed)
    }

    async fn stop(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
        for server in self.servers {
            let _ = server.await;
        }
        drop(self.hosts);
    }
}

pub async fn replica_throughput(report: &mut Report) {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let (headers, body) = webhook_delivery(SECRET, "order.updated", &order(1), 1);
    let ingest_lua = delivery_lua(&headers, &body);
    let mut rows = Vec::new();
    let mut baseline: Option<(f64, f64)> = None;
    for (label, backend, count) in [
        ("SQLite, one replica", Backend::Sqlite, 1),
        ("PostgreSQL, one replica", Backend::Postgres, 1),
        ("PostgreSQL + Redis, three replicas", Backend::Postgres, 3),
    ] {
        let replicas = start(backend, count, &shop).await;
        let (ingested, refused) = replicas
            .load(&format!("/v1/webhooks/{}", replicas.token), &ingest_lua)
            .await;
        assert!(!refused, "{label}: every delivery was acknowledged");
        let call_lua = format!(
            "wrk.method = \"POST\"\nwrk.body = {body:?}\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
             wrk.headers[\"Authorization\"] = \"Bearer {key}\"\n",
            body = json!({"query": {"limit": 10}}).to_string(),
            key = replicas.key
        );
        let (calls, failed) = replicas
            .load(
                &format!("/v1/connections/{}/call/shop.get-orders", replicas.connection),
                &call_lua,
            )
            .await;
        assert!(!failed, "{label}: every call succeeded");
        let (base_ingest, base_calls) = *baseline.get_or_insert((ingested, calls));
        rows.push(vec![
            label.to_string(),
            format!("{ingested:.0}/s"),
            format!("{:.2}×", ingested / base_ingest),
            format!("{calls:.0}/s"),
            format!("{:.2}×", calls / base_calls),
        ]);
        replicas.stop().await;
        // Let the last parses and pushes settle before the next backend.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report.section("9. Replicas");
    report.para(&format!(
        "One replica on SQLite (the default) beside one and three on PostgreSQL, the three \
         sharing their rate budgets in Redis (every call reserves its slot there). Each figure is \
         wrk (2 threads, {CONNECTIONS} connections split between the replicas, {SECONDS} s) \
         against every replica at once, summed: ingestion posts a delivery signed as WooCommerce \
         signs it to `/v1/webhooks/{{token}}` (verified in the sandbox, committed, then \
         acknowledged); calls are `shop.get-orders` (10 orders from the mock shop) with an API \
         key. The replicas are hosts in one process, each with its own store connections, \
         workers and server; they, wrk, PostgreSQL, Redis and the mock shop all share the \
         machine's two cores, so three replicas here measure the cost of sharing state, not the \
         gain of more machines. Ratios are to SQLite with one replica, in this run. \
         Where the time goes: a PostgreSQL commit is a round trip to a server process on the same \
         two cores (and its fsync), where SQLite commits in process; a call's reads (the API key, \
         the connection) go through a pool of PostgreSQL connections, where the SQLite store \
         serializes them on its one connection."
    ));
    report.table(
        &[
            "configuration",
            "deliveries acknowledged",
            "vs SQLite",
            "calls",
            "vs SQLite",
        ],
        rows,
    );
}
