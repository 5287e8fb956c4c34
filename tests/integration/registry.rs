//! Loading a plugins directory: bad files are reported and skipped.

use std::fs;

use patchbay::Interface;

use crate::support::{builder, plugin};

#[tokio::test]
async fn bad_files_are_reported_with_their_reason_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(plugin("shop-woocommerce"), dir.path().join("shop-woocommerce.wasm")).unwrap();
    fs::write(dir.path().join("corrupt.wasm"), b"this is not wasm").unwrap();
    fs::write(dir.path().join("core.wasm"), wat::parse_str("(module)").unwrap()).unwrap();
    fs::write(
        dir.path().join("empty-component.wasm"),
        wat::parse_str("(component)").unwrap(),
    )
    .unwrap();
    fs::write(
        dir.path().join("wants-keyvalue.wasm"),
        wat::parse_str(r#"(component (import "wasi:keyvalue/store@0.2.0-draft" (instance)))"#).unwrap(),
    )
    .unwrap();
    fs::write(
        dir.path().join("truncated.wasm"),
        &fs::read(plugin("shop-woocommerce")).unwrap()[..5000],
    )
    .unwrap();
    fs::write(dir.path().join("notes.txt"), b"ignored: not a .wasm file").unwrap();

    let host = builder()
        .plugins_dir(dir.path())
        .build()
        .await
        .expect("bad files are never fatal");
    let providers: Vec<String> = host.providers().iter().map(|p| p.key().to_string()).collect();
    assert_eq!(providers, vec!["shop/woocommerce"]);

    let failures = host.load_failures();
    assert_eq!(failures.len(), 5, "{failures:#?}");
    let reason = |file: &str| {
        failures
            .iter()
            .find(|f| f.contains(file))
            .cloned()
            .unwrap_or_else(|| panic!("no report for {file}: {failures:#?}"))
    };
    assert!(reason("corrupt.wasm").contains("not a WebAssembly file"));
    assert!(reason("core.wasm").contains("core WebAssembly module, not a component"));
    assert!(reason("empty-component.wasm").contains("exports no `patchbay:connector/connector` interface"));
    assert!(reason("wants-keyvalue.wasm").contains("imports `wasi:keyvalue/store@0.2.0-draft`"));
    assert!(reason("truncated.wasm").contains("not a valid WebAssembly component"));
}

#[tokio::test]
async fn the_same_provider_twice_keeps_the_first() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(plugin("shop-woocommerce"), dir.path().join("a.wasm")).unwrap();
    fs::copy(plugin("shop-woocommerce"), dir.path().join("b.wasm")).unwrap();
    let host = builder().plugins_dir(dir.path()).build().await.unwrap();
    assert_eq!(host.providers().len(), 1);
    assert!(host.provider("shop/woocommerce").unwrap().path().ends_with("a.wasm"));
    let failures = host.load_failures();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].contains("b.wasm") && failures[0].contains("already provided by"),
        "{}",
        failures[0]
    );
}

#[tokio::test]
async fn a_missing_directory_is_a_clear_error() {
    let error = builder().plugins_dir("/nonexistent/plugins").build().await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot read the plugins directory /nonexistent/plugins"),
        "{error}"
    );
}

#[tokio::test]
async fn the_woocommerce_plugin_exports_exactly_its_port_and_webhooks_and_imports_only_the_contract_and_wasi_basics() {
    let host = builder().build().await.unwrap();
    let plugin = host.load_file(&plugin("shop-woocommerce")).await.unwrap();
    assert_eq!(plugin.key(), "shop/woocommerce");
    assert_eq!(plugin.port(), Interface::Shop);
    assert_eq!(
        plugin.capabilities(),
        [Interface::Webhooks, Interface::WebhookHandshake]
    );
    assert_eq!(plugin.contract_version(), "0.1.4");
    for import in plugin.imports() {
        let allowed = import.starts_with("patchbay:connector/")
            || ["wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:cli/"]
                .iter()
                .any(|p| import.starts_with(p));
        assert!(allowed, "unexpected import {import}");
        assert!(
            !import.starts_with("wasi:filesystem") && !import.starts_with("wasi:sockets"),
            "{import}"
        );
    }
}

