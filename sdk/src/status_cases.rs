//! The shared status cases (`sdk/status-cases.json`), which every SDK's
//! tests run: the Rust SDK maps each status and each host refusal as the
//! file says.

use serde_json::{Value, json};

use crate::Error;
use crate::http::{HttpError, from_http_error};

fn kind(error: &Error) -> Value {
    match error {
        Error::Auth(_) => json!({ "kind": "auth" }),
        Error::Config(_) => json!({ "kind": "config" }),
        Error::Validation(_) => json!({ "kind": "validation" }),
        Error::RateLimited(after) => json!({ "kind": "rate-limited", "retry_after": after }),
        Error::Provider(f) => json!({ "kind": "provider", "status": f.status }),
        Error::Permanent(f) => json!({ "kind": "permanent", "status": f.status }),
        Error::Unsupported(_) => json!({ "kind": "unsupported" }),
        Error::WebhookVerification(_) => json!({ "kind": "webhook-verification" }),
        Error::NotFound(_) => json!({ "kind": "not-found" }),
    }
}

/// The expectation names only what it checks: the kind, and the status or
/// retry delay when it gives them.
fn matches(got: &Value, expect: &Value) -> bool {
    expect
        .as_object()
        .expect("an expectation is an object")
        .iter()
        .all(|(key, value)| got.get(key).unwrap_or(&Value::Null) == value)
}

#[test]
fn the_shared_status_cases() {
    let cases: Value = serde_json::from_str(include_str!("../status-cases.json")).expect("the cases are JSON");
    let retryable: Vec<&str> = cases["retryable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let check = |error: Error, expect: &Value, what: &str| {
        let got = kind(&error);
        assert!(matches(&got, expect), "{what}: got {got}, expected {expect}");
        let kind = got["kind"].as_str().unwrap();
        assert_eq!(error.is_retryable(), retryable.contains(&kind), "{what}: retryable");
    };
    for case in cases["statuses"].as_array().unwrap() {
        let status = case["status"].as_u64().unwrap() as u16;
        let after = case["retry_after"].as_u64().map(|n| n as u32);
        check(
            Error::from_status(status, "message", after),
            &case["expect"],
            &format!("status {status}"),
        );
    }
    for case in cases["http_errors"].as_array().unwrap() {
        let text = || case["value"].as_str().unwrap_or_default().to_string();
        let error = match case["error"].as_str().unwrap() {
            "denied" => HttpError::Denied(text()),
            "timeout" => HttpError::Timeout(text()),
            "connection" => HttpError::Connection(text()),
            "too-large" => HttpError::TooLarge(case["value"].as_u64().unwrap()),
            "rate-limited" => HttpError::RateLimited(case["value"].as_u64().map(|n| n as u32)),
            "circuit-open" => HttpError::CircuitOpen(text()),
            "invalid-request" => HttpError::InvalidRequest(text()),
            other => panic!("unknown host refusal {other}"),
        };
        check(from_http_error(error), &case["expect"], &format!("{case}"));
    }
}
