//! The shared manifest cases (`sdk/manifest-cases/`), which the TypeScript
//! and Python build tools run too: each `ok-*.toml` reads as its `.json`,
//! each `bad-*.toml` fails on the key its first line names.

use serde_json::{Value, json};

use crate::manifest::{Manifest, parse};

fn normalized(m: &Manifest) -> Value {
    json!({
        "name": m.name,
        "family": m.family,
        "display-name": m.display_name,
        "description": m.description,
        "version": m.version,
        "credentials": m.credentials.iter().map(|c| json!({
            "name": c.name, "label": c.label, "secret": c.secret, "required": c.required,
            "default": c.default, "choices": c.choices, "help": c.help,
        })).collect::<Vec<_>>(),
        "settings": m.settings.iter().map(|s| json!({
            "name": s.name, "label": s.label, "type": s.kind, "required": s.required,
            "default": s.default, "choices": s.choices, "help": s.help,
        })).collect::<Vec<_>>(),
        "auth": {
            "strategy": m.strategy,
            "oauth2": m.oauth2.as_ref().map(|o| json!({
                "authorize-url": o.authorize_url, "token-url": o.token_url, "scopes": o.scopes,
                "pkce": o.pkce, "client-auth": o.client_auth, "flows": o.flows,
                "client-id-field": o.client_id_field, "client-secret-field": o.client_secret_field,
            })),
        },
        "allowed-hosts": m.allowed_hosts,
        "rate-limit": m.rate_limit.map(|(rps, burst)| json!({ "requests-per-second": rps, "burst": burst })),
        "retry": { "max-retries": m.retry.0, "retryable-statuses": m.retry.1 },
        "webhooks": m.webhooks.as_ref().map(|w| json!({
            "signature-scheme": w.signature_scheme, "signature-header": w.signature_header, "events": w.events,
        })),
    })
}

/// Numbers compare by value: `5` and `5.0` are the same rate.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn the_shared_manifest_cases() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest-cases");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("sdk/manifest-cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 10, "the cases are there");
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if name.starts_with("ok-") {
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap()).unwrap();
            let manifest = parse(&text).unwrap_or_else(|m| panic!("{name}: {}: {}", m.key, m.problem));
            let got = normalized(&manifest);
            assert!(same(&got, &expected), "{name}: got {got:#}");
        } else {
            let key = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# key: "))
                .unwrap_or_else(|| panic!("{name}: the first line names the key"));
            match parse(&text) {
                Ok(_) => panic!("{name}: accepted"),
                Err(m) => {
                    assert_eq!(m.key, key, "{name}: {}", m.problem);
                    assert!(!m.problem.is_empty());
                }
            }
        }
    }
}
