//! The findings of the security review, each tested with the attack it
//! describes: a plugin or a tenant trying to send credentials where they do
//! not belong, or to crash the host.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use patchbay::{Credentials, Host, NewConnection, Settings};
use patchbay_tests::hostile::Hostile;
use serde_json::{Value, json};

use crate::support::{builder, workspace};

/// A TCP listener that records whether anyone connected to it.
async fn listener() -> (String, Arc<AtomicBool>) {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", socket.local_addr().unwrap());
    let touched = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&touched);
    tokio::spawn(async move {
        while let Ok((stream, _)) = socket.accept().await {
            flag.store(true, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, touched)
}

/// A directory holding copies of some test guests.
fn guests(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        let wasm = workspace().join(format!("target/test-plugins/{name}.wasm"));
        std::fs::copy(&wasm, dir.path().join(format!("{name}.wasm"))).unwrap();
    }
    dir
}

fn client() -> Credentials {
    Credentials::from([
        ("client_id", "the-operators-app"),
        ("client_secret", "the-operators-secret"),
    ])
}

/// Stores a connection of the plugin-described flow (`custom-oauth`) whose
/// token endpoint is `token_server`, starts its authorization and completes
/// it; returns why that failed.
async fn custom_flow_exchange(host: &Host, token_server: &str) -> patchbay::ConnectionsError {
    let connections = host.connections("acme");
    let info = connections
        .add(NewConnection {
            provider: "other/custom-oauth".into(),
            credentials: Credentials::from([("client_id", "app"), ("client_secret", "s3cr3t")]),
            settings: Settings::from([
                ("api".to_string(), "https://api.example.com".to_string()),
                ("auth_server".to_string(), token_server.to_string()),
            ]),
            // Its authorization URL carries the client id.
            public_fields: vec!["client_id".into()],
            ..NewConnection::default()
        })
        .await
        .unwrap();
    let started = connections
        .authorize(&info.id, "https://app.example.com/cb")
        .await
        .unwrap();
    connections
        .complete_authorization(&started.state, "x")
        .await
        .unwrap_err()
}

async fn oauth_request(connection: &patchbay::Connection, url: String) -> Value {
    let out = connection
        .call_json(
            "actions.execute",
            &json!({"name": "request", "input": json!({"url": url, "oauth2": true}).to_string()}),
        )
        .await
        .unwrap();
    serde_json::from_str(out.as_str().unwrap()).unwrap()
}

/// F1: the operator narrows a provider's hosts; the manifest's token URL
/// outside them is never sent the client's credentials.
#[tokio::test]
async fn oauth_endpoints_outside_the_grant_get_nothing() {
    let upstream = Hostile::start().await.unwrap();
    let (token_server, touched) = listener().await;
    let dir = guests(&["probe"]);
    let host = builder()
        .plugins_dir(dir.path())
        .restrict_hosts("other/probe", [upstream.server.url()])
        .build()
        .await
        .unwrap();
    let settings = Settings::from([
        ("base".to_string(), upstream.server.url()),
        ("auth_server".to_string(), token_server.clone()),
    ]);
    let connection = host.connect("other/probe", client(), settings).unwrap();
    let refused = oauth_request(&connection, format!("{}/echo", upstream.server.url())).await;
    assert_eq!(refused["error"], "denied", "{refused}");
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("token URL") && detail.contains("not allowed"),
        "{detail}"
    );
    assert!(!detail.contains("the-operators-secret"), "{detail}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!touched.load(Ordering::SeqCst), "the token server was contacted");

    // Stored connections are refused alike, and so is their authorization.
    let connections = host.connections("acme");
    let settings = Settings::from([
        ("base".to_string(), upstream.server.url()),
        ("auth_server".to_string(), token_server),
    ]);
    let info = connections
        .add(NewConnection {
            provider: "other/probe".into(),
            display_name: String::new(),
            credentials: client(),
            settings,
            id: None,
            public_fields: vec![],
            signing_fields: vec![],
        })
        .await
        .unwrap();
    let refused = connections
        .authorize(&info.id, "http://127.0.0.1:9/cb")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not allowed"), "{refused}");
    assert!(!touched.load(Ordering::SeqCst));
}

/// F3: with private networks off, a token URL that is a literal loopback
/// address is refused before anything is sent, in the plugin-described
/// flow and in the host's own.
#[tokio::test]
async fn token_requests_to_private_literal_addresses_are_refused() {
    let (token_server, touched) = listener().await;
    let dir = guests(&["custom-oauth", "probe"]);
    let host = Host::builder().plugins_dir(dir.path()).build().await.unwrap();
    assert!(host.load_failures().is_empty(), "{:?}", host.load_failures());
    let text = custom_flow_exchange(&host, &token_server).await.to_string();
    assert!(text.contains("127.0.0.1") && text.contains("not allowed"), "{text}");

    let settings = Settings::from([
        ("base".to_string(), "https://api.example.com".to_string()),
        ("auth_server".to_string(), token_server),
    ]);
    let connection = host.connect("other/probe", client(), settings).unwrap();
    let refused = oauth_request(&connection, "https://api.example.com/echo".into()).await;
    assert_eq!(refused["error"], "denied", "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("127.0.0.1"), "{refused}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!touched.load(Ordering::SeqCst), "the token server was contacted");
}

/// F8: a token endpoint that answers without end is cut off at the cap.
#[tokio::test]
async fn token_responses_are_size_capped() {
    use axum::routing::any;
    let app = axum::Router::new().route(
        "/token",
        any(|| async { ([("content-type", "application/json")], vec![b' '; 3 * 1024 * 1024]) }),
    );
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token_server = format!("http://{}", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    let dir = guests(&["custom-oauth"]);
    let host = builder().plugins_dir(dir.path()).build().await.unwrap();
    let refused = custom_flow_exchange(&host, &token_server).await;
    assert!(refused.to_string().contains("larger than"), "{refused}");
}

/// F9: ad-hoc connections with the same settings but other credentials
/// (another tenant's) are other connections: no shared breaker, kv or
/// rate budget.
#[tokio::test]
async fn other_credentials_make_another_connection() {
    let upstream = Hostile::start().await.unwrap();
    let dir = guests(&["probe"]);
    let host = builder().plugins_dir(dir.path()).build().await.unwrap();
    let settings = Settings::from([("base".to_string(), upstream.server.url())]);
    let tenant_a = host
        .connect(
            "other/probe",
            Credentials::from([("token", "token-of-a")]),
            settings.clone(),
        )
        .unwrap();
    let tenant_b = host
        .connect(
            "other/probe",
            Credentials::from([("token", "token-of-b")]),
            settings.clone(),
        )
        .unwrap();
    let again_a = host
        .connect("other/probe", Credentials::from([("token", "token-of-a")]), settings)
        .unwrap();
    assert_ne!(tenant_a.id(), tenant_b.id(), "other credentials, another connection");
    assert_eq!(tenant_a.id(), again_a.id(), "the same credentials, the same connection");
    assert!(!tenant_a.id().contains("token-of-a"));

    let request = |conn: &patchbay::Connection, url: String| {
        let conn = conn.clone();
        async move {
            let out = conn
                .call_json(
                    "actions.execute",
                    &json!({"name": "request", "input": json!({"url": url, "no_retry": true}).to_string()}),
                )
                .await
                .unwrap();
            serde_json::from_str::<Value>(out.as_str().unwrap()).unwrap()
        }
    };
    let refused = format!("{}/status/a/401", upstream.server.url());
    for _ in 0..3 {
        request(&tenant_a, refused.clone()).await;
    }
    assert_eq!(request(&tenant_a, refused.clone()).await["error"], "circuit-open");
    let other = request(&tenant_b, format!("{}/echo", upstream.server.url())).await;
    assert_eq!(other["status"], 200, "another tenant's breaker is its own: {other}");
}

/// F13: after an authentication failure the database holds no unsalted
/// hash of the credentials (which anyone reading it could test guesses
/// against), and no credential.
#[tokio::test]
async fn the_database_holds_no_unsalted_credential_hash() {
    use sha2::Digest as _;
    let upstream = Hostile::start().await.unwrap();
    let state = tempfile::tempdir().unwrap();
    let db = state.path().join("state.db");
    let dir = guests(&["probe"]);
    let host = builder().plugins_dir(dir.path()).database(&db).build().await.unwrap();
    let weak = "password1";
    let settings = Settings::from([("base".to_string(), upstream.server.url())]);
    let conn = host
        .connect("other/probe", Credentials::from([("token", weak)]), settings)
        .unwrap();
    let out = conn
        .call_json(
            "actions.execute",
            &json!({"name": "request", "input": json!({"url": format!("{}/status/a/401", upstream.server.url()), "no_retry": true}).to_string()}),
        )
        .await
        .unwrap();
    assert!(out.as_str().unwrap().contains("401"), "{out}");
    drop(conn);
    drop(host);
    let mut unsalted = sha2::Sha256::new();
    unsalted.update(b"token\0password1\0");
    let guessable = hex::encode(&unsalted.finalize()[..16]);
    let mut everything = Vec::new();
    for entry in std::fs::read_dir(state.path()).unwrap() {
        everything.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let text = String::from_utf8_lossy(&everything);
    assert!(text.contains("circuit"), "the database was written");
    assert!(
        !text.contains(&guessable),
        "an unsalted hash of the credentials is in the database"
    );
    assert!(!text.contains(weak), "the credential itself is in the database");
}

/// F4: which credentials a plugin may read is the operator's decision, not
/// the plugin's: a field the manifest calls `secret: false` stays secret
/// unless it was made public when the connection was stored, and a stored
/// connection keeps what it was stored with.
#[tokio::test]
async fn the_operator_not_the_plugin_decides_which_credentials_are_readable() {
    let dir = guests(&["probe"]);
    let host = builder().plugins_dir(dir.path()).build().await.unwrap();
    let read = |conn: patchbay::Connection, name: &'static str| async move {
        let out = conn
            .call_json(
                "actions.execute",
                &json!({"name": "config", "input": json!({ "name": name }).to_string()}),
            )
            .await
            .unwrap();
        out.as_str().unwrap().to_string()
    };
    let connections = host.connections("acme");
    let stored = |public: Vec<String>| NewConnection {
        provider: "other/probe".into(),
        display_name: String::new(),
        // `user` is `secret: false` in the probe's manifest.
        credentials: Credentials::from([("user", "s3cr3t")]),
        settings: Settings::from([("base".to_string(), "https://api.example.com".to_string())]),
        id: None,
        public_fields: public,
        signing_fields: vec![],
    };
    let secret = connections.add(stored(vec![])).await.unwrap();
    assert!(secret.public_fields.is_empty());
    let refused = read(connections.open(&secret.id).await.unwrap(), "user").await;
    assert!(refused.contains("is a secret credential field"), "{refused}");
    assert!(!refused.contains("s3cr3t"), "{refused}");

    let public = connections.add(stored(vec!["user".into()])).await.unwrap();
    assert_eq!(public.public_fields, ["user"]);
    let readable = read(connections.open(&public.id).await.unwrap(), "user").await;
    assert!(readable.contains("s3cr3t"), "made public by the operator: {readable}");

    // Ad-hoc connections alike.
    let adhoc = host
        .connect(
            "other/probe",
            Credentials::from([("user", "s3cr3t")]),
            Settings::from([("base".to_string(), "https://api.example.com".to_string())]),
        )
        .unwrap();
    assert!(read(adhoc, "user").await.contains("is a secret credential field"));
    let unknown = host
        .connect_with(
            "other/probe",
            Credentials::new(),
            Settings::new(),
            patchbay::ConnectOptions {
                id: None,
                public_fields: vec!["nope".into()],
                signing_fields: vec![],
            },
        )
        .unwrap_err();
    assert_eq!(unknown.field(), Some("nope"));
}

/// F10: `crypto` keys only with the fields the operator designated for
/// signing: a plugin cannot turn another credential (a password) into an
/// offline-crackable verifier, an equality oracle or a signing oracle.
#[tokio::test]
async fn crypto_keys_only_with_designated_signing_fields() {
    let dir = guests(&["probe"]);
    let host = builder().plugins_dir(dir.path()).build().await.unwrap();
    let hmac = |conn: patchbay::Connection, field: &'static str| async move {
        let out = conn
            .call_json(
                "actions.execute",
                &json!({"name": "hmac", "input": json!({ "field": field, "message": "x", "guess": "password1" }).to_string()}),
            )
            .await
            .unwrap();
        out.as_str().unwrap().to_string()
    };
    let options = |signing: Vec<String>| patchbay::ConnectOptions {
        id: None,
        public_fields: vec![],
        signing_fields: signing,
    };
    let credentials = || Credentials::from([("token", "webhook-secret"), ("client_secret", "password1")]);
    let settings = || Settings::from([("base".to_string(), "https://api.example.com".to_string())]);
    let undesignated = host
        .connect_with("other/probe", credentials(), settings(), options(vec![]))
        .unwrap();
    for field in ["token", "client_secret"] {
        let refused = hmac(undesignated.clone(), field).await;
        assert!(refused.contains("is not set"), "{field}: {refused}");
        assert!(!refused.contains(r#""guess":true"#), "{refused}");
    }
    let designated = host
        .connect_with("other/probe", credentials(), settings(), options(vec!["token".into()]))
        .unwrap();
    assert!(hmac(designated.clone(), "token").await.contains(r#""verified":true"#));
    let password = hmac(designated, "client_secret").await;
    assert!(
        password.contains("is not set"),
        "the password stays out of crypto: {password}"
    );
}

/// A secret full of the characters encodings change.
const TRICKY: &str = "s3cr/t +\"x:y;z~q";

/// The hostile plugin, connected to `base` with [`TRICKY`] as its token
/// and a user name the operator made readable.
async fn hostile(
    limits: patchbay::outbound::HttpLimits,
    base: &str,
) -> (tempfile::TempDir, Host, patchbay::Connection) {
    let plugins = guests(&["hostile"]);
    let host = builder()
        .plugins_dir(plugins.path())
        .http_limits(patchbay::outbound::HttpLimits {
            allow_private_network: true,
            ..limits
        })
        .build()
        .await
        .unwrap();
    let connection = host
        .connect_with(
            "other/hostile",
            Credentials::from([("token", TRICKY), ("user", "alice")]),
            Settings::from([("base".to_string(), base.to_string())]),
            patchbay::ConnectOptions {
                id: None,
                public_fields: vec!["user".into()],
                signing_fields: vec![],
            },
        )
        .unwrap();
    (plugins, host, connection)
}

async fn attack(connection: &patchbay::Connection, action: &str) -> Value {
    let out = connection
        .call_json("actions.execute", &json!({ "name": action, "input": "{}" }))
        .await
        .unwrap();
    let text: String = serde_json::from_str(out.as_str().unwrap()).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Issue 16: an upstream that reflects its request — the URL, every header,
/// the Basic credentials decoded, in its body (streamed a byte at a time,
/// so secrets straddle chunks) and in its headers — hands none of the
/// connection's secret back to the plugin, in any encoding the host sent it
/// in, while the upstream did get it.
#[tokio::test]
async fn an_upstream_that_reflects_the_request_hands_no_secret_back() {
    use base64::Engine as _;
    let up = Hostile::start().await.unwrap();
    let (_plugins, _host, connection) = hostile(Default::default(), &up.url()).await;
    let seen = attack(&connection, "reflect").await;
    let seen_text = seen.to_string();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{TRICKY}"));
    let attempts = seen.as_array().unwrap();
    assert_eq!(attempts.len(), 24, "{seen}");
    for attempt in attempts {
        assert_eq!(attempt["status"], 200, "every request was answered: {attempt}");
        let text = attempt.to_string();
        // Every form of the secret ends with `z~q`, percent-encoded or not;
        // the Basic credentials are base64.
        for form in ["z~q", "z%7Eq", "z%7eq", "y;z", &basic] {
            assert!(!text.contains(form), "{form:?} came back: {text}");
        }
        assert!(text.contains("[redacted]"), "the reflection is there, scrubbed: {text}");
    }
    assert!(seen_text.contains("alice"), "what is not secret passes");
    assert!(
        seen_text.contains("a body of the plugin's own"),
        "the rest of the reflection is intact"
    );
    // The upstream did receive the secret (the last attempt sent it raw in
    // a header).
    let received = up.last_request().unwrap();
    assert_eq!(received["headers"]["x-api-key"], TRICKY, "{received}");
}

/// Issue 16: a plugin cannot address another virtual host of a shared
/// front end: `Host`, forwarding, hop-by-hop and `Proxy-*` headers are
/// refused by name, and the upstream sees only the host of the URL.
#[tokio::test]
async fn a_forged_host_header_never_leaves_the_host() {
    let up = Hostile::start().await.unwrap();
    let (_plugins, _host, connection) = hostile(Default::default(), &up.url()).await;
    let seen = attack(&connection, "forge-host").await;
    let names = [
        "Host",
        "host",
        "X-Forwarded-Host",
        "Transfer-Encoding",
        "Proxy-Authorization",
    ];
    for (attempt, name) in seen.as_array().unwrap().iter().zip(names) {
        let error = attempt["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("InvalidRequest") && error.contains(name),
            "{name}: {attempt}"
        );
    }
    assert!(up.last_request().is_none(), "nothing reached the upstream");
}

/// Issue 16: an upstream that trickles its body a byte at a time is cut off
/// by the between-bytes timeout, long before the call's deadline, and the
/// error says which timeout ended it.
#[tokio::test]
async fn a_trickling_upstream_is_cut_off_by_the_between_bytes_timeout() {
    let up = Hostile::start().await.unwrap();
    let limits = patchbay::outbound::HttpLimits {
        idle_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let (_plugins, _host, connection) = hostile(limits, &up.url()).await;
    let started = std::time::Instant::now();
    let seen = attack(&connection, "trickle").await;
    let error = seen["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("Timeout") && error.contains("between-bytes timeout"),
        "{seen}"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(up.hits("trickle"), 1, "not retried: the plugin said no retry");
}

/// Issue 18: a plugin abusing the blobs it is lent. Slices are resources of
/// the call, bounded by its table: hoarding them ends in a typed refusal,
/// not the host's memory. A read is at most 1 MiB whatever it asks, past
/// the end is out of range, and no slice reaches outside its blob. A
/// request cannot carry a body and a blob, and a blob goes nowhere the
/// grant does not allow.
#[tokio::test]
async fn a_plugin_abusing_blobs_gets_typed_refusals() {
    let up = Hostile::start().await.unwrap();
    let (_plugins, _host, connection) = hostile(Default::default(), &up.url()).await;
    let (file, _) = crate::support::generated(3 * 1024 * 1024);
    let blob = patchbay::outbound::Blob::from_file(file.path()).unwrap();
    let storage = connection.blob_storage().unwrap();
    let attack = |name: &'static str| {
        let (storage, blob) = (&storage, blob.whole());
        async move {
            let out = storage.save_blob(name, blob).await.unwrap();
            serde_json::from_str::<Value>(&out).unwrap()
        }
    };

    let hoard = attack("hoard-slices").await;
    let held = hoard["held"].as_u64().unwrap();
    assert!((900..1024).contains(&held), "{hoard}");
    assert!(
        hoard["refusal"].as_str().unwrap().contains("too many open resources"),
        "{hoard}"
    );

    let peek = attack("peek-beyond").await;
    assert!(peek["past-the-end"].as_str().unwrap().contains("OutOfRange"), "{peek}");
    assert_eq!(peek["all-at-once"], 1024 * 1024, "{peek}");
    assert!(peek["slice-outside"].as_str().unwrap().contains("OutOfRange"), "{peek}");
    assert!(
        peek["slice-overflow"].as_str().unwrap().contains("OutOfRange"),
        "{peek}"
    );

    let smuggle = attack("smuggle").await;
    assert!(
        smuggle["body-and-blob"]
            .as_str()
            .unwrap()
            .contains("the request's own body must be none"),
        "{smuggle}"
    );
    assert!(smuggle["elsewhere"].as_str().unwrap().contains("denied"), "{smuggle}");
    // The host goes on: the connection still answers.
    assert!(connection.test().await.unwrap().success);
}

/// Issue 18: a plugin never receives the password of a file server. The
/// hostile plugin, given the real SFTP and FTP passwords as its `token`,
/// tries to read it, to send it as the user name so that the refusal
/// echoes it, and to have it sent in clear (plain FTP): what it gets back
/// holds no trace of it, the attempts in clear are refused before anything
/// is sent, and the honest login still works (the door did get it).
#[tokio::test]
async fn a_file_server_password_never_reaches_the_plugin() {
    for (base, user, password, host_key, scheme) in [
        (
            env_var("PATCHBAY_SFTP_URL"),
            env_var("PATCHBAY_SFTP_USER"),
            env_var("PATCHBAY_SFTP_PASSWORD"),
            env_var("PATCHBAY_SFTP_HOST_KEY"),
            "Sftp",
        ),
        (
            env_var("PATCHBAY_FTP_URL"),
            env_var("PATCHBAY_FTP_USER"),
            env_var("PATCHBAY_FTP_PASSWORD"),
            String::new(),
            "Ftp",
        ),
    ] {
        let plugins = guests(&["hostile"]);
        let host = builder()
            .plugins_dir(plugins.path())
            .door_root_certificate(std::fs::read(env_var("PATCHBAY_FTP_CA")).unwrap())
            .build()
            .await
            .unwrap();
        let connection = host
            .connect_with(
                "other/hostile",
                Credentials::from([("token", password.as_str()), ("user", user.as_str())]),
                Settings::from([("base".to_string(), base.clone()), ("host_key".to_string(), host_key)]),
                patchbay::ConnectOptions {
                    id: None,
                    public_fields: vec!["user".into()],
                    signing_fields: vec![],
                },
            )
            .unwrap();
        let seen = attack(&connection, "steal-login").await;
        let text = seen.to_string();
        assert!(
            !text.contains(&password),
            "{scheme}: the password reached the plugin: {text}"
        );
        let seen: Vec<&str> = seen.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert!(seen[0].contains("Err"), "{scheme}: config refused the secret: {seen:?}");
        // The password as the user name: refused by the server, the echo scrubbed.
        assert!(
            seen[1].contains("Auth") && seen[1].contains("[redacted]"),
            "{scheme}: {seen:?}"
        );
        // The honest login works: the door had the password all along.
        assert!(seen[3].contains("Ok("), "{scheme}: {seen:?}");
        if scheme == "Ftp" {
            // Plain FTP with any login: refused before anything is sent.
            for attempt in &seen[5..] {
                assert!(
                    attempt.starts_with("Protocol::Ftp: Err(") && attempt.contains("a login is never sent in clear"),
                    "{attempt}"
                );
            }
        }
    }
}

fn env_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the tests through `just test`"))
}
