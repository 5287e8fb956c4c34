//! The `patchbay` command line, run as a process.

use std::path::PathBuf;
use std::process::{Command, Output};

use patchbay_tests::woocommerce::{MockShop, ShopConfig};
use serde_json::Value;

use crate::support::{plugin, plugins_dir};

/// `target/<profile>/patchbay`, next to this test binary's `deps/`.
pub(crate) fn patchbay() -> PathBuf {
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
            // The cache holds native code: a private directory, not a fixed name in /tmp.
            .env(
                "PATCHBAY_CACHE",
                crate::support::workspace().join("target/test-compile-cache-cli"),
            )
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
    assert_eq!(
        doc["capabilities"],
        serde_json::json!(["webhooks", "webhook-handshake"])
    );
    assert_eq!(doc["allowed-hosts"], serde_json::json!(["{{setting.domain}}"]));
    assert_eq!(doc["forwarding-headers"], serde_json::json!([]));
    assert_eq!(doc["contract-version"], "0.1.4");
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
async fn inspect_shows_the_feed_plugins_and_that_they_reach_nothing() {
    for (file, provider) in [
        ("feed-google-merchant", "feed/google-merchant"),
        ("feed-meta-catalog", "feed/meta-catalog"),
    ] {
        let wasm = plugin(file);
        let output = run(args(&["inspect", wasm.to_str().unwrap(), "--json"])).await;
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let doc = stdout_json(&output);
        assert_eq!(doc["provider"], provider);
        assert_eq!(
            (doc["family"].clone(), doc["port"].clone()),
            (serde_json::json!("feed"), serde_json::json!("feed"))
        );
        assert_eq!(doc["capabilities"], serde_json::json!([]));
        assert_eq!(
            doc["allowed-hosts"],
            serde_json::json!([]),
            "a feed is written, not sent"
        );
        assert!(doc["functions"]["feed.generate-feed"].is_object());
        let human = run(args(&["inspect", wasm.to_str().unwrap()])).await;
        let text = String::from_utf8_lossy(&human.stdout);
        assert!(text.contains("port           feed"), "{text}");
    }
}

/// The commerce adapters (issue 17): each with its port and capabilities;
/// Shopify's cost budget shown to the operator.
#[tokio::test]
async fn inspect_lists_the_commerce_plugins_with_their_capabilities() {
    for (file, provider, port, capabilities) in [
        (
            "shop-shopify",
            "shop/shopify",
            "shop",
            &["webhooks", "bulk-update", "rate-signals", "oauth-callback"][..],
        ),
        ("payment-stripe", "payment/stripe", "payment", &["webhooks"][..]),
        ("courier-sameday", "courier/sameday", "courier", &[][..]),
        ("feed-google-merchant", "feed/google-merchant", "feed", &[][..]),
        ("feed-meta-catalog", "feed/meta-catalog", "feed", &[][..]),
    ] {
        let wasm = plugin(file);
        let output = run(args(&["inspect", wasm.to_str().unwrap(), "--json"])).await;
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let doc = stdout_json(&output);
        assert_eq!(doc["provider"], provider);
        assert_eq!(doc["port"], port);
        assert_eq!(doc["capabilities"], serde_json::json!(capabilities), "{file}");
        assert_eq!(doc["contract-version"], "0.1.4");
        if file == "shop-shopify" {
            assert_eq!(
                doc["cost-budget"]["available"],
                "/extensions/cost/throttleStatus/currentlyAvailable"
            );
            assert_eq!(doc["cost-budget"]["refusal"]["value"], "THROTTLED");
            let human = run(args(&["inspect", wasm.to_str().unwrap()])).await;
            let text = String::from_utf8_lossy(&human.stdout);
            assert!(
                text.contains("cost budget    /extensions/cost/throttleStatus/currentlyAvailable available"),
                "{text}"
            );
        } else {
            assert!(doc["cost-budget"].is_null(), "{file}");
        }
    }
}

#[tokio::test]
async fn inspect_shows_the_typescript_python_and_c_adapters() {
    for (file, provider, port, credential) in [
        ("messaging-discord", "messaging/discord", "messaging", Some("bot_token")),
        ("llm-gemini", "llm/gemini", "llm", Some("api_key")),
        ("llm-ollama", "llm/ollama", "llm", None),
    ] {
        let wasm = plugin(file);
        let output = run(args(&["inspect", wasm.to_str().unwrap(), "--json"])).await;
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let doc = stdout_json(&output);
        assert_eq!(doc["provider"], provider);
        assert_eq!(doc["port"], port);
        assert_eq!(doc["contract-version"], "0.1.4");
        assert_eq!(doc["manifest"]["credentials"][0]["name"].as_str(), credential, "{file}");
        assert!(doc["functions"][format!("{port}.{}", if port == "llm" { "complete" } else { "send" })].is_object());
    }
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

/// `patchbay call shop/woocommerce shop.get-orders` against `shop`, with
/// state in `db`, the consumer secret `secret` and the input `input`.
fn get_orders(shop: &MockShop, db: &std::path::Path, secret: &str, input: &str) -> Vec<String> {
    args(&[
        "call",
        "shop/woocommerce",
        "shop.get-orders",
        "--plugins",
        plugins_dir().to_str().unwrap(),
        "--database",
        db.join("state.db").to_str().unwrap(),
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
}

#[tokio::test]
async fn call_pages_through_orders_and_reports_errors_with_exit_codes() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let db = tempfile::tempdir().unwrap();
    let base = |secret: &str, input: &str| get_orders(&shop, db.path(), secret, input);
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

/// `--perf-map` names the plugin's compiled functions for `perf`, in
/// `/tmp/perf-PID.map` of the process that ran them (compiled or loaded
/// from the cache alike).
#[tokio::test]
async fn perf_map_names_the_plugins_functions_for_perf() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let db = tempfile::tempdir().unwrap();
    let mut list = get_orders(&shop, db.path(), "cs_test", r#"{"query": {"limit": 2}}"#);
    list.push("--perf-map".into());
    for _ in 0..2 {
        let list = list.clone();
        let (pid, output) = tokio::task::spawn_blocking(move || {
            let child = Command::new(patchbay())
                .args(&list)
                .env("RUST_LOG", "error")
                .env(
                    "PATCHBAY_CACHE",
                    crate::support::workspace().join("target/test-compile-cache-cli"),
                )
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (child.id(), child.wait_with_output().unwrap())
        })
        .await
        .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        let file = std::path::PathBuf::from(format!("/tmp/perf-{pid}.map"));
        let map = std::fs::read_to_string(&file).unwrap_or_default();
        let _ = std::fs::remove_file(&file);
        assert!(
            map.lines().any(|line| line.contains("shop_woocommerce::mapping::")),
            "{} names no function of the plugin ({} lines)",
            file.display(),
            map.lines().count()
        );
    }
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

/// `patchbay connections ...` and `vault rotate-key` against one state
/// directory: the options every such command shares.
struct Vault {
    dir: tempfile::TempDir,
    plugins: PathBuf,
}

impl Vault {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            plugins: plugins_dir(),
        }
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("keys/vault.key")
    }

    fn with(&self, list: &[&str]) -> Vec<String> {
        self.as_tenant("acme", list)
    }

    fn as_tenant(&self, tenant: &str, list: &[&str]) -> Vec<String> {
        let mut all = self.state(list);
        all.extend(args(&["--tenant", tenant]));
        all
    }

    /// Without a tenant (`vault` has none).
    fn state(&self, list: &[&str]) -> Vec<String> {
        let mut all = args(list);
        all.extend(args(&[
            "--plugins",
            self.plugins.to_str().unwrap(),
            "--database",
            self.dir.path().join("state.db").to_str().unwrap(),
            "--vault-key-file",
            self.key_file().to_str().unwrap(),
            "--allow-private-network",
        ]));
        all
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn connections_add_then_call_by_id_end_to_end() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let vault = Vault::new();
    let credentials = vault.dir.path().join("woo.json");
    std::fs::write(
        &credentials,
        r#"{"consumer_key": "ck_test", "consumer_secret": "cs_test"}"#,
    )
    .unwrap();

    let add = run(vault.with(&[
        "connections",
        "add",
        "shop/woocommerce",
        "--id",
        "main-shop",
        "--name",
        "Main shop",
        "--setting",
        &format!("domain={}", shop.url()),
        "--credentials-file",
        credentials.to_str().unwrap(),
        "--json",
    ]))
    .await;
    assert!(add.status.success(), "{}", text(&add));
    assert!(String::from_utf8_lossy(&add.stderr).contains("created a new vault key"));
    let info = stdout_json(&add);
    assert_eq!(info["id"], "main-shop");
    assert_eq!(
        info["credential_fields"],
        serde_json::json!(["consumer_key", "consumer_secret"])
    );
    assert!(!text(&add).contains("cs_test"), "a secret was printed: {}", text(&add));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(vault.key_file()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let call = |target: &str| {
        run(vault.with(&[
            "call",
            "--connection",
            "main-shop",
            target,
            "--json",
            r#"{"query": {"limit": 3}}"#,
        ]))
    };
    let orders = call("shop.get-orders").await;
    assert!(orders.status.success(), "{}", text(&orders));
    assert_eq!(stdout_json(&orders)["items"].as_array().unwrap().len(), 3);

    // The operator's narrowing applies to a stored connection too (it used
    // to be dropped silently), and to the other commands that call plugins.
    for command in [
        vec![
            "call",
            "--connection",
            "main-shop",
            "shop.get-orders",
            "--json",
            r#"{"query": {}}"#,
            "--allow-host",
            "https://other.example",
        ],
        vec![
            "connections",
            "test",
            "main-shop",
            "--allow-host",
            "https://other.example",
        ],
    ] {
        let narrowed = run(vault.with(&command)).await;
        assert!(!narrowed.status.success(), "{command:?}: {}", text(&narrowed));
        assert!(
            text(&narrowed).contains("the operator allows"),
            "{command:?}: {}",
            text(&narrowed)
        );
    }

    let list = run(vault.with(&["connections", "list"])).await;
    assert!(
        text(&list).contains("main-shop") && text(&list).contains("Main shop"),
        "{}",
        text(&list)
    );
    let other_tenant = run(vault.as_tenant("globex", &["connections", "list", "--json"])).await;
    assert_eq!(
        stdout_json(&other_tenant),
        serde_json::json!([]),
        "{}",
        text(&other_tenant)
    );
    let show = run(vault.with(&["connections", "show", "main-shop"])).await;
    assert_eq!(stdout_json(&show)["enabled"], true);
    assert!(!text(&show).contains("ck_test"));
    let test = run(vault.with(&["connections", "test", "main-shop"])).await;
    assert!(test.status.success(), "{}", text(&test));
    assert_eq!(stdout_json(&test)["success"], true);

    let disable = run(vault.with(&["connections", "disable", "main-shop"])).await;
    assert!(disable.status.success(), "{}", text(&disable));
    let refused = call("shop.get-orders").await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("disabled"), "{}", text(&refused));
    run(vault.with(&["connections", "enable", "main-shop"])).await;

    let rotate = run(vault.state(&["vault", "rotate-key"])).await;
    assert!(rotate.status.success(), "{}", text(&rotate));
    assert!(text(&rotate).contains("re-encrypted 1 connection"), "{}", text(&rotate));
    assert!(call("shop.get-orders").await.status.success());

    let missing = run(vault.with(&["call", "--connection", "nope", "shop.get-orders"])).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).contains("no connection \"nope\" for tenant \"acme\""),
        "{}",
        text(&missing)
    );

    let no_credentials = run(vault.with(&[
        "connections",
        "add",
        "shop/woocommerce",
        "--setting",
        "domain=https://x.example",
    ]))
    .await;
    assert_eq!(no_credentials.status.code(), Some(2));
    assert!(
        text(&no_credentials).contains("--credentials-file"),
        "{}",
        text(&no_credentials)
    );

    let remove = run(vault.with(&["connections", "remove", "main-shop"])).await;
    assert!(remove.status.success(), "{}", text(&remove));
    assert!(text(&run(vault.with(&["connections", "list"])).await).contains("no connections"));
}

#[tokio::test]
async fn connections_authorize_and_callback_run_the_oauth_flow() {
    let Ok(auth_server) = std::env::var("PATCHBAY_OAUTH_SERVER") else {
        panic!("PATCHBAY_OAUTH_SERVER is not set: run the tests through `just test` (tests/with-oauth-server.sh)");
    };
    let plugins = tempfile::tempdir().unwrap();
    let probe = crate::support::workspace().join("target/test-plugins/probe.wasm");
    std::fs::copy(probe, plugins.path().join("probe.wasm")).unwrap();
    let mut vault = Vault::new();
    vault.plugins = plugins.path().to_path_buf();
    let with_plugins = |list: &[&str]| vault.with(list);
    let credentials = vault.dir.path().join("client.json");
    std::fs::write(
        &credentials,
        r#"{"client_id": "cli-client", "client_secret": "cli-secret"}"#,
    )
    .unwrap();
    let add = run(with_plugins(&[
        "connections",
        "add",
        "other/probe",
        "--id",
        "probe-oauth",
        "--setting",
        &format!("auth_server={auth_server}"),
        "--setting",
        "base=http://127.0.0.1:9",
        "--credentials-file",
        credentials.to_str().unwrap(),
    ]))
    .await;
    assert!(add.status.success(), "{}", text(&add));

    let start = run(with_plugins(&[
        "connections",
        "authorize",
        "probe-oauth",
        "--redirect-uri",
        "http://127.0.0.1:9/callback",
    ]))
    .await;
    assert!(start.status.success(), "{}", text(&start));
    let url = stdout_json(&start)["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{auth_server}/authorize?")), "{url}");
    // The user's browser: the server redirects back with code and state.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let redirect = response.headers()["location"].to_str().unwrap().to_string();
    let done = run(with_plugins(&["connections", "callback", "--url", &redirect])).await;
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("authorized probe-oauth (ok)"), "{}", text(&done));
    let show = run(with_plugins(&["connections", "show", "probe-oauth"])).await;
    assert_eq!(stdout_json(&show)["authorized"], true);
    let replay = run(with_plugins(&["connections", "callback", "--url", &redirect])).await;
    assert_eq!(replay.status.code(), Some(2), "{}", text(&replay));
    assert!(
        text(&replay).contains("start the authorization again"),
        "{}",
        text(&replay)
    );
}

/// The database and Redis URLs carry passwords: `--help` does not show the
/// environment's values, and a PostgreSQL server that cannot be reached is
/// named as such, without the password.
#[tokio::test]
async fn database_and_redis_passwords_are_never_printed() {
    let output = tokio::task::spawn_blocking(|| {
        Command::new(patchbay())
            .args(["serve", "--help"])
            .env(
                "PATCHBAY_DATABASE_URL",
                "postgres://patchbay:hunter2-db@db.internal/patchbay",
            )
            .env(
                "PATCHBAY_REDIS_URL",
                "redis://default:hunter2-redis@cache.internal:6379",
            )
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--database") && help.contains("--redis"), "{help}");
    assert!(!help.contains("hunter2"), "{help}");

    let dir = tempfile::tempdir().unwrap();
    let output = run(args(&[
        "keys",
        "list",
        "--database",
        "postgres://patchbay:hunter2-db@127.0.0.1:1/patchbay",
        "--vault-key-file",
        dir.path().join("vault.key").to_str().unwrap(),
    ]))
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("PostgreSQL"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
