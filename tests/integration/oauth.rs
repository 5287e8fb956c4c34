//! OAuth2 done by the host, against a real OAuth2/OIDC test server
//! (oauth2-mock-server from npm, started on loopback by
//! `tests/with-oauth-server.sh`, which `just test` and CI use).
//!
//! The probe plugin declares `{{setting.auth_server}}/authorize` and
//! `/token`, PKCE, client authentication in HTTP Basic, and both the
//! authorization-code and client-credentials flows; its requests ask for
//! the `oauth2` scheme and never see a token. Tokens are JWTs signed by the
//! server; the tests read their claims from what the upstream received.

use base64::Engine as _;
use patchbay::{Connections, ConnectionsError, Credentials, Host, NewConnection, Settings};
use patchbay_tests::hostile::Hostile;
use serde_json::{Value, json};

use crate::support::builder;

/// The test server's URL.
pub(crate) fn oauth_server() -> String {
    std::env::var("PATCHBAY_OAUTH_SERVER").expect(
        "PATCHBAY_OAUTH_SERVER is not set: run the tests through `just test` \
         (tests/with-oauth-server.sh starts oauth2-mock-server)",
    )
}

async fn host() -> Host {
    let dir = tempfile::tempdir().unwrap();
    for name in ["probe", "custom-oauth"] {
        let wasm = crate::support::workspace().join(format!("target/test-plugins/{name}.wasm"));
        std::fs::copy(&wasm, dir.path().join(format!("{name}.wasm"))).unwrap();
    }
    let host = builder().plugins_dir(dir.path()).build().await.unwrap();
    assert_eq!(host.providers().len(), 2, "{:?}", host.load_failures());
    host
}

pub(crate) fn settings(upstream: &Hostile) -> Settings {
    Settings::from([
        ("base".to_string(), upstream.server.url()),
        ("auth_server".to_string(), oauth_server()),
    ])
}

fn client(id: &str) -> Credentials {
    Credentials::from([("client_id", id), ("client_secret", "patchbay-test-secret")])
}

/// The claims of the bearer token the upstream received; the echo the
/// plugin got back (`echo`) holds no token (security review: reflection).
pub(crate) fn claims(upstream: &Hostile, echo: &Value) -> Value {
    let body: Value = serde_json::from_str(echo["body"].as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("the upstream did not answer with its echo: {echo}"));
    assert_eq!(
        body["headers"]["authorization"], "Bearer [redacted]",
        "the plugin never sees the token"
    );
    let received = upstream.last_request().expect("the upstream got a request");
    let authorization = received["headers"]["authorization"].as_str().unwrap();
    let jwt = authorization.strip_prefix("Bearer ").expect("a bearer token");
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

pub(crate) async fn request(connection: &patchbay::Connection, url: String) -> Value {
    connection
        .call_json(
            "actions.execute",
            &json!({"name": "request", "input": json!({"url": url, "oauth2": true}).to_string()}),
        )
        .await
        .map(|out| serde_json::from_str(out.as_str().unwrap()).unwrap())
        .unwrap()
}

/// Plays the user's browser: follows the authorization URL to the
/// redirect and returns the `code` and `state` it carries.
async fn consent(url: &str) -> (String, String) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let get = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("the redirect {location} has no {name}"))
    };
    (get("code"), get("state"))
}

pub(crate) async fn authorized(connections: &Connections, upstream: &Hostile, client_id: &str) -> String {
    let id = connections
        .add(NewConnection {
            provider: "other/probe".into(),
            display_name: String::new(),
            credentials: client(client_id),
            settings: settings(upstream),
            id: None,
            public_fields: vec![],
            signing_fields: vec![],
        })
        .await
        .unwrap()
        .id;
    let start = connections.authorize(&id, "http://127.0.0.1:9/callback").await.unwrap();
    let url = url::Url::parse(&start.url).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], client_id);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["scope"], "orders:read");
    assert_eq!(query["state"], start.state);
    assert!(!query.contains_key("code_verifier"));
    let (code, state) = consent(&start.url).await;
    assert_eq!(state, start.state);
    let info = connections.complete_authorization(&state, &code).await.unwrap();
    assert!(info.authorized && info.connected, "{info:?}");
    id
}

