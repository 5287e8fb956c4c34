//! Host overhead per call (the WooCommerce adapter through the host vs the
//! same code natively) and the cost of instantiation and host imports.

use std::time::Duration;

use std::path::PathBuf;

use patchbay::types::OrderQuery;
use patchbay::{Connection, Credentials, Host, Settings};
use patchbay_tests::hostile::Hostile;
use serde_json::json;

use crate::native::NativeShop;
use crate::stats::{Op, Stats, interleaved, minor_faults, op, ratio, sample};
use crate::{Report, Shop, plugin_path, test_plugin_path};

const WARMUP: usize = 20;
const RUNS: usize = 200;
/// Calls over which §2 counts page faults per call.
const FAULT_RUNS: usize = 100;

/// A host over one plugin file, with the rate limit lifted (the bench
/// measures the runtime, not the manifest's politeness to real shops).
pub async fn host_with(files: &[std::path::PathBuf], provider: &str) -> Host {
    let dir = tempfile::tempdir().unwrap();
    for file in files {
        std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
    }
    let host = Host::builder()
        .plugins_dir(dir.path())
        .allow_private_network(true)
        .rate_limit(provider, 1e6, 1_000_000)
        .perf_map(crate::profile().is_some())
        .build()
        .await
        .unwrap();
    assert!(host.provider(provider).is_some(), "{:?}", host.load_failures());
    host
}

/// A WooCommerce connection to `shop`; `keep_raw: false` sets the
/// `raw_payload` setting to go without raw payloads.
pub fn woo(host: &Host, shop: &Shop, keep_raw: bool) -> Connection {
    let mut settings = Settings::from([("domain".to_string(), shop.url())]);
    if !keep_raw {
        settings.insert("raw_payload".into(), "false".into());
    }
    host.connect(
        "shop/woocommerce",
        Credentials::from([
            ("consumer_key", shop.config.consumer_key.as_str()),
            ("consumer_secret", shop.config.consumer_secret.as_str()),
        ]),
        settings,
    )
    .unwrap()
}

pub fn native(shop: &Shop) -> NativeShop {
    NativeShop {
        client: reqwest::Client::new(),
        site: shop.url(),
        consumer_key: shop.config.consumer_key.clone(),
        consumer_secret: shop.config.consumer_secret.clone(),
    }
}

const QUERY: OrderQuery = OrderQuery {
    since: None,
    cursor: None,
    limit: Some(100),
};

/// `get-orders` of 100 orders on `connection`, answering `expect` orders.
fn page(connection: &Connection, expect: usize) -> Op<'_> {
    op(move || async move {
        let page = connection.shop().unwrap().get_orders(&QUERY).await.unwrap();
        assert_eq!(page.items.len(), expect);
    })
}

/// A bench-only build of the WooCommerce plugin (`just bench` makes them:
/// the `bench-stop-after-*` stages, the other optimisation level).
fn bench_build(name: &str) -> Option<PathBuf> {
    let path = crate::workspace().join("target/bench").join(format!("{name}.wasm"));
    path.is_file().then_some(path)
}

/// How much slower a guest stage (the difference of two stage builds) runs
/// than its native counterpart (`native` minus `native_before`), as `1.5×`.
fn stage_ratio(
    guest: Option<&Stats>,
    guest_before: Option<&Stats>,
    native: &Stats,
    native_before: Option<&Stats>,
) -> String {
    let native = native
        .median()
        .saturating_sub(native_before.map_or(Duration::ZERO, Stats::median));
    match (guest, guest_before) {
        (Some(g), Some(b)) if !native.is_zero() => ratio(g.median().saturating_sub(b.median()), native),
        _ => "–".into(),
    }
}

/// One row: what, wall median (p10–p90), CPU per call, vs native.
fn row(what: &str, stats: &Stats, native: &Stats) -> Vec<String> {
    vec![
        what.to_string(),
        stats.cell(),
        stats.cpu_cell(),
        ratio(stats.median(), native.median()),
    ]
}