#[tokio::test]
async fn an_unknown_contract_version_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let newer = r#"(component
        (instance $i)
        (export "patchbay:connector/connector@0.2.0" (instance $i)))"#;
    fs::write(dir.path().join("newer.wasm"), wat::parse_str(newer).unwrap()).unwrap();
    let host = builder().build().await.unwrap();
    let error = host
        .load_file(&dir.path().join("newer.wasm"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("targets contract version 0.2.0; this host serves 0.1.0, 0.1.1, 0.1.2, 0.1.3, 0.1.4"),
        "{error}"
    );
}

/// A plugin built against the frozen `0.1.0` contract (wit-bindgen, no
/// SDK) loads in a host of a later `0.1.x`: its `0.1.0` imports are linked
/// to the newest doors and its `0.1.0` exports are found and called.
#[tokio::test]
async fn a_plugin_built_against_contract_0_1_0_loads_and_reaches_every_door_it_imports() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = crate::support::workspace().join("target/test-plugins/contract-0-1-0.wasm");
    fs::copy(&wasm, dir.path().join("contract-0-1-0.wasm")).unwrap();
    let host = builder().plugins_dir(dir.path()).build().await.unwrap();
    assert_eq!(host.load_failures(), Vec::<String>::new());
    let plugin = host.provider("other/contract-0-1-0").unwrap();
    assert_eq!(plugin.contract_version(), "0.1.0");
    assert_eq!(plugin.port(), Interface::Actions);
    assert!(plugin.forwarding_headers().is_empty());
    assert!(
        plugin.imports().iter().any(|i| i == "patchbay:connector/crypto@0.1.0"),
        "{:?}",
        plugin.imports()
    );
    let settings = patchbay::Settings::from([("greeting".to_string(), "bonjour".to_string())]);
    let connection = host
        .connect("other/contract-0-1-0", patchbay::Credentials::new(), settings)
        .unwrap();
    assert!(connection.test().await.unwrap().success);
    let actions = connection.actions().unwrap();
    assert_eq!(actions.list_actions().await.unwrap()[0].name, "greet");
    for count in 1..=2 {
        let out: serde_json::Value =
            serde_json::from_str(&actions.execute("greet", &"abc".to_string()).await.unwrap()).unwrap();
        assert_eq!(out["greeting"], "bonjour", "config");
        assert_eq!(out["count"], count, "kv");
        assert_eq!(
            out["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "crypto"
        );
    }
}

/// A host built for one provider (`patchbay call`) loads only that plugin
/// when the compile cache knows what the other files hold; a file the cache
/// does not know is loaded to find out.
#[tokio::test]
async fn a_host_for_one_provider_skips_files_known_to_hold_others() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    fs::copy(plugin("shop-woocommerce"), dir.path().join("shop.wasm")).unwrap();
    fs::copy(plugin("payment-stripe"), dir.path().join("stripe.wasm")).unwrap();
    // Files changed within the last second or two are not vouched for.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let every = builder()
        .compile_cache(cache.path())
        .plugins_dir(dir.path())
        .build()
        .await
        .unwrap();
    assert_eq!(every.providers().len(), 2);

    let woocommerce_only = async || {
        builder()
            .compile_cache(cache.path())
            .plugins_dir(dir.path())
            .only_providers(["shop/woocommerce"])
            .build()
            .await
            .unwrap()
    };
    let one = woocommerce_only().await;
    let keys: Vec<String> = one.providers().iter().map(|p| p.key().to_string()).collect();
    assert_eq!(keys, ["shop/woocommerce"]);
    assert!(one.load_failures().is_empty(), "{:?}", one.load_failures());
    let rescan = one.reload_dir(dir.path()).await.unwrap();
    assert_eq!(
        rescan.skipped,
        [dir.path().join("stripe.wasm")],
        "the file holding another provider is not even read"
    );

    fs::write(dir.path().join("new.wasm"), b"not seen before").unwrap();
    let again = woocommerce_only().await;
    assert_eq!(again.providers().len(), 1);
    let failures = again.load_failures();
    assert!(
        failures.len() == 1 && failures[0].contains("new.wasm"),
        "an unknown file is read to learn what it holds: {failures:?}"
    );
}
