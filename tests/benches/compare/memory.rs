//! Peak resident memory with many calls held in flight by a slow upstream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use patchbay::{Credentials, Host, Limits, Settings};
use serde_json::json;

use crate::stats::{mib, rss_bytes};
use crate::{Report, test_plugin_path};

/// How long the upstream holds each request.
const HOLD_MS: u64 = 5_000;

pub async fn in_flight(report: &mut Report, upstream: &str, counts: &[usize]) {
    let mut rows = Vec::new();
    for &n in counts {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(test_plugin_path("probe"), dir.path().join("probe.wasm")).unwrap();
        let host = Host::builder()
            .plugins_dir(dir.path())
            .allow_private_network(true)
            .rate_limit("other/probe", 1e6, 1_000_000)
            .limits(Limits {
                pool_instances: n as u32 + 64,
                call_timeout: Duration::from_secs(120),
                ..Limits::default()
            })
            .build()
            .await
            .unwrap();
        let probe = host
            .connect(
                "other/probe",
                Credentials::new(),
                Settings::from([("base".to_string(), upstream.to_string())]),
            )
            .unwrap();
        // One call first, so the baseline includes the compiled plugin and a warm client.
        probe.test().await.unwrap();
        let baseline = rss_bytes();
        let peak = Arc::new(AtomicU64::new(baseline));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        let input = json!({"name": "request", "input": json!({
            "url": format!("{upstream}/sleep/{HOLD_MS}"), "no_retry": true, "timeout_ms": 100_000
        }).to_string()});
        let started = Instant::now();
        let calls: Vec<_> = (0..n)
            .map(|_| {
                let (probe, input) = (probe.clone(), input.clone());
                tokio::spawn(async move {
                    let out = probe.call_json("actions.execute", &input).await;
                    matches!(out, Ok(ref v) if v.as_str().is_some_and(|s| s.contains("\"status\":200")))
                })
            })
            .collect();
        let mut ok = 0;
        for call in calls {
            ok += usize::from(call.await.unwrap_or(false));
        }
        let wall = started.elapsed();
        done.store(true, Ordering::Relaxed);
        sampler.await.unwrap();
        let peak = peak.load(Ordering::Relaxed);
        let per_call = peak.saturating_sub(baseline) / n as u64;
        rows.push(vec![
            n.to_string(),
            format!("{ok}"),
            mib(baseline),
            mib(peak),
            format!("{:.0} KiB", per_call as f64 / 1024.0),
            format!("{:.1} s", wall.as_secs_f64()),
        ]);
        drop((probe, host));
    }
    report.section("4. Memory with calls in flight");
    report.para(&format!(
        "N concurrent calls of the probe plugin, each holding one HTTP request that a loopback \
         upstream (a separate process) answers after {} s; pooling allocator sized to N. Peak \
         `VmRSS` of the host process sampled every 20 ms; baseline after one warm-up call.",
        HOLD_MS / 1000
    ));
    report.table(
        &[
            "in flight",
            "succeeded",
            "baseline RSS",
            "peak RSS",
            "per call",
            "wall time",
        ],
        rows,
    );
}