#[tokio::test]
async fn authorization_code_with_pkce_stores_tokens_the_plugin_never_sees() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connections = host.connections("acme");
    let id = authorized(&connections, &upstream, "patchbay-code-client").await;

    let connection = connections.open(&id).await.unwrap();
    let echo = request(&connection, format!("{}/echo", upstream.url())).await;
    assert_eq!(echo["status"], 200, "{echo}");
    let token = claims(&upstream, &echo);
    assert_eq!(token["grant"], "authorization_code");
    assert_eq!(token["sub"], "johndoe");
    assert_eq!(token["client"], "patchbay-code-client");
    // The token is reused while valid.
    let again = request(&connection, format!("{}/echo", upstream.server.url())).await;
    assert_eq!(claims(&upstream, &again)["iat"], token["iat"]);

    // A state is good once, and only for its own tenant's connections.
    let (code, state) = {
        let start = connections.authorize(&id, "http://127.0.0.1:9/callback").await.unwrap();
        consent(&start.url).await
    };
    let other_tenant = host.connections("globex").complete_authorization(&state, &code).await;
    assert!(
        matches!(other_tenant, Err(ConnectionsError::UnknownState(_))),
        "{other_tenant:?}"
    );
    // Another tenant's attempt does not burn the state (security review
    // F23): its own tenant still completes it, once.
    let completed = connections.complete_authorization(&state, &code).await;
    assert!(completed.is_ok(), "{completed:?}");
    let replay = connections.complete_authorization(&state, &code).await;
    assert!(matches!(replay, Err(ConnectionsError::UnknownState(_))), "{replay:?}");
    assert!(host.connections("globex").list().await.unwrap().is_empty());
}

#[tokio::test]
async fn client_credentials_need_no_user() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connection = host
        .connect("other/probe", client("patchbay-service"), settings(&upstream))
        .unwrap();
    let echo = request(&connection, format!("{}/echo", upstream.url())).await;
    assert_eq!(echo["status"], 200, "{echo}");
    let token = claims(&upstream, &echo);
    assert_eq!(token["grant"], "client_credentials");
    assert_eq!(token["scope"], "orders:read");
    assert!(token.get("sub").is_none(), "{token}");
}

/// A provider that wants the token in a header of its own (Shopify's
/// `X-Shopify-Access-Token`): the `header` scheme with the field
/// `oauth.access_token` puts the connection's token there and not in
/// `Authorization`; an upstream echoing it hands the plugin `[redacted]`.
#[tokio::test]
async fn the_token_goes_in_a_providers_own_header_and_is_never_reflected() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connection = host
        .connect("other/probe", client("patchbay-service"), settings(&upstream))
        .unwrap();
    let echo = connection
        .call_json(
            "actions.execute",
            &json!({"name": "request", "input": json!({
                "url": format!("{}/echo", upstream.url()),
                "header_auth": ["X-Provider-Token", "oauth.access_token"],
            }).to_string()}),
        )
        .await
        .map(|out| serde_json::from_str::<Value>(out.as_str().unwrap()).unwrap())
        .unwrap();
    assert_eq!(echo["status"], 200, "{echo}");
    let received = upstream.last_request().expect("the upstream got a request");
    let token = received["headers"]["x-provider-token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "the connection's JWT: {token}");
    assert!(received["headers"].get("authorization").is_none(), "{received}");
    let body: Value = serde_json::from_str(echo["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["headers"]["x-provider-token"], "[redacted]", "{body}");
    assert!(!echo.to_string().contains(token));

    // A connection without OAuth2 asking for its token is refused, saying why.
    let plain = host
        .connect(
            "other/probe",
            Credentials::from([("client_secret", "x")]),
            settings(&upstream),
        )
        .unwrap();
    let refused = plain
        .call_json(
            "actions.execute",
            &json!({"name": "request", "input": json!({
                "url": format!("{}/echo", upstream.url()),
                "header_auth": ["X-Provider-Token", "oauth.access_token"],
            }).to_string()}),
        )
        .await;
    let refused: Value = serde_json::from_str(refused.unwrap().as_str().unwrap()).unwrap();
    assert_eq!(refused["error"], "denied", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("no OAuth2 session"),
        "{refused}"
    );
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connections = host.connections("acme");
    // This client's tokens live 5 s, inside the host's refresh margin.
    let id = authorized(&connections, &upstream, "short-lived-client").await;
    let connection = connections.open(&id).await.unwrap();
    let first = claims(
        &upstream,
        &request(&connection, format!("{}/echo", upstream.server.url())).await,
    );
    assert_eq!(first["grant"], "refresh_token", "{first}");
    let second = claims(
        &upstream,
        &request(&connection, format!("{}/echo", upstream.server.url())).await,
    );
    assert_eq!(second["grant"], "refresh_token");
    assert_ne!(first["jti"], second["jti"]);
    // A fresh process reads the refreshed (rotated) tokens from the vault.
    let reopened = connections.open(&id).await.unwrap();
    let third = claims(
        &upstream,
        &request(&reopened, format!("{}/echo", upstream.server.url())).await,
    );
    assert_eq!(third["grant"], "refresh_token");
    assert!(connections.get(&id).await.unwrap().connected);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_resends() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connections = host.connections("acme");
    let id = authorized(&connections, &upstream, "patchbay-401-client").await;
    let connection = connections.open(&id).await.unwrap();
    let echo = request(&connection, format!("{}/token-expired/a", upstream.server.url())).await;
    assert_eq!(echo["status"], 200, "{echo}");
    assert_eq!(claims(&upstream, &echo)["grant"], "refresh_token");
    assert_eq!(upstream.hits("token-expired/a"), 2, "one refusal, one resend");
}

#[tokio::test]
async fn a_revoked_refresh_token_disconnects_the_connection() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connections = host.connections("acme");
    let id = authorized(&connections, &upstream, "short-lived-revoked").await;
    // The user removes the app at the provider (RFC 7009 revocation endpoint).
    let revoked = reqwest::Client::new()
        .post(format!("{}/revoke", oauth_server()))
        .header("content-type", "application/json")
        .body(json!({"client_id": "short-lived-revoked"}).to_string())
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());

    let connection = connections.open(&id).await.unwrap();
    let refused = request(&connection, format!("{}/echo", upstream.server.url())).await;
    assert_eq!(refused["error"], "denied", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("invalid_grant"),
        "{refused}"
    );
    let info = connections.get(&id).await.unwrap();
    assert!(!info.connected && !info.authorized, "{info:?}");
    assert!(info.last_failure.as_deref().unwrap().contains("revoked"), "{info:?}");
    let reopen = connections.open(&id).await.unwrap_err();
    assert!(
        matches!(reopen, ConnectionsError::Disconnected { .. }) && reopen.to_string().contains("authorize"),
        "{reopen}"
    );
    // Authorizing again reconnects it.
    let start = connections.authorize(&id, "http://127.0.0.1:9/callback").await.unwrap();
    let (code, state) = consent(&start.url).await;
    assert!(
        connections
            .complete_authorization(&state, &code)
            .await
            .unwrap()
            .connected
    );
}

