//! Peak resident memory with many calls held in flight by a slow upstream.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use patchbay::{Credentials, Host, Limits, Settings};
use serde_json::json;

use crate::stats::{mib, page_table_bytes, rss_bytes};
use crate::{Report, spawn_child, test_plugin_path};

/// How long the upstream holds each request.
const HOLD_MS: u64 = 5_000;

/// What a mapping of this process holds, as the breakdown names it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Memories,
    Stacks,
    Heap,
    Files,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Memories, Kind::Stacks, Kind::Heap, Kind::Files];

    fn name(self) -> &'static str {
        match self {
            Kind::Memories => "pooled linear memories",
            Kind::Stacks => "pooled fiber stacks",
            Kind::Heap => "malloc heap, arenas and thread stacks",
            Kind::Files => "files (code, libraries)",
        }
    }
}

/// Memory a kind of mapping holds: `Rss` counts every page mapped into it,
/// a page mapped in many places (the module's image, in every slot) in
/// each; `Pss` splits a shared page among the places it is mapped, so the
/// kinds' `Pss` add up to the physical memory the process holds.
#[derive(Clone, Copy, Default, Debug)]
struct Usage {
    resident: u64,
    proportional: u64,
}

/// Where this process's memory is, by kind of mapping, and the page
/// tables mapping it.
#[derive(Clone, Copy, Debug)]
struct Snapshot {
    kinds: [Usage; 4],
    page_tables: u64,
}

impl Snapshot {
    /// Physical memory: every kind's `Pss` and the page tables.
    fn physical(&self) -> u64 {
        self.kinds.iter().map(|u| u.proportional).sum::<u64>() + self.page_tables
    }
}

/// The address ranges of this process's mappings (`/proc/self/maps`).
fn mapped_ranges() -> Vec<(u64, u64)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter_map(|line| address_range(line.split_whitespace().next()?))
        .collect()
}

/// `start-end` in hex, as the maps files write a mapping's range.
fn address_range(field: &str) -> Option<(u64, u64)> {
    let (start, end) = field.split_once('-')?;
    Some((u64::from_str_radix(start, 16).ok()?, u64::from_str_radix(end, 16).ok()?))
}

/// The pool of linear memories: the largest mapping that building the
/// host added (wasmtime reserves the whole pool as one mapping, and its
/// slots split it only as calls use them).
fn memory_pool(before: &[(u64, u64)]) -> (u64, u64) {
    let before: std::collections::HashSet<u64> = before.iter().map(|&(start, _)| start).collect();
    mapped_ranges()
        .into_iter()
        .filter(|(start, _)| !before.contains(start))
        .max_by_key(|(start, end)| end - start)
        .expect("building the host reserves the memory pool")
}

/// Memory by kind, from `/proc/self/smaps` read a line at a time (read
/// whole, it would put tens of MiB on the heap being measured: a dozen
/// lines for each of the tens of thousands of mappings of the slots).
/// A mapping inside `pool` is a linear memory; a fiber stack is a
/// read-write mapping of exactly 2 MiB right above a one-page guard;
/// other mappings of files are code and libraries; the rest (the malloc
/// heap and its arenas, thread stacks) is the heap.
fn snapshot(pool: (u64, u64)) -> Snapshot {
    use std::io::BufRead;
    const STACK: u64 = 2 << 20;
    let mut kinds = [Usage::default(); 4];
    let Ok(file) = std::fs::File::open("/proc/self/smaps") else {
        return Snapshot { kinds, page_tables: 0 };
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = String::new();
    let mut kind = Kind::Heap;
    // The last mapping's range and whether it was a one-page guard.
    let mut last: Option<(u64, u64)> = None;
    let mut last_was_guard = false;
    while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if let Some((start, end)) = address_range(first) {
            let perms = words.next().unwrap_or("");
            let name = words.nth(3).unwrap_or("");
            let stack = perms.starts_with("rw")
                && end - start == STACK
                && last_was_guard
                && last.is_some_and(|(_, last_end)| last_end == start);
            kind = if start >= pool.0 && end <= pool.1 {
                Kind::Memories
            } else if stack {
                Kind::Stacks
            } else if name.starts_with('/') && !name.starts_with("/memfd:") {
                Kind::Files
            } else {
                Kind::Heap
            };
            last_was_guard = perms.starts_with("---") && end - start == 4096;
            last = Some((start, end));
        } else if let Some(kb) = words.next().and_then(|kb| kb.parse::<u64>().ok()) {
            let usage = &mut kinds[kind as usize];
            match first {
                "Rss:" => usage.resident += kb * 1024,
                "Pss:" => usage.proportional += kb * 1024,
                _ => {}
            }
        }
        line.clear();
    }
    Snapshot {
        kinds,
        page_tables: page_table_bytes(),
    }
}

