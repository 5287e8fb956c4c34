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

/// One mapping of this process's address space (a line of
/// `/proc/self/smaps` and its `Rss`).
struct Mapping {
    start: u64,
    end: u64,
    perms: String,
    name: String,
    resident: u64,
}

fn mappings() -> Vec<Mapping> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut mappings: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        {
            let perms = words.next().unwrap_or("").to_string();
            let name = words.nth(3).unwrap_or("").to_string();
            mappings.push(Mapping {
                start,
                end,
                perms,
                name,
                resident: 0,
            });
        } else if first == "Rss:"
            && let (Some(kb), Some(mapping)) = (words.next().and_then(|kb| kb.parse::<u64>().ok()), mappings.last_mut())
        {
            mapping.resident += kb * 1024;
        }
    }
    mappings
}

/// Resident bytes by kind: the pool's linear memories, its fiber stacks,
/// the malloc heap and other anonymous memory (arenas, thread stacks), and
/// files (code, libraries). wasmtime reserves each pool as one mapping
/// that its slots and guard pages split into many: a fiber stack is a
/// read-write mapping of exactly 2 MiB right above a one-page guard; the
/// memories are what lies in a run of adjacent anonymous mappings that
/// spans a terabyte or holds a memfd (the module's initial memory image,
/// mapped into each slot it instantiates).
fn resident_by_kind() -> [(&'static str, u64); 4] {
    const STACK: u64 = 2 << 20;
    let mappings = mappings();
    let anonymous = |m: &Mapping| m.name.is_empty() || m.name.starts_with("/memfd:");
    // Runs of adjacent anonymous mappings, and whether each is the memory pool.
    let mut pool = vec![false; mappings.len()];
    let mut run_start = 0;
    for i in 0..=mappings.len() {
        let continues = i < mappings.len()
            && i > run_start
            && anonymous(&mappings[i])
            && anonymous(&mappings[i - 1])
            && mappings[i].start == mappings[i - 1].end;
        if continues {
            continue;
        }
        if i > run_start {
            let run = &mappings[run_start..i];
            let span = run[run.len() - 1].end - run[0].start;
            let memfd = run.iter().any(|m| m.name.starts_with("/memfd:"));
            if anonymous(&run[0]) && (span >= 1 << 40 || memfd) {
                pool[run_start..i].fill(true);
            }
        }
        run_start = i;
    }
    let mut kinds = [
        ("pooled linear memories", 0),
        ("pooled fiber stacks", 0),
        ("malloc heap, arenas and thread stacks", 0),
        ("files (code, libraries)", 0),
    ];
    for (i, m) in mappings.iter().enumerate() {
        let stack = m.perms.starts_with("rw")
            && m.end - m.start == STACK
            && i > 0
            && mappings[i - 1].end == m.start
            && mappings[i - 1].perms.starts_with("---")
            && mappings[i - 1].end - mappings[i - 1].start == 4096;
        let kind = if stack {
            1
        } else if pool[i] {
            0
        } else if m.name.starts_with('/') && !m.name.starts_with("/memfd:") {
            3
        } else {
            2
        };
        kinds[kind].1 += m.resident;
    }
    kinds
}

pub async fn in_flight(report: &mut Report, upstream: &str, counts: &[usize]) {
    let mut rows = Vec::new();
    let mut breakdown = Vec::new();
    let mut largest_per_call = None;
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
        let before = resident_by_kind();
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
        // Where the memory is while every call is held (they are all in
        // flight well before the upstream answers the first).
        let during = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(HOLD_MS * 3 / 4)).await;
            resident_by_kind()
        });
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
        let during = during.await.unwrap();
        breakdown.push((n, before, during));
        done.store(true, Ordering::Relaxed);
        sampler.await.unwrap();
        let peak = peak.load(Ordering::Relaxed);
        let per_call = peak.saturating_sub(baseline) / n as u64;
        largest_per_call = Some(per_call as f64 / 1024.0);
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
    report.para(
        "Where the growth is, three quarters into the hold (`Rss` of `/proc/self/smaps` by \
         mapping, against the baseline; the pool's memories are the slots of its one \
         reservation, with the module's initial memory image mapped into each, its fiber \
         stacks the 2 MiB mappings above their guard pages; the pipeline's own work runs on \
         worker threads, not on the fiber, so that its deep polls do not stay resident per \
         call; the split is read from the mappings' shapes, so take it as approximate):",
    );
    let mut header = vec!["resident growth".to_string()];
    header.extend(breakdown.iter().map(|(n, ..)| format!("{n} in flight: per call")));
    let mut table = Vec::new();
    for kind in 0..4 {
        let mut row = vec![breakdown[0].1[kind].0.to_string()];
        for (n, before, during) in &breakdown {
            let grown = during[kind].1 as i64 - before[kind].1 as i64;
            row.push(format!("{:.1} KiB", grown as f64 / 1024.0 / *n as f64));
        }
        table.push(row);
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    report.table(&header, table);
    report.para(&format!(
        "Target ≤ 64 KiB per call in flight: {}. What stands in the way: each call has an \
         instance, and so a linear memory, of its own, and the pages it dirties there (its \
         shadow stack, the heap holding its request and the pending answer, the data pages \
         it writes, each copied on write from the module's image) stay resident until the \
         call ends — most of the growth above; the fiber stack keeps the guest's own frames \
         and wasmtime's entry into it; the rest is the host's state per call (its task, the \
         pending request, the connection's buffers).",
        largest_per_call.map_or("not measured".into(), |kib| {
            if kib <= 64.0 {
                format!("met ({kib:.0} KiB)")
            } else {
                format!("not met ({kib:.0} KiB at the largest N)")
            }
        })
    ));
}
