//! The `patchbay` command line, run as a process.

use std::path::PathBuf;
use std::process::{Command, Output};

use patchbay_tests::woocommerce::{MockShop, ShopConfig};
use serde_json::Value;

use crate::support::{plugin, plugins_dir};

/// `target/<profile>/patchbay`, next to this test binary's `deps/`.
fn patchbay() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|deps| deps.parent()).unwrap().join("patchbay");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p patchbay` (`just test` does)",
        bin.display()
    );
    bin
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(patchbay())
            .args(&args)
            .env("RUST_LOG", "error")
            .env("PATCHBAY_CACHE", std::env::temp_dir().join("patchbay-cli-test-cache"))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[tokio::test]
async fn inspect_reports_family_capabilities_and_allowed_hosts() {
    let wasm = plugin("shop-woocommerce");
    let output = run(args(&["inspect", wasm.to_str().unwrap(), "--json"])).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc = stdout_json(&output);
    assert_eq!(doc["provider"], "shop/woocommerce");
    assert_eq!(doc["family"], "shop");
    assert_eq!(doc["port"], "shop");
    assert_eq!(doc["capabilities"], serde_json::json!([]));
    assert_eq!(doc["allowed-hosts"], serde_json::json!(["{{setting.domain}}"]));
    assert_eq!(doc["contract-version"], "0.1.0");
    assert_eq!(doc["manifest"]["credentials"][0]["secret"], true);
    let schema = &doc["functions"]["shop.get-orders"]["params"]["query"];
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"]["since"].is_object());

    let human = run(args(&["inspect", wasm.to_str().unwrap()])).await;
    assert!(String::from_utf8_lossy(&human.stdout).contains("shop/woocommerce  WooCommerce"));

    let missing = run(args(&["inspect", "/nonexistent.wasm"])).await;
    assert_eq!(missing.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.wasm: cannot read"));
}

#[tokio::test]
async fn providers_lists_what_loaded_and_what_was_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(plugin("shop-woocommerce"), dir.path().join("shop-woocommerce.wasm")).unwrap();
    std::fs::write(dir.path().join("broken.wasm"), b"nope").unwrap();
    let output = run(args(&[
        "providers",
        "--plugins",
        dir.path().to_str().unwrap(),
        "--json",
    ]))
    .await;
    assert!(output.status.success());
    let doc = stdout_json(&output);
    assert_eq!(doc["providers"][0]["provider"], "shop/woocommerce");
    assert!(
        doc["skipped"][0]
            .as_str()
            .unwrap()
            .contains("broken.wasm: not a WebAssembly file")
    );
}

#[tokio::test]
async fn call_pages_through_orders_and_reports_errors_with_exit_codes() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let db = tempfile::tempdir().unwrap();
    let base = |secret: &str, input: &str| {
        args(&[
            "call",
            "shop/woocommerce",
            "shop.get-orders",
            "--plugins",
            plugins_dir().to_str().unwrap(),
            "--database",
            db.path().join("state.db").to_str().unwrap(),
            "--setting",
            &format!("domain={}", shop.url()),
            "--credential",
            "consumer_key=ck_test",
            "--credential",
            &format!("consumer_secret={secret}"),
            "--json",
            input,
            "--allow-private-network",
        ])
    };
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    loop {
        let input = match &cursor {
            Some(c) => format!(r#"{{"query": {{"cursor": "{c}"}}}}"#),
            None => r#"{"query": {}}"#.to_string(),
        };
        let output = run(base("cs_test", &input)).await;
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let page = stdout_json(&output);
        seen += page["items"].as_array().unwrap().len();
        match page["next-cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, 250);

    let denied = run(base("wrong", r#"{"query": {}}"#)).await;
    assert_eq!(denied.status.code(), Some(1), "a connector error exits 1");
    assert!(String::from_utf8_lossy(&denied.stderr).contains("error: auth: HTTP 401: Consumer secret is invalid."));

    let mut json_errors = base("wrong", r#"{"query": {}}"#);
    json_errors.push("--json-errors".into());
    let report: Value = serde_json::from_slice(&run(json_errors).await.stderr).unwrap();
    assert_eq!(report["kind"], "connector");
    assert_eq!(report["error"]["auth"], "HTTP 401: Consumer secret is invalid.");

    let bad_json = run(base("cs_test", "{not json")).await;
    assert_eq!(bad_json.status.code(), Some(2), "invalid input exits 2");
    assert!(String::from_utf8_lossy(&bad_json.stderr).contains("the input is not valid JSON"));

    let bad_field = run(base("cs_test", r#"{"query": {"limit": -1}}"#)).await;
    assert_eq!(bad_field.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_field.stderr).contains("query.limit"));
}

#[tokio::test]
async fn compile_warms_the_cache_and_the_second_load_is_a_hit() {
    let plugins = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::copy(plugin("shop-woocommerce"), plugins.path().join("shop-woocommerce.wasm")).unwrap();
    let compile = || {
        args(&[
            "compile",
            plugins.path().to_str().unwrap(),
            "--cache",
            cache.path().to_str().unwrap(),
        ])
    };
    let first = run(compile()).await;
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let printed = String::from_utf8_lossy(&first.stdout).to_string() + &String::from_utf8_lossy(&first.stderr);
    assert!(
        printed.contains("shop/woocommerce") && printed.contains("compiled in"),
        "{printed}"
    );
    let second = run(compile()).await;
    let printed = String::from_utf8_lossy(&second.stdout).to_string() + &String::from_utf8_lossy(&second.stderr);
    assert!(printed.contains("cached in"), "{printed}");
}