/// What holding calls in flight cost.
struct Held {
    succeeded: usize,
    /// `VmRSS` before the calls, and its peak while they were held.
    baseline: u64,
    peak: u64,
    /// Memory before the calls, and three quarters into the hold.
    before: Snapshot,
    during: Snapshot,
    wall: Duration,
}

impl Held {
    /// Physical memory the held calls added.
    fn physical_growth(&self) -> i64 {
        self.during.physical() as i64 - self.before.physical() as i64
    }
}

/// Starts `n` calls of `call` at once and holds them until the upstream
/// answers, sampling `VmRSS` every 20 ms and taking a snapshot three
/// quarters into the hold (every call is in flight well before the
/// upstream answers the first).
async fn hold<F, C>(n: usize, pool: (u64, u64), call: F) -> Held
where
    F: Fn() -> C,
    C: Future<Output = bool> + Send + 'static,
{
    let before = snapshot(pool);
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
    let started = Instant::now();
    let during = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(HOLD_MS * 3 / 4)).await;
        snapshot(pool)
    });
    let calls: Vec<_> = (0..n).map(|_| tokio::spawn(call())).collect();
    let mut succeeded = 0;
    for call in calls {
        succeeded += usize::from(call.await.unwrap_or(false));
    }
    let wall = started.elapsed();
    let during = during.await.unwrap();
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    Held {
        succeeded,
        baseline,
        peak: peak.load(Ordering::Relaxed),
        before,
        during,
        wall,
    }
}

