//! `just bench`: side-by-side figures written to BENCHMARKS.md.
//!
//! ```sh
//! cargo bench -p patchbay-tests --features bench --bench compare -- \
//!     --out BENCHMARKS.md --python target/venv-bench/bin/python
//! ```
//!
//! Medians and spreads (p10–p90) of many runs, and ratios measured in the
//! same run on the same machine; never one wall-clock time.
//!
//! `--profile OPERATION SECONDS` writes nothing: it runs one of §1's
//! operations (`guest`, `fetch`, `direct`, ... — a wrong name lists them)
//! in a loop for that long, with the plugins' functions named for `perf`
//! (`/tmp/perf-PID.map`), and prints the `perf record` line to attach.

mod calls;
mod load;
mod memory;
mod native;
mod replicas;
mod seed;
mod service;
mod stats;
mod storage;
mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use patchbay_tests::woocommerce::{MockShop, ShopConfig};

/// The §1 operation `--profile` loops, and for how long.
static PROFILE: OnceLock<(String, Duration)> = OnceLock::new();

/// What `--profile` asked for, if it did.
pub fn profile() -> Option<&'static (String, Duration)> {
    PROFILE.get()
}

/// The Markdown being written.
pub struct Report {
    text: String,
}

impl Report {
    fn section(&mut self, title: &str) {
        println!("==> {title}");
        self.text.push_str(&format!("\n## {title}\n\n"));
    }

    fn para(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push_str("\n\n");
    }

    fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        self.text
            .push_str(&line(header.iter().map(|h| h.to_string()).collect()));
        self.text
            .push_str(&line(header.iter().map(|_| "---".to_string()).collect()));
        for row in rows {
            println!("    {}", row.join("  |  "));
            self.text.push_str(&line(row));
        }
        self.text.push('\n');
    }
}

/// `existing` with its section `## {number}. …` replaced by `section` (or
/// `section` added after the sections before it).
fn splice(existing: &str, number: &str, section: &str) -> String {
    let header = format!("\n## {number}. ");
    let start = existing.find(&header);
    let end = start.and_then(|at| existing[at + 1..].find("\n## ").map(|n| at + 1 + n));
    match (start, end) {
        (Some(start), Some(end)) => format!(
            "{}\n{}\n{}",
            existing[..start].trim_end(),
            section.trim_end(),
            &existing[end..]
        ),
        (Some(start), None) => format!("{}\n{}", existing[..start].trim_end(), section),
        (None, _) => format!("{}\n{}", existing.trim_end(), section),
    }
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn built(dir: &str, name: &str) -> PathBuf {
    let path = workspace().join(dir).join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run `just build-plugins`",
        path.display()
    );
    path
}

/// A plugin built by `just build-plugins`.
pub fn plugin_path(name: &str) -> PathBuf {
    built("target/plugins", name)
}

/// A test guest built by `just build-plugins`.
pub fn test_plugin_path(name: &str) -> PathBuf {
    built("target/test-plugins", name)
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn locked_version(name: &str) -> String {
    let lock = std::fs::read_to_string(workspace().join("Cargo.lock")).unwrap_or_default();
    let marker = format!("name = \"{name}\"\nversion = \"");
    lock.find(&marker)
        .map(|at| {
            let rest = &lock[at + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}

fn machine(python: Option<&Path>) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let python = python
        .map(|p| command_output(p.to_str().unwrap(), &["--version"]))
        .unwrap_or_else(|| "not used".into());
    format!(
        "| | |\n|---|---|\n| CPU | {cpu} ({cores} cores available) |\n| memory | {memory} |\n\
         | OS | {} |\n| Rust | {} |\n| wasmtime | {} |\n| Patchbay | {} (release build) |\n| Python | {python} |\n",
        command_output("uname", &["-sr"]),
        command_output("rustc", &["-V"]),
        locked_version("wasmtime"),
        env!("CARGO_PKG_VERSION"),
    )
}

/// The slow upstream for the memory figures, in a process of its own so
/// that its sockets do not count against the host's.
fn serve_upstream(url_file: &Path) -> ! {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let upstream = patchbay_tests::hostile::Hostile::start().await.unwrap();
        std::fs::write(url_file, upstream.url()).unwrap();
        std::future::pending::<()>().await;
    });
    unreachable!("the upstream serves until killed")
}

/// A mock WooCommerce shop holding `orders`, in a process of its own, for
/// the figures that compare clients (§1, §5): its CPU time is not the
/// client's, and it serves each page pre-rendered.
fn serve_shop(orders: u32, url_file: &Path) -> ! {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = ShopConfig {
            orders,
            ..shop_config()
        };
        let shop = MockShop::start(config, 0).await.unwrap();
        std::fs::write(url_file, shop.url()).unwrap();
        std::future::pending::<()>().await;
    });
    unreachable!("the shop serves until killed")
}