pub async fn host_overhead(report: &mut Report) {
    let shop = Shop::spawn(100);
    let shipped = plugin_path("shop-woocommerce");
    let host = host_with(std::slice::from_ref(&shipped), "shop/woocommerce").await;
    let (connection, connection_lean) = (woo(&host, &shop, true), woo(&host, &shop, false));
    let other_host = match bench_build("shop-woocommerce-other-opt-level") {
        Some(file) => Some(host_with(&[file], "shop/woocommerce").await),
        None => None,
    };
    let other_level = other_host.as_ref().map(|host| woo(host, &shop, true));
    let mut stage_hosts = Vec::new();
    for stage in ["fetch", "parse", "map"] {
        if let Some(file) = bench_build(&format!("shop-woocommerce-stop-after-{stage}")) {
            stage_hosts.push((stage, host_with(&[file], "shop/woocommerce").await));
        }
    }
    let stage_connections: Vec<_> = stage_hosts
        .iter()
        .map(|(stage, host)| (*stage, woo(host, &shop, true)))
        .collect();
    let native = native(&shop);
    let (body, _) = native.fetch(1).await;
    let probe_host = host_with(&[test_plugin_path("probe")], "other/probe").await;
    let probe = probe_host
        .connect("other/probe", Credentials::new(), Settings::new())
        .unwrap();
    // The same page through the pipeline into a guest and back out as a
    // string, parsed nowhere: HTTP, pipeline and copies without the guest's work.
    let carrier = probe_host
        .connect(
            "other/probe",
            Credentials::from([
                ("user", shop.config.consumer_key.as_str()),
                ("token", shop.config.consumer_secret.as_str()),
            ]),
            Settings::from([("base".to_string(), shop.url())]),
        )
        .unwrap();
    let carry_input = json!({"name": "request", "input": json!({
        "url": format!("{}/wp-json/wc/v3/orders?per_page=100&orderby=date&order=desc&page=1", shop.url()),
        "basic": ["user", "token"],
    }).to_string()});
    let json_input = json!({"query": {"limit": 100}});

    // Every operation by name, sampled side by side (see `interleaved`).
    let mut ops: Vec<(&str, Op)> = vec![
        ("guest", page(&connection, 100)),
        ("guest_lean", page(&connection_lean, 100)),
    ];
    if let Some(other) = &other_level {
        ops.push(("other_level", page(other, 100)));
    }
    for (stage, connection) in &stage_connections {
        ops.push((stage, page(connection, 0)));
    }
    ops.extend([
        // The same call through the JSON bridge, as a `serde_json::Value`.
        (
            "bridged",
            op(|| async {
                let out = connection.call_json("shop.get-orders", &json_input).await.unwrap();
                assert_eq!(out["items"].as_array().map(Vec::len), Some(100));
            }),
        ),
        // And written out as JSON text, as `patchbay serve` answers.
        (
            "written",
            op(|| async {
                let out = connection
                    .call_json_output("shop.get-orders", &json_input)
                    .await
                    .unwrap();
                assert!(serde_json::to_vec(&out).unwrap().len() > body.len() / 2);
            }),
        ),
        (
            "direct",
            op(|| async { assert_eq!(native.page(1).await.orders.len(), 100) }),
        ),
        (
            "fetch_only",
            op(|| async { assert!(!native.fetch(1).await.0.is_empty()) }),
        ),
        (
            "parse_only",
            op(|| async { assert_eq!(NativeShop::parse(&body).len(), 100) }),
        ),
        // Mapping takes the parsed orders, so each run parses a page first;
        // the mapping's own time is the difference from parsing alone.
        (
            "parse_map",
            op(|| async { assert_eq!(native.map(NativeShop::parse(&body), true).len(), 100) }),
        ),
        (
            "parse_map_lean",
            op(|| async { assert_eq!(native.map(NativeShop::parse(&body), false).len(), 100) }),
        ),
        (
            "instantiate",
            op(|| async {
                probe.test().await.unwrap();
            }),
        ),
        (
            "carry",
            op(|| async {
                let out = carrier.call_json("actions.execute", &carry_input).await.unwrap();
                assert!(out.as_str().unwrap().contains("\"status\":200"));
            }),
        ),
    ]);
    let (names, mut ops): (Vec<&str>, Vec<Op>) = ops.into_iter().unzip();
    if let Some((name, duration)) = crate::profile() {
        let Some(index) = names.iter().position(|n| n == name) else {
            panic!("--profile: §1 has no operation `{name}`; it has {names:?}");
        };
        return crate::stats::profile(name, &mut ops[index], WARMUP, *duration).await;
    }
    let mut measured: std::collections::HashMap<&str, Stats> = names
        .into_iter()
        .zip(interleaved(WARMUP, RUNS, &mut ops).await)
        .collect();
    drop(ops);
    let mut take = |name: &str| measured.remove(name).expect("every operation is measured");
    let (guest, guest_lean) = (take("guest"), take("guest_lean"));
    let (bridged, written) = (take("bridged"), take("written"));
    let (direct, fetch_only) = (take("direct"), take("fetch_only"));
    let (parse_only, parse_map) = (take("parse_only"), take("parse_map"));
    let (parse_map_lean, instantiate, carry) = (take("parse_map_lean"), take("instantiate"), take("carry"));
    let other_level = measured.remove("other_level");
    let stages: Vec<(&str, Stats)> = ["fetch", "parse", "map"]
        .into_iter()
        .filter_map(|stage| measured.remove(stage).map(|s| (stage, s)))
        .collect();

    report.section("1. Host overhead per call");
    report.para(&format!(
        "`shop.get-orders` with 100 orders per page (≈ {} KiB of JSON) from the mock shop, which \
         runs in a process of its own on loopback and serves the page pre-rendered (its keys as long \
         as the ones WooCommerce issues, since the host looks for them in every response): the \
         WooCommerce plugin through the host (fresh instance per call, pooling allocator) vs \
         the same parsing and mapping code compiled natively calling `reqwest` directly. \
         {WARMUP} warm-up runs of each, then {RUNS} rounds in which every row below runs once, \
         in turn (so a slow spell of the machine lands on all rows alike); wall time median \
         (p10–p90), and the CPU time of the bench process (host, guests and native client all \
         run in it; `CLOCK_PROCESS_CPUTIME_ID` around each run) per call.",
        body.len() / 1024
    ));
    let mut rows = vec![
        row("through the host, as shipped", &guest, &direct),
        row(
            "through the host, `raw_payload = false` (no raw payloads)",
            &guest_lean,
            &direct,
        ),
    ];
    if let Some(other) = &other_level {
        rows.push(row(
            "through the host, the plugin built for size (opt-level \"s\", the other plugins' level)",
            other,
            &direct,
        ));
    }
    rows.push(row(
        "through the host's JSON bridge (`call_json`: a `serde_json::Value`)",
        &bridged,
        &direct,
    ));
    rows.push(row(
        "through the host's JSON bridge, written out as JSON text (`call_json_output`, as `patchbay serve` answers)",
        &written,
        &direct,
    ));
    rows.extend([
        row("native: fetch + parse + map", &direct, &direct),
        row("native: fetch (GET, body read)", &fetch_only, &direct),
        row("native: parse 100 orders (typed, one pass)", &parse_only, &direct),
        row("native: parse + map 100 orders", &parse_map, &direct),
        row(
            "native: parse + map 100 orders without raw payloads",
            &parse_map_lean,
            &direct,
        ),
        row("host: fresh instance + trivial call (probe)", &instantiate, &direct),
        row(
            "host: the same page fetched by a guest and returned unparsed (probe)",
            &carry,
            &direct,
        ),
    ]);
    report.table(&["what", "wall: median (p10–p90)", "CPU per call", "vs native"], rows);

    // The breakdown: each stage's share, natively and in the guest.
    let ms = crate::stats::millis;
    let minus = |a: &Stats, b: &Stats| a.median().saturating_sub(b.median());
    let mut breakdown = vec![
        vec![
            "fetch (GET through the pipeline; the body into guest memory)".into(),
            ms(fetch_only.median()),
            stages.first().map_or("–".into(), |(_, s)| {
                ms(s.median().saturating_sub(instantiate.median()))
            }),
        ],
        vec!["fresh instance and call".into(), "–".into(), ms(instantiate.median())],
    ];
    let stage = |name: &str| stages.iter().find(|(s, _)| *s == name).map(|(_, s)| s);
    let step = |later: Option<&Stats>, earlier: Option<&Stats>| match (later, earlier) {
        (Some(l), Some(e)) => ms(minus(l, e)),
        _ => "–".into(),
    };
    breakdown.push(vec![
        "JSON parse (typed, one pass, raw text kept)".into(),
        ms(parse_only.median()),
        step(stage("parse"), stage("fetch")),
    ]);
    breakdown.push(vec![
        "mapping (raw payloads moved in, not copied)".into(),
        ms(minus(&parse_map, &parse_only)),
        step(stage("map"), stage("parse")),
    ]);
    breakdown.push(vec![
        "raw payloads: keeping them vs `null` (natively the mapping; in the guest the whole call, carrying them out included)".into(),
        ms(parse_map.median().abs_diff(parse_map_lean.median())),
        ms(guest.median().abs_diff(guest_lean.median())),
    ]);
    breakdown.push(vec![
        "lifting 100 orders across the canonical ABI into host types".into(),
        "–".into(),
        step(Some(&guest), stage("map")),
    ]);
    breakdown.push(vec![
        "the JSON bridge (host types to a `serde_json::Value`)".into(),
        "–".into(),
        ms(minus(&bridged, &guest)),
    ]);
    breakdown.push(vec![
        "the JSON bridge written out as text, as `patchbay serve` answers".into(),
        "–".into(),
        ms(minus(&written, &guest)),
    ]);
    breakdown.push(vec!["whole call".into(), ms(direct.median()), ms(guest.median())]);
    report.para(
        "Where one call's time goes, stage by stage (medians; in the guest each stage is the \
         difference between two builds of the plugin that stop after successive stages and \
         answer an empty page — `just bench` builds them with the plugin's \
         `bench-stop-after-fetch`, `-parse` and `-map` features; the raw payloads' row is the \
         difference between the two connections above, and so includes carrying them out):",
    );
    report.table(&["stage", "native", "in the guest"], breakdown);
    let added = carry.median().saturating_sub(fetch_only.median() + parse_only.median());
    let into_guest = stages.first().map(|(_, fetched)| {
        fetched
            .median()
            .saturating_sub(instantiate.median() + fetch_only.median())
    });
    report.para(&format!(
        "Ratio guest/native: **{}** (target ≤ 1.25×, stretch 1.10×); without raw payloads {}. \
         Host-added time for the page fetched through the pipeline into a guest: **{}** over \
         native fetch ({}); fetched and handed back unparsed through the JSON \
         bridge (the probe row), {} over native fetch + parse — the bridge writing 181 KB \
         back out as a JSON string is most of that. What stands in the way of 1.25×: the \
         guest parses the same bytes with the same serde_json code in {} native code's time \
         (a difference of two builds' medians, so the noisiest figure here; WebAssembly \
         without the native build's SIMD — the guest built with WebAssembly's simd128 ran \
         slower, 1.89 ms against 1.77 ms, side by side; its loads and stores are \
         not bounds-checked — the pool reserves 4 GiB of address space per memory so the \
         guard pages catch every stray access, which took this ratio from 2.2× to 2.0× in \
         side-by-side runs), maps in {} of its time (every string through the guest's allocator, \
         wasi-libc's dlmalloc; talc in its place measured within 2 % of it, so the plugins \
         keep the default), \
         and lifting the 100 mapped orders (thousands of strings, each allocated and checked \
         on the host) adds {} that a native call does not have. Cut where a `perf` profile \
         showed the time: the guest's post-return freed every string of the answer one by \
         one (about a tenth of the guest's time) although the instance is dropped next — the \
         Rust SDK's allocator now skips the frees once an export has its answer \
         (`sdk/src/answer.rs`); every Rust plugin starts with a 4 MiB linear memory \
         (`plugins/.cargo/config.toml`), where a page of 100 orders grew memory ten times a \
         call, each grow an `mprotect` on the host; \
         the page's UTF-8 is checked once, not again per string; the mapping moves the parsed \
         strings into the order instead of copying them; the host copies each body chunk once \
         while looking for reflected secrets, and looks for them with Teddy, aho-corasick's \
         SIMD searcher (its automaton stopped at every `c` of the page for the `ck_`/`cs_` \
         keys: 335 µs a page for keys of WooCommerce's length, Teddy 18 µs). Measured and \
         not taken: mimalloc as the host's allocator made the call through the host 8 % \
         faster but native code 20 % faster (its parse is bound by malloc), and cost 17 KiB \
         more per call in flight (§4). The JSON bridge costs more \
         than the typed call's lifting: wasmtime's dynamic lifting allocates every record's \
         field names as strings, once per order; `patchbay serve` then writes the lifted \
         value straight into the response body, where `call_json` builds a \
         `serde_json::Value` tree (its strings and keys moved, not copied). {}",
        ratio(guest.median(), direct.median()),
        ratio(guest_lean.median(), direct.median()),
        into_guest.map_or("–".into(), ms),
        match into_guest {
            Some(added) if added <= Duration::from_micros(300) => "target ≤ 0.3 ms: met".to_string(),
            _ => "target ≤ 0.3 ms: not met; taken in rounds with the other rows, so each fetch finds \
                  the caches as the row before it left them"
                .to_string(),
        },
        ms(added),
        stage_ratio(stage("parse"), stage("fetch"), &parse_only, None),
        stage_ratio(stage("map"), stage("parse"), &parse_map, Some(&parse_only)),
        step(Some(&guest), stage("map")),
        match &other_level {
            Some(other) => format!(
                "The plugin ships built for speed (opt-level 3, set for it alone in \
                 `plugins/Cargo.toml`: {} KiB, the other plugins are built for size); built for \
                 size ({} KiB) it runs at {} of native.",
                std::fs::metadata(&shipped).map(|m| m.len() / 1024).unwrap_or(0),
                bench_build("shop-woocommerce-other-opt-level")
                    .and_then(|f| std::fs::metadata(f).ok())
                    .map_or(0, |m| m.len() / 1024),
                ratio(other.median(), direct.median())
            ),
            None => String::new(),
        }
    ));
}