/// Holds `n` requests to the upstream's slow path with `reqwest` alone
/// (what a native client pays per request in flight) and returns the
/// physical memory they added.
pub async fn reqwest_alone(n: usize, upstream: &str) -> i64 {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{upstream}/sleep/{HOLD_MS}");
    // One request first, so the baseline includes a warm client.
    client.get(format!("{upstream}/sleep/0")).send().await.unwrap();
    let held = hold(n, (0, 0), || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            match client.get(&url).send().await {
                Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await;
    assert_eq!(held.succeeded, n, "every request held by reqwest alone succeeds");
    held.physical_growth()
}

pub async fn in_flight(report: &mut Report, upstream: &str, counts: &[usize]) {
    let mut rows = Vec::new();
    let mut breakdown = Vec::new();
    // The largest count's figures: physical memory per call, and what
    // reqwest alone held per request.
    let mut largest = None;
    for &n in counts {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(test_plugin_path("probe"), dir.path().join("probe.wasm")).unwrap();
        let before_host = mapped_ranges();
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
        let pool = memory_pool(&before_host);
        let probe = host
            .connect(
                "other/probe",
                Credentials::new(),
                Settings::from([("base".to_string(), upstream.to_string())]),
            )
            .unwrap();
        // One call first, so the baseline includes the compiled plugin and a warm client.
        probe.test().await.unwrap();
        let input = json!({"name": "request", "input": json!({
            "url": format!("{upstream}/sleep/{HOLD_MS}"), "no_retry": true, "timeout_ms": 100_000
        }).to_string()});
        let held = hold(n, pool, || {
            let (probe, input) = (probe.clone(), input.clone());
            async move {
                let out = probe.call_json("actions.execute", &input).await;
                matches!(out, Ok(ref v) if v.as_str().is_some_and(|s| s.contains("\"status\":200")))
            }
        })
        .await;
        drop((probe, host));
        // The same requests held by `reqwest` alone, no plugin, in a fresh
        // process (here, it would reuse the heap the calls above freed).
        let alone: i64 = spawn_child(&["--hold-alone", &n.to_string(), upstream])
            .url
            .parse()
            .expect("--hold-alone writes the bytes it grew by");
        let kib = |bytes: i64| format!("{:.1} KiB", bytes as f64 / 1024.0 / n as f64);
        let physical = held.physical_growth();
        largest = Some((n, held.before, held.during, alone));
        rows.push(vec![
            n.to_string(),
            format!("{}", held.succeeded),
            mib(held.baseline),
            mib(held.peak),
            kib(held.peak.saturating_sub(held.baseline) as i64),
            kib(physical),
            kib(alone),
            format!("{:.1} s", held.wall.as_secs_f64()),
        ]);
        breakdown.push((n, held.before, held.during));
    }
    report.section("4. Memory with calls in flight");
    report.para(&format!(
        "N concurrent calls of the probe plugin, each holding one HTTP request that a loopback \
         upstream (a separate process) answers after {} s; pooling allocator sized to N; one \
         warm-up call first. Two figures per call: the growth of the host process's peak `VmRSS` \
         (sampled every 20 ms), which counts a page once for every place it is mapped — the \
         module's initial memory image is mapped into every slot, and each call counts the \
         image pages it reads again — and its physical memory three quarters into the hold: \
         the `Pss` of every mapping in `/proc/self/smaps` (a shared page split among the places \
         it is mapped) plus the page tables (`VmPTE`), which no `Rss` counts but every slot and \
         stack needs its own of.",
        HOLD_MS / 1000
    ));
    report.table(
        &[
            "in flight",
            "succeeded",
            "baseline RSS",
            "peak RSS",
            "per call: RSS",
            "per call: physical",
            "reqwest alone: physical",
            "wall time",
        ],
        rows,
    );
    report.para(
        "Where the growth is, three quarters into the hold, against the baseline (by mapping: \
         the pool's memories are the mappings inside the one reservation building the host \
         made, its fiber stacks the 2 MiB mappings above one-page guards; the pipeline's own \
         work runs on worker threads, not on the fiber, so that its deep polls do not stay \
         resident per call):",
    );
    let mut header = vec!["growth per call".to_string()];
    for (n, ..) in &breakdown {
        header.push(format!("{n} in flight: RSS"));
        header.push(format!("{n} in flight: physical"));
    }
    let mut table = Vec::new();
    for kind in Kind::ALL {
        let mut row = vec![kind.name().to_string()];
        for (n, before, during) in &breakdown {
            let (then, now) = (before.kinds[kind as usize], during.kinds[kind as usize]);
            let per_call = |bytes: i64| format!("{:.1} KiB", bytes as f64 / 1024.0 / *n as f64);
            row.push(per_call(now.resident as i64 - then.resident as i64));
            row.push(per_call(now.proportional as i64 - then.proportional as i64));
        }
        table.push(row);
    }
    let mut row = vec!["page tables".to_string()];
    for (n, before, during) in &breakdown {
        row.push("—".into());
        row.push(format!(
            "{:.1} KiB",
            (during.page_tables as i64 - before.page_tables as i64) as f64 / 1024.0 / *n as f64
        ));
    }
    table.push(row);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    report.table(&header, table);
    let Some((n, before, during, alone)) = largest else {
        return;
    };
    let per_call = |bytes: i64| bytes as f64 / 1024.0 / n as f64;
    let grown = |kind: Kind| {
        per_call(during.kinds[kind as usize].proportional as i64 - before.kinds[kind as usize].proportional as i64)
    };
    let physical = per_call(during.physical() as i64 - before.physical() as i64);
    let alone = per_call(alone);
    report.para(&format!(
        "Target ≤ 64 KiB of physical memory per call in flight: {verdict}. Where it goes, at \
         {n} in flight: {alone:.0} KiB is what `reqwest` itself holds for a request in flight \
         (hyper's connection buffers and dispatch channel; measured by the last column), which \
         any client making the request pays; the other {own:.0} KiB are the runtime's: \
         {memory:.0} KiB of linear memory (the pages the call dirties in its own instance's \
         memory — its shadow stack's top, the heap holding its request, the data pages copied \
         on write from the module's image), {stack:.0} KiB of fiber stack (the guest's frames \
         and wasmtime's entry into it), {tables:.0} KiB of page tables (each memory slot, fiber \
         stack and table a call uses lies in a reservation of its own, far from the others', \
         and needs a page-table page of its own) and {heap:.0} KiB of heap beyond reqwest's \
         (the instance's contexts and store, the call's task and futures). What stands in the \
         way of 64 KiB is that the runtime's share alone is close to it: an instance per call, \
         isolated from every other, costs a memory, a stack and their page tables.",
        verdict = if physical <= 64.0 {
            format!("met ({physical:.0} KiB)")
        } else {
            format!("not met ({physical:.0} KiB)")
        },
        own = physical - alone,
        memory = grown(Kind::Memories),
        stack = grown(Kind::Stacks),
        tables = per_call(during.page_tables as i64 - before.page_tables as i64),
        heap = grown(Kind::Heap) - alone,
    ));
}
