//! Hot reload of a watched plugins directory.

use std::path::Path;
use std::time::{Duration, Instant};

use patchbay::{ConnectOptions, Credentials, Host, Settings};
use patchbay_tests::hostile::Hostile;
use patchbay_tests::woocommerce::{MockShop, ShopConfig};
use serde_json::json;

use crate::support::{builder, plugin, woo, workspace};

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn test_plugin(name: &str) -> std::path::PathBuf {
    workspace().join("target/test-plugins").join(format!("{name}.wasm"))
}

fn copy(from: &Path, to: &Path) {
    // Write beside, then rename: how operators should deploy.
    let tmp = to.with_extension("partial");
    std::fs::copy(from, &tmp).unwrap();
    std::fs::rename(&tmp, to).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_directory_is_reloaded_without_a_restart_and_without_dropping_calls() {
    let dir = tempfile::tempdir().unwrap();
    copy(&plugin("shop-woocommerce"), &dir.path().join("shop-woocommerce.wasm"));
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host: Host = builder().plugins_dir(dir.path()).build().await.unwrap();
    let _watcher = host.watch(dir.path()).unwrap();
    let conn = woo(&host, &shop);
    assert_eq!(conn.shop().unwrap().get_order("1").await.unwrap().order_id, "1");

    // A new file appears.
    copy(&test_plugin("probe"), &dir.path().join("probe.wasm"));
    eventually("the probe is loaded", || host.provider("other/probe").is_some()).await;

    // A call in flight on the probe finishes on its version while the file is replaced.
    let up = Hostile::start().await.unwrap();
    let probe = host
        .connect_with(
            "other/probe",
            Credentials::new(),
            Settings::from([("base".to_string(), up.url())]),
            ConnectOptions::default(),
        )
        .unwrap();
    let spec = json!({ "url": format!("{}/hang/a", up.url()), "timeout_ms": 1500, "no_retry": true });
    let in_flight = tokio::spawn(async move {
        probe
            .call_json(
                "actions.execute",
                &json!({ "name": "request", "input": spec.to_string() }),
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    copy(&test_plugin("hostile"), &dir.path().join("probe.wasm"));
    eventually("the replacement is loaded", || host.provider("other/hostile").is_some()).await;
    assert!(
        host.provider("other/probe").is_none(),
        "the old provider is gone for new connections"
    );
    let finished = in_flight.await.unwrap().expect("the call in flight completed");
    assert!(finished.as_str().unwrap().contains("timeout"), "{finished}");

    // A broken replacement leaves the old version serving and says why.
    std::fs::write(dir.path().join("shop-woocommerce.wasm"), b"half-written garbage").unwrap();
    eventually("the failure is reported", || {
        host.load_failures().iter().any(|f| f.contains("shop-woocommerce.wasm"))
    })
    .await;
    assert!(host.provider("shop/woocommerce").is_some());
    assert_eq!(
        woo(&host, &shop).shop().unwrap().get_order("2").await.unwrap().order_id,
        "2"
    );
    assert_eq!(conn.shop().unwrap().get_order("3").await.unwrap().order_id, "3");

    // Fixing the file clears the failure; removing a file removes its provider.
    copy(&plugin("shop-woocommerce"), &dir.path().join("shop-woocommerce.wasm"));
    eventually("the failure is cleared", || host.load_failures().is_empty()).await;
    std::fs::remove_file(dir.path().join("probe.wasm")).unwrap();
    eventually("the removed provider is gone", || {
        host.provider("other/hostile").is_none()
    })
    .await;
    assert!(host.provider("shop/woocommerce").is_some());
}