#[tokio::test]
async fn a_plugin_described_flow_keeps_its_tokens_in_the_same_vault() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connections = host.connections("acme");
    let id = connections
        .add(NewConnection {
            provider: "other/custom-oauth".into(),
            display_name: String::new(),
            credentials: Credentials::from([("client_id", "short-lived-custom"), ("client_secret", "s\"e&c=r+e t")]),
            settings: Settings::from([
                ("api".to_string(), upstream.url()),
                ("auth_server".to_string(), oauth_server()),
            ]),
            id: None,
            public_fields: vec!["client_id".into()],
            signing_fields: vec![],
        })
        .await
        .unwrap()
        .id;
    let info = connections.get(&id).await.unwrap();
    assert!(!info.connected, "a custom flow needs a user first: {info:?}");
    let unauthorized = connections.open(&id).await.unwrap_err();
    assert!(
        unauthorized.to_string().contains("not been authorized"),
        "{unauthorized}"
    );

    let start = connections.authorize(&id, "http://127.0.0.1:9/callback").await.unwrap();
    let url = url::Url::parse(&start.url).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["scope"], "messages.read", "the plugin built this URL");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["state"], start.state);
    let (code, state) = consent(&start.url).await;
    let info = connections.complete_authorization(&state, &code).await.unwrap();
    assert!(info.connected && info.authorized, "{info:?}");

    // Its tokens live 5 s, so the first call refreshes through the plugin's
    // JSON token request (and a secret with quotes survives the escaping).
    let connection = connections.open(&id).await.unwrap();
    let output = connection
        .call_json(
            "actions.execute",
            &json!({"name": "fetch", "input": json!({"url": format!("{}/echo", upstream.url())}).to_string()}),
        )
        .await
        .unwrap();
    let echo: Value = serde_json::from_str(output.as_str().unwrap()).unwrap();
    let token = claims(&upstream, &echo);
    assert_eq!(token["grant"], "refresh_token", "{token}");
    assert_eq!(token["client"], "short-lived-custom");
}

/// Security review F16: a connection opened before the vault key is
/// rotated seals the tokens it refreshes with the key in force, so the
/// next rotation (and the next process) can still open them.
#[tokio::test]
async fn connections_open_across_a_key_rotation_seal_with_the_new_key() {
    let upstream = Hostile::start().await.unwrap();
    let host = host().await;
    let connections = host.connections("acme");
    let id = authorized(&connections, &upstream, "short-lived-rotation").await;
    let connection = connections.open(&id).await.unwrap();
    host.rotate_vault_key(patchbay::vault::VaultKey::generate())
        .await
        .unwrap();
    // Short-lived tokens are refreshed on every use: this one is sealed now.
    let echo = request(&connection, format!("{}/echo", upstream.server.url())).await;
    assert_eq!(echo["status"], 200, "{echo}");
    host.rotate_vault_key(patchbay::vault::VaultKey::generate())
        .await
        .expect("every stored value opens with the key in force");
    let reopened = connections.open(&id).await.unwrap();
    let echo = request(&reopened, format!("{}/echo", upstream.server.url())).await;
    assert_eq!(echo["status"], 200, "{echo}");
}