pub async fn imports(report: &mut Report) {
    let upstream = Hostile::start().await.unwrap();
    let host = host_with(&[test_plugin_path("probe")], "other/probe").await;
    let probe = host
        .connect(
            "other/probe",
            Credentials::new(),
            Settings::from([("base".to_string(), upstream.url())]),
        )
        .unwrap();
    let action = |name: &str, input: serde_json::Value| json!({"name": name, "input": input.to_string()});
    let trivial = sample(WARMUP, RUNS, || async {
        probe.test().await.unwrap();
    })
    .await;
    let config_input = action("config", json!({"name": "base"}));
    let config = sample(WARMUP, RUNS, || async {
        probe.call_json("actions.execute", &config_input).await.unwrap();
    })
    .await;
    let kv_input = action("kv", json!({"key": "bench", "value": "x"}));
    let kv = sample(WARMUP, RUNS, || async {
        probe.call_json("actions.execute", &kv_input).await.unwrap();
    })
    .await;
    let http_input = action("request", json!({"url": format!("{}/echo", upstream.url())}));
    let http = sample(WARMUP, RUNS, || async {
        probe.call_json("actions.execute", &http_input).await.unwrap();
    })
    .await;
    let client = reqwest::Client::new();
    let echo = format!("{}/echo", upstream.url());
    let native_http = sample(WARMUP, RUNS, || async {
        client.get(&echo).send().await.unwrap().bytes().await.unwrap();
    })
    .await;
    report.section("2. Instantiation and calls");
    report.para(&format!(
        "Each call instantiates the plugin afresh from its `InstancePre` (pooling allocator). \
         {RUNS} runs after {WARMUP} warm-up runs. First the Rust probe guest with each host \
         import; then one plugin per language, each answering `connector.manifest` (no I/O), \
         which is what instantiating a guest and one call into it cost in that language."
    ));
    let row =
        |what: &str, stats: &Stats, base: Duration| vec![what.to_string(), stats.cell(), ratio(stats.median(), base)];
    report.table(
        &["call", "median (p10–p90)", "vs trivial call"],
        vec![
            row(
                "fresh instance + `connector.test-connection` (trivial)",
                &trivial,
                trivial.median(),
            ),
            row("+ one `config.get` host call (JSON action)", &config, trivial.median()),
            row("+ `kv` set and get (SQLite)", &kv, trivial.median()),
            row("+ one `http` request to a loopback echo", &http, trivial.median()),
            row("native `reqwest` GET of the same echo", &native_http, trivial.median()),
        ],
    );
    let mut rows = Vec::new();
    for (language, file, provider) in LANGUAGES {
        let host = host_with(&[plugin_path(file)], provider).await;
        let plugin = host.provider(provider).unwrap();
        let credentials: Credentials = plugin
            .manifest()
            .credentials
            .iter()
            .map(|c| (c.name.clone(), "bench".to_string()))
            .collect();
        // Required settings get an address nobody is asked to answer: manifest calls do no I/O.
        let settings: Settings = plugin
            .manifest()
            .settings
            .iter()
            .filter(|s| s.required)
            .map(|s| (s.name.clone(), "http://127.0.0.1:9".to_string()))
            .collect();
        let conn = host.connect(provider, credentials, settings).unwrap();
        let call = || async {
            conn.call_json("connector.manifest", &json!({})).await.unwrap();
        };
        let manifest = sample(WARMUP, RUNS, call).await;
        // Page faults per call, counted over runs of their own once the
        // pool's slots are warm.
        let before = minor_faults();
        for _ in 0..FAULT_RUNS {
            call().await;
        }
        let faults = (minor_faults() - before) as f64 / FAULT_RUNS as f64;
        let size = std::fs::metadata(plugin_path(file)).map(|m| m.len()).unwrap_or(0);
        rows.push(vec![
            format!("{language}: `{provider}`"),
            format!("{:.1} MiB", size as f64 / (1024.0 * 1024.0)),
            manifest.cell(),
            ratio(manifest.median(), trivial.median()),
            format!("{faults:.0}"),
        ]);
    }
    report.table(
        &[
            "fresh instance + `connector.manifest`",
            "component",
            "median (p10–p90)",
            "vs Rust trivial call",
            "page faults per call",
        ],
        rows,
    );
    report.para(&format!(
        "Page faults are counted over {FAULT_RUNS} more calls each, once the pool's slots are warm (minor \
         faults of the process, `/proc/self/stat`). What dominates the two large components, \
         profiled with `perf` on this machine (not part of the bench): the JavaScript engine's own \
         work in the call is about half of the TypeScript row and the page faults a third; in \
         the Python row a third is page faults and another third is wasmtime's `ref.func`, which \
         componentize-py's dynamically linked libraries execute for each function they put in \
         their table on every instantiation and which wasmtime compiles into a call into the \
         runtime that looks the function up (bytecodealliance/wasmtime#8212), the rest Python \
         itself. The faults are the pages of the memory image (12 MiB for Python) that a call \
         touches, each mapped in or copied on write from the image again on the next call. \
         What the host does about it: the image is mapped, not copied, into a pooled slot; up \
         to 1 MiB of the pages a call dirtied are reset in place and stay resident for the \
         slot's next instance (PAGEMAP_SCAN finds them), the rest are released. Keeping up to \
         64 MiB resident did not lower the Python row's faults reliably: wasmtime's scan stops \
         after 32 runs of dirty pages and releases everything past them, and the interpreter's \
         heap dirties pages more scattered than that. When the issue was filed the TypeScript \
         and Python rows read 2.3 ms and 7 ms."
    ));
}

/// One adapter per language: (language, file in target/plugins, provider).
pub const LANGUAGES: [(&str, &str, &str); 4] = [
    ("Rust", "shop-woocommerce", "shop/woocommerce"),
    ("TypeScript (componentize-js)", "messaging-discord", "messaging/discord"),
    ("Python (componentize-py)", "llm-gemini", "llm/gemini"),
    ("C (wit-bindgen c, zig)", "llm-ollama", "llm/ollama"),
];
