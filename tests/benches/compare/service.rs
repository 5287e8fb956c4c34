//! §6: calls through `patchbay serve` (HTTP on loopback, driven by wrk) next
//! to the same calls through the library, with the same concurrency, in the
//! same run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use patchbay::{Connection, Host, NewConnection};
use patchbay_tests::woocommerce::{MockShop, ShopConfig};
use serde_json::{Value, json};

use crate::{Report, plugin_path, test_plugin_path};

const CONNECTIONS: usize = 16;
const SECONDS: u64 = 8;

/// Calls/s and latency quantiles of one run.
struct Throughput {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `CONNECTIONS` callers calling for `SECONDS`, through the library.
async fn library(connection: &Connection, function: &str, input: &Value) -> Throughput {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for _ in 0..CONNECTIONS {
        let (connection, function, input, stop) =
            (connection.clone(), function.to_string(), input.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                connection
                    .call_json(&function, &input)
                    .await
                    .expect("the call succeeds");
                latencies.push(at.elapsed());
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    Throughput {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
    }
}

/// wrk's figures: `Requests/sec` and the 50 % and 99 % latencies.
fn parse_wrk(output: &str) -> Option<Throughput> {
    let value = |prefix: &str| {
        output
            .lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
    };
    let duration = |text: String| -> Option<Duration> {
        let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
        let number: f64 = number.parse().ok()?;
        let seconds = match unit {
            "us" => number / 1e6,
            "ms" => number / 1e3,
            "s" => number,
            "m" => number * 60.0,
            _ => return None,
        };
        Some(Duration::from_secs_f64(seconds))
    };
    if output.contains("Non-2xx or 3xx responses") {
        return None;
    }
    Some(Throughput {
        per_second: value("Requests/sec:")?.parse().ok()?,
        p50: duration(value("50%")?)?,
        p99: duration(value("99%")?)?,
    })
}

/// wrk's output for `connections` connections (2 threads) for `seconds`
/// against `url`, driven by the Lua script `lua`.
pub(crate) async fn wrk(url: &str, lua: &str, connections: usize, seconds: u64) -> String {
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), lua).unwrap();
    let (url, script_path) = (url.to_string(), script.path().to_path_buf());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{connections}"),
                &format!("-d{seconds}s"),
                "--latency",
                "-s",
            ])
            .arg(&script_path)
            .arg(&url)
            .output()
            .expect("wrk runs (`just bench` installs it from apt)")
    })
    .await
    .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `CONNECTIONS` connections for `SECONDS` through the service, with wrk.
async fn through_serve(url: &str, key: &str, body: &Value) -> Throughput {
    let lua = format!(
        "wrk.method = \"POST\"\nwrk.body = {body:?}\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {key}\"\n",
        body = body.to_string()
    );
    let text = wrk(url, &lua, CONNECTIONS, SECONDS).await;
    parse_wrk(&text).unwrap_or_else(|| panic!("wrk's output has no clean figures:\n{text}"))
}

pub async fn service_throughput(report: &mut Report) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        plugin_path("shop-woocommerce"),
        dir.path().join("shop-woocommerce.wasm"),
    )
    .unwrap();
    std::fs::copy(test_plugin_path("probe"), dir.path().join("probe.wasm")).unwrap();
    // The manifest's politeness to real shops (5 requests/s) is not what
    // this measures: the mock shop takes any rate.
    let host = Host::builder()
        .in_memory_database()
        .allow_private_network(true)
        .rate_limit("shop/woocommerce", 1e6, 1_000_000)
        .plugins_dir(dir.path())
        .build()
        .await
        .unwrap();
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let tenant = host.connections("bench");
    let add = |provider: &str, credentials: patchbay::Credentials, settings: patchbay::Settings| NewConnection {
        provider: provider.into(),
        credentials,
        settings,
        ..NewConnection::default()
    };
    let woo = tenant
        .add(add(
            "shop/woocommerce",
            patchbay::Credentials::from([("consumer_key", "ck_test"), ("consumer_secret", "cs_test")]),
            patchbay::Settings::from([("domain".to_string(), shop.url())]),
        ))
        .await
        .unwrap()
        .id;
    let probe = tenant
        .add(add(
            "other/probe",
            patchbay::Credentials::default(),
            patchbay::Settings::new(),
        ))
        .await
        .unwrap()
        .id;
    let key = host.api_keys().create("bench", false, "bench").await.unwrap().key;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let settings = patchbay_serve::Settings {
        listen: address,
        max_in_flight: 4096,
        max_in_flight_per_tenant: 4096,
        ..patchbay_serve::Settings::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(patchbay_serve::serve(host.clone(), settings, listener, async move {
        let _ = stopped.await;
    }));

    let cases = [
        (
            "trivial: `actions.list-actions` (probe, no upstream)",
            probe,
            "actions.list-actions",
            json!({}),
        ),
        (
            "WooCommerce `shop.get-orders`, 10 orders from the mock shop",
            woo,
            "shop.get-orders",
            json!({"query": {"limit": 10}}),
        ),
    ];
    let mut rows = Vec::new();
    for (name, id, function, input) in cases {
        let connection = tenant.open(&id).await.unwrap();
        let lib = library(&connection, function, &input).await;
        let url = format!("http://{address}/v1/connections/{id}/call/{function}");
        let http = through_serve(&url, &key, &input).await;
        rows.push(vec![
            name.to_string(),
            format!(
                "{:.0} calls/s, p50 {}, p99 {}",
                lib.per_second,
                ms(lib.p50),
                ms(lib.p99)
            ),
            format!(
                "{:.0} calls/s, p50 {}, p99 {}",
                http.per_second,
                ms(http.p50),
                ms(http.p99)
            ),
            format!("{:.2}×", http.per_second / lib.per_second),
            format!("{:.2}×", http.p50.as_secs_f64() / lib.p50.as_secs_f64()),
        ]);
    }
    let _ = stop.send(());
    let _ = server.await;
    report.section("6. Service throughput");
    report.para(&format!(
        "The same calls through the library (`Connection::call_json`, {CONNECTIONS} tasks calling \
         in a loop) and through `patchbay serve` on loopback (`POST /v1/connections/{{id}}/call/...` \
         with an API key, driven by wrk: 2 threads, {CONNECTIONS} connections), {SECONDS} s each, \
         one after the other in this run. The service adds the HTTP round trip, the API key check \
         (a store read), the tenant's connection lookup (a store read and an unseal) and JSON \
         parsing and writing; wrk, the service, the host and the mock shop share the machine's \
         cores. Compare the calls/s: wrk's latencies include the wait for the server behind \
         {CONNECTIONS} connections on two cores, the library's only the call itself (a task \
         waiting for a core between calls is not timed), so the p50 ratio of a CPU-bound call \
         overstates the service's cost."
    ));
    report.table(
        &[
            "call",
            "library",
            "patchbay serve",
            "serve / library calls/s",
            "serve / library p50",
        ],
        rows,
    );
}
