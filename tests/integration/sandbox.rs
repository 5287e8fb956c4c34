//! The sandbox against a hostile plugin: every attack ends its own call
//! with a clear error, and the host keeps serving.

use std::time::{Duration, Instant};

use patchbay::store::KvLimits;
use patchbay::types::ConnectorError;
use patchbay::{CallError, ConnectOptions, Connection, Credentials, Host, Limits, LoadError, Settings};
use patchbay_tests::hostile::Hostile;
use serde_json::json;

use crate::support::workspace;

fn test_plugins() -> std::path::PathBuf {
    let dir = workspace().join("target/test-plugins");
    assert!(
        dir.join("hostile.wasm").is_file(),
        "run `just build-plugins` first (`just test` does)"
    );
    dir
}

async fn host(limits: Limits) -> Host {
    Host::builder()
        .plugins_dir(test_plugins())
        .allow_private_network(true)
        .limits(limits)
        .kv_limits(KvLimits {
            max_keys: 100,
            ..KvLimits::default()
        })
        .build()
        .await
        .unwrap()
}

fn small() -> Limits {
    Limits {
        pool_instances: 32,
        max_memory_bytes: 64 * 1024 * 1024,
        call_timeout: Duration::from_secs(2),
        max_http_requests_per_call: 20,
        max_log_records_per_call: 100,
        ..Limits::default()
    }
}

fn connect(host: &Host, tenant: &str, base: Option<String>) -> Connection {
    let settings: Settings = base.map(|b| ("base".to_string(), b)).into_iter().collect();
    host.connect_with(
        "other/hostile",
        Credentials::new(),
        settings,
        ConnectOptions {
            id: Some(tenant.into()),
            ..ConnectOptions::default()
        },
    )
    .unwrap()
}

async fn attack(conn: &Connection, action: &str) -> Result<serde_json::Value, CallError> {
    let output = conn
        .call_json("actions.execute", &json!({ "name": action, "input": "{}" }))
        .await?;
    Ok(serde_json::from_str(output.as_str().expect("execute returns JSON text")).unwrap())
}