/// A server this bench started in a child process; killed when dropped.
pub struct Upstream {
    child: std::process::Child,
    pub url: String,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this bench again with `args` (a `--serve-…` mode, or
/// `--hold-alone`) and waits for the URL (or the figure) it writes.
pub fn spawn_child(args: &[&str]) -> Upstream {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut upstream = Upstream {
        child: std::process::Command::new(std::env::current_exe().unwrap())
            .args(args)
            .arg(file.path())
            .spawn()
            .unwrap(),
        url: String::new(),
    };
    for _ in 0..600 {
        upstream.url = std::fs::read_to_string(file.path()).unwrap_or_default();
        if !upstream.url.is_empty() {
            return upstream;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the {args:?} process did not start");
}

fn spawn_upstream() -> Upstream {
    spawn_child(&["--serve-upstream"])
}

/// The mock shop's configuration in §1 and §5: keys as long as the ones
/// WooCommerce issues (`ck_`/`cs_` and 40 hex digits), since the host
/// looks for every form of them in each response.
fn shop_config() -> ShopConfig {
    ShopConfig {
        consumer_key: "ck_4f1b2c3d4e5f60718293a4b5c6d7e8f901234567".into(),
        consumer_secret: "cs_9a8b7c6d5e4f30211203f4e5d6c7b8a9f0123456".into(),
        ..ShopConfig::default()
    }
}

/// The mock shop of §1 and §5, in its own process.
pub struct Shop {
    process: Upstream,
    pub config: ShopConfig,
}

impl Shop {
    pub fn spawn(orders: u32) -> Self {
        Self {
            process: spawn_child(&["--serve-shop", &orders.to_string()]),
            config: shop_config(),
        }
    }

    pub fn url(&self) -> String {
        self.process.url.clone()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    if let Some(file) = value("--serve-upstream") {
        serve_upstream(&file);
    }
    if let Some(orders) = value("--serve-shop") {
        let orders = orders
            .to_str()
            .and_then(|n| n.parse().ok())
            .expect("--serve-shop ORDERS FILE");
        let file = args
            .iter()
            .position(|a| a == "--serve-shop")
            .and_then(|i| args.get(i + 2));
        serve_shop(orders, Path::new(file.expect("--serve-shop ORDERS FILE")));
    }
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let (Some(name), Some(seconds)) = (args.get(i + 1), args.get(i + 2).and_then(|s| s.parse().ok())) else {
            panic!("--profile OPERATION SECONDS");
        };
        PROFILE.set((name.clone(), Duration::from_secs(seconds))).unwrap();
    }
    let out = value("--out").unwrap_or_else(|| workspace().join("BENCHMARKS.md"));
    let python = value("--python").filter(|p| p.is_file());
    let in_flight: Vec<usize> = if args.iter().any(|a| a == "--quick") {
        vec![100, 1_000]
    } else {
        vec![1_000, 10_000]
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(i) = args.iter().position(|a| a == "--hold-alone") {
        let (Some(n), Some(upstream), Some(file)) = (
            args.get(i + 1).and_then(|n| n.parse().ok()),
            args.get(i + 2),
            args.get(i + 3),
        ) else {
            panic!("--hold-alone CALLS UPSTREAM FILE");
        };
        let grown = runtime.block_on(memory::reqwest_alone(n, upstream));
        std::fs::write(file, grown.to_string()).unwrap();
        return;
    }
    let mut report = Report { text: String::new() };
    if profile().is_some() {
        runtime.block_on(calls::host_overhead(&mut report));
        return;
    }
    // One section alone, spliced into the existing file in its place.
    let only = [
        ("--only-overhead", "1"),
        ("--only-calls", "2"),
        ("--only-load", "3"),
        ("--only-memory", "4"),
        ("--only-seed", "5"),
        ("--only-service", "6"),
        ("--only-webhooks", "7"),
        ("--only-storage", "8"),
        ("--only-replicas", "9"),
    ]
    .into_iter()
    .find(|(flag, _)| args.iter().any(|a| a == flag));
    if let Some((_, number)) = only {
        runtime.block_on(async {
            match number {
                "1" => calls::host_overhead(&mut report).await,
                "2" => calls::imports(&mut report).await,
                "3" => load::cold_load(&mut report).await,
                "4" => {
                    let upstream = spawn_upstream();
                    memory::in_flight(&mut report, &upstream.url, &in_flight).await;
                }
                "5" => seed::against_the_seed(&mut report, python.as_deref()).await,
                "6" => service::service_throughput(&mut report).await,
                "7" => webhooks::webhook_throughput(&mut report).await,
                "8" => storage::storage_throughput(&mut report).await,
                _ => replicas::replica_throughput(&mut report).await,
            }
        });
        let existing = std::fs::read_to_string(&out).unwrap_or_default();
        std::fs::write(&out, splice(&existing, number, &report.text)).unwrap();
        println!("==> wrote §{number} into {}", out.display());
        return;
    }
    runtime.block_on(async {
        calls::host_overhead(&mut report).await;
        calls::imports(&mut report).await;
        load::cold_load(&mut report).await;
        let upstream = spawn_upstream();
        memory::in_flight(&mut report, &upstream.url, &in_flight).await;
        drop(upstream);
        seed::against_the_seed(&mut report, python.as_deref()).await;
        service::service_throughput(&mut report).await;
        webhooks::webhook_throughput(&mut report).await;
        storage::storage_throughput(&mut report).await;
        replicas::replica_throughput(&mut report).await;
    });
    let document = format!(
        "# Benchmarks\n\nWritten by `just bench` ({}); numbers from one run on the machine below. \
         The machine is shared and noisy: compare the ratios within a run, not absolute times \
         across runs.\n\n{}{}",
        "tests/benches/compare",
        machine(python.as_deref()),
        report.text
    );
    std::fs::write(&out, document).unwrap();
    println!("==> wrote {}", out.display());
}
