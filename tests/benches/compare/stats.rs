//! Samples, medians and spreads, and the process's resident memory.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Timings of one measured operation.
#[derive(Debug, Clone)]
pub struct Stats {
    pub samples: Vec<Duration>,
    /// CPU time (user + system, every thread) this process spent per
    /// operation over the measured runs, when it was taken.
    pub cpu: Option<Duration>,
}

/// CPU time this process has used so far, every thread, user and system
/// (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

impl Stats {
    fn sorted(&self) -> Vec<Duration> {
        let mut sorted = self.samples.clone();
        sorted.sort();
        sorted
    }

    fn quantile(&self, q: f64) -> Duration {
        let sorted = self.sorted();
        let index = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[index]
    }

    pub fn median(&self) -> Duration {
        self.quantile(0.5)
    }

    pub fn p10(&self) -> Duration {
        self.quantile(0.1)
    }

    pub fn p90(&self) -> Duration {
        self.quantile(0.9)
    }

    /// Timings without CPU time.
    pub fn of(samples: Vec<Duration>) -> Self {
        Self { samples, cpu: None }
    }

    /// CPU time per operation, `–` when not taken.
    pub fn cpu_cell(&self) -> String {
        self.cpu.map_or_else(|| "–".into(), millis)
    }

    /// `median (p10–p90)` in milliseconds.
    pub fn cell(&self) -> String {
        format!(
            "{} ({}–{})",
            millis(self.median()),
            millis(self.p10()),
            millis(self.p90())
        )
    }
}

/// Milliseconds with precision that fits the size.
pub fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.1} µs", ms * 1000.0)
    }
}

/// `a / b` as `1.23×`.
pub fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

/// Runs `op` `warmup` times unmeasured, then `runs` times measured, with
/// the process's CPU time per run.
pub async fn sample<F, Fut>(warmup: usize, runs: usize, mut op: F) -> Stats
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..warmup {
        op().await;
    }
    let mut samples = Vec::with_capacity(runs);
    let cpu = process_cpu();
    for _ in 0..runs {
        let started = Instant::now();
        op().await;
        samples.push(started.elapsed());
    }
    let cpu = Some((process_cpu() - cpu) / runs as u32);
    Stats { samples, cpu }
}

/// One operation among several sampled side by side by [`interleaved`].
pub type Op<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'a>;

/// Boxes `f` as an [`Op`].
pub fn op<'a, F, Fut>(mut f: F) -> Op<'a>
where
    F: FnMut() -> Fut + 'a,
    Fut: Future<Output = ()> + 'a,
{
    Box::new(move || Box::pin(f()))
}

/// Runs each of `ops` `warmup` times unmeasured, then `runs` rounds in
/// which every op runs once, in turn, each timed and its CPU time taken
/// around it. A slow spell of a shared machine lands on all of them alike,
/// so their ratios hold where back-to-back blocks of runs would each have
/// measured a different machine.
pub async fn interleaved(warmup: usize, runs: usize, ops: &mut [Op<'_>]) -> Vec<Stats> {
    for op in ops.iter_mut() {
        for _ in 0..warmup {
            op().await;
        }
    }
    let mut samples = vec![Vec::with_capacity(runs); ops.len()];
    let mut cpu = vec![Duration::ZERO; ops.len()];
    for _ in 0..runs {
        for (i, op) in ops.iter_mut().enumerate() {
            let (started, cpu_before) = (Instant::now(), process_cpu());
            op().await;
            samples[i].push(started.elapsed());
            cpu[i] += process_cpu().saturating_sub(cpu_before);
        }
    }
    samples
        .into_iter()
        .zip(cpu)
        .map(|(samples, cpu)| Stats {
            samples,
            cpu: Some(cpu / runs as u32),
        })
        .collect()
}

/// Runs `op` in a loop for `duration` after `warmup` runs, for a profiler
/// to attach to this process meanwhile; prints how.
pub async fn profile(name: &str, op: &mut Op<'_>, warmup: usize, duration: Duration) {
    for _ in 0..warmup {
        op().await;
    }
    let pid = std::process::id();
    println!(
        "==> running `{name}` for {} s; the plugins' functions are named in /tmp/perf-{pid}.map. Profile it with:\n    \
         perf record -e cpu-clock -g -p {pid} -- sleep {}",
        duration.as_secs(),
        duration.as_secs().saturating_sub(1).max(1),
    );
    let (started, cpu_before) = (Instant::now(), process_cpu());
    let mut runs = 0u32;
    while started.elapsed() < duration {
        op().await;
        runs += 1;
    }
    let runs = runs.max(1);
    println!(
        "==> {runs} runs: {} wall, {} CPU each",
        millis(started.elapsed() / runs),
        millis(process_cpu().saturating_sub(cpu_before) / runs)
    );
}

/// Resident memory of this process, in bytes (Linux `VmRSS`): every page
/// mapped, a page mapped in several places counted in each.
pub fn rss_bytes() -> u64 {
    status_bytes("VmRSS:")
}

/// This process's page tables, in bytes (Linux `VmPTE`): memory the
/// kernel spends on mapping the process's pages, counted in no `Rss`.
pub fn page_table_bytes() -> u64 {
    status_bytes("VmPTE:")
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Minor page faults of this process so far (Linux `/proc/self/stat`,
/// field 10: faults served without I/O, e.g. a page copied on write or
/// mapped in from a memory image).
pub fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        // The command name, field 2, is in parentheses and may hold spaces.
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.to_string()))
        .and_then(|rest| rest.split_whitespace().nth(7).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Bytes as MiB.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