#[tokio::test]
async fn each_attack_ends_its_own_call_with_a_clear_error() {
    let host = host(small()).await;
    let conn = connect(&host, "tenant-a", None);

    let started = Instant::now();
    match attack(&conn, "spin").await {
        Err(CallError::Deadline(limit)) => assert_eq!(limit, Duration::from_secs(2)),
        other => panic!("an infinite loop must hit the deadline, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped near its deadline: {:?}",
        started.elapsed()
    );

    let cases: &[(&str, &[&str])] = &[
        ("memory-bomb", &["memory allocation", "failed"]),
        ("huge-return", &["memory allocation"]),
        ("recursion", &["stack"]),
        ("panic", &["panics on purpose"]),
        ("exit", &["the plugin called exit("]),
    ];
    for (action, expected) in cases {
        match attack(&conn, action).await {
            Err(CallError::Fault(message)) => {
                for word in *expected {
                    assert!(message.contains(word), "{action}: {message:?} should mention {word:?}");
                }
            }
            other => panic!("{action}: expected a fault, got {other:?}"),
        }
        assert_eq!(
            attack(&conn, "ok").await.unwrap(),
            "fine",
            "the host keeps serving after {action}"
        );
    }
}

#[tokio::test]
async fn a_call_that_frees_as_it_goes_stays_within_its_memory() {
    // The SDK's allocator skips the frees after an export's answer (its
    // post-return); a call's own frees must still happen: 512 MiB allocated
    // and freed 16 MiB at a time fits in 64 MiB.
    let host = host(small()).await;
    let conn = connect(&host, "tenant-a", None);
    for _ in 0..3 {
        assert_eq!(attack(&conn, "churn").await.unwrap(), "churned 496");
    }
}

#[tokio::test]
async fn floods_are_capped_by_quotas() {
    let up = Hostile::start().await.unwrap();
    let host = host(small()).await;
    let conn = connect(&host, "tenant-f", Some(up.url()));

    match attack(&conn, "flood-kv").await {
        Err(CallError::Connector(ConnectorError::Permanent(f))) => {
            assert!(f.message.contains("storage quota exceeded"), "{}", f.message)
        }
        other => panic!("expected the kv quota, got {other:?}"),
    }
    match attack(&conn, "flood-http").await {
        Err(CallError::Connector(ConnectorError::Permanent(f))) => {
            assert!(f.message.contains("already sent 20 requests"), "{}", f.message)
        }
        other => panic!("expected the request limit, got {other:?}"),
    }
    assert_eq!(
        attack(&conn, "flood-log").await.unwrap(),
        "logged",
        "extra log records are dropped, not fatal"
    );
}

#[tokio::test]
async fn no_environment_and_no_arguments() {
    let host = host(small()).await;
    let conn = connect(&host, "tenant-e", None);
    assert_eq!(attack(&conn, "env").await.unwrap(), "[]");
    assert_eq!(attack(&conn, "args").await.unwrap(), "[]");
}

#[tokio::test]
async fn the_filesystem_and_sockets_are_linked_but_deny_everything() {
    // Toolchains (componentize-py, componentize-js) import them whether the
    // plugin uses them or not, so they load; every attempt fails in the call.
    let up = Hostile::start().await.unwrap();
    let host = host(small()).await;
    for (provider, attempt) in [
        ("other/wants-files", "reading /etc/passwd"),
        ("other/wants-sockets", "connecting"),
    ] {
        let plugin = host.provider(provider).unwrap_or_else(|| panic!("{provider} loads"));
        assert!(
            plugin
                .imports()
                .iter()
                .any(|i| i.starts_with("wasi:filesystem/") || i.starts_with("wasi:sockets/"))
        );
        let conn = host
            .connect_with(provider, Credentials::new(), Settings::new(), ConnectOptions::default())
            .unwrap();
        let input = json!({ "name": "attack", "input": json!({ "target": up.url() }).to_string() });
        match conn.call_json("actions.execute", &input).await {
            Err(CallError::Connector(ConnectorError::Permanent(failure))) => {
                assert!(failure.message.contains(attempt), "{provider}: {}", failure.message)
            }
            other => panic!("{provider}: expected the attempt to fail, got {other:?}"),
        }
    }
    assert_eq!(up.hits("echo"), 0, "no socket reached the upstream");
    assert!(host.provider("other/hostile").is_some(), "the host keeps serving");
}

#[tokio::test]
async fn a_plugin_importing_an_interface_the_host_does_not_grant_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wants-keyvalue.wasm");
    let component = r#"(component (import "wasi:keyvalue/store@0.2.0-draft" (instance)))"#;
    std::fs::write(&path, wat::parse_str(component).unwrap()).unwrap();
    let host = Host::builder().build().await.unwrap();
    match host.load_file(&path).await {
        Err(LoadError::UnsupportedImport { import, .. }) => assert_eq!(import, "wasi:keyvalue/store@0.2.0-draft"),
        other => panic!("expected a refusal naming the import, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spinning_tenant_does_not_starve_another() {
    let host = host(Limits {
        call_timeout: Duration::from_secs(4),
        ..small()
    })
    .await;
    let noisy = connect(&host, "tenant-noisy", None);
    let quiet = connect(&host, "tenant-quiet", None);
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let noisy = noisy.clone();
            tokio::spawn(async move { attack(&noisy, "spin").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        assert_eq!(attack(&quiet, "ok").await.unwrap(), "fine");
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(2),
        "good calls stay responsive beside spinning guests: {slowest:?}"
    );
    for spinner in spinners {
        assert!(matches!(spinner.await.unwrap(), Err(CallError::Deadline(_))));
    }
}

#[tokio::test]
async fn limits_can_be_set_per_plugin() {
    let host = Host::builder()
        .plugins_dir(test_plugins())
        .limits(Limits {
            pool_instances: 16,
            call_timeout: Duration::from_secs(30),
            ..Limits::default()
        })
        .plugin_limits(
            "other/hostile",
            Limits {
                call_timeout: Duration::from_millis(500),
                ..small()
            },
        )
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    match attack(&connect(&host, "tenant-p", None), "spin").await {
        Err(CallError::Deadline(limit)) => assert_eq!(limit, Duration::from_millis(500)),
        other => panic!("expected the plugin's own deadline, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn cpu_time_is_limited_apart_from_waiting() {
    let up = Hostile::start().await.unwrap();
    let limits = Limits {
        call_timeout: Duration::from_secs(30),
        max_cpu_time: Duration::from_millis(300),
        ..small()
    };
    let host = host(limits).await;
    let started = Instant::now();
    match attack(&connect(&host, "tenant-cpu", None), "spin").await {
        Err(CallError::Fault(message)) => assert_eq!(message, "the plugin used up its CPU time for this call"),
        other => panic!("expected the CPU limit, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped long before the deadline"
    );

    // Waiting on the host is not CPU time: a request that waits longer than
    // the whole CPU budget still completes.
    let waits = host
        .connect_with(
            "other/probe",
            Credentials::new(),
            Settings::from([("base".to_string(), up.url())]),
            ConnectOptions::default(),
        )
        .unwrap();
    let spec = json!({ "url": format!("{}/hang/a", up.url()), "timeout_ms": 400, "no_retry": true });
    let output = waits
        .call_json(
            "actions.execute",
            &json!({ "name": "request", "input": spec.to_string() }),
        )
        .await
        .expect("a call that mostly waits is within its CPU time");
    assert!(output.as_str().unwrap().contains("timeout"), "{output}");
}

/// Security review F14: a guest's log fields are bounded (count, size, and
/// bytes per call), so a record cannot grow the host's logs without end.
#[tokio::test]
async fn log_fields_are_bounded_per_record_and_per_call() {
    let captured = crate::pipeline::Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let host = host(Limits {
        call_timeout: Duration::from_secs(20),
        ..small()
    })
    .await;
    assert_eq!(
        attack(&connect(&host, "tenant-log", None), "log-fields-bomb")
            .await
            .unwrap(),
        "logged"
    );
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("more fields dropped"), "fields past the cap are dropped");
    assert!(
        logs.contains("log bytes limit reached"),
        "the call's byte budget ran out"
    );
    assert!(
        logs.len() < 2 * 1024 * 1024,
        "50 records of 200 fields of 64 KiB wrote {} bytes of log",
        logs.len()
    );
}

/// Security review F14: CPU the host spends hashing for a guest counts
/// against the guest's CPU time, so a guest that spins on `crypto.digest`
/// is stopped like one that spins in its own code.
#[tokio::test]
async fn host_work_for_a_guest_counts_against_its_cpu_time() {
    let host = host(Limits {
        call_timeout: Duration::from_secs(60),
        max_cpu_time: Duration::from_millis(300),
        ..small()
    })
    .await;
    let started = Instant::now();
    match attack(&connect(&host, "tenant-digest", None), "digest-spin").await {
        Err(CallError::Fault(message)) => assert_eq!(message, "the plugin used up its CPU time for this call"),
        other => panic!("expected the CPU limit, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}
