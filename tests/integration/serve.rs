//! `patchbay serve` over real HTTP on loopback: API keys and tenants,
//! connections and calls against the mock WooCommerce shop, problems that
//! name what was wrong, the OAuth2 code flow through `/oauth/callback`
//! against oauth2-mock-server, bounded calls in flight, deadlines, and a
//! graceful shutdown that lets a call in flight finish.

use std::time::Duration;

use patchbay::Host;
use patchbay_serve::Settings;
use patchbay_tests::hostile::Hostile;
use patchbay_tests::woocommerce::{MockShop, ShopConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{builder, workspace};

/// A running service with a key per tenant.
pub(crate) struct Service {
    pub url: String,
    pub http: reqwest::Client,
    pub host: Host,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Service {
    pub async fn start(settings: Settings) -> Self {
        Self::start_with(settings, &[]).await
    }

    /// [`start`](Self::start) with more of the built plugins
    /// (`target/plugins/NAME.wasm`, else the test guest
    /// `target/test-plugins/NAME.wasm`).
    pub async fn start_with(settings: Settings, plugins: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap().keep();
        for name in plugins {
            // A bundled plugin, or a test guest.
            let bundled = workspace().join(format!("target/plugins/{name}.wasm"));
            let source = if bundled.is_file() {
                bundled
            } else {
                workspace().join(format!("target/test-plugins/{name}.wasm"))
            };
            std::fs::copy(&source, dir.join(format!("{name}.wasm")))
                .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        }
        std::fs::copy(
            workspace().join("target/plugins/shop-woocommerce.wasm"),
            dir.join("shop-woocommerce.wasm"),
        )
        .unwrap();
        std::fs::copy(
            workspace().join("target/test-plugins/probe.wasm"),
            dir.join("probe.wasm"),
        )
        .unwrap();
        let host = builder().in_memory_database().plugins_dir(&dir).build().await.unwrap();
        assert_eq!(host.providers().len(), 2 + plugins.len(), "{:?}", host.load_failures());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let settings = Settings {
            listen: address,
            public_url: url::Url::parse(&format!("http://{address}")).unwrap(),
            ..settings
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(patchbay_serve::serve(host.clone(), settings, listener, async move {
            let _ = stopped.await;
        }));
        Self {
            url: format!("http://{address}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            host,
            stop: Some(stop),
            task,
        }
    }

    pub async fn key(&self, tenant: &str, admin: bool) -> String {
        self.host.api_keys().create(tenant, admin, "test").await.unwrap().key
    }

    fn request(&self, method: reqwest::Method, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(key)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path, key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// Checks an answer is a problem of `kind` with `status`.
pub(crate) fn problem(answer: &(StatusCode, Value), status: u16, kind: &str) {
    assert_eq!(answer.0.as_u16(), status, "{}", answer.1);
    assert_eq!(answer.1["kind"], kind, "{}", answer.1);
    assert_eq!(answer.1["status"], status, "{}", answer.1);
    assert!(
        answer.1["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{}",
        answer.1
    );
}

fn woo_body(shop: &MockShop) -> Value {
    json!({
        "provider": "shop/woocommerce",
        "credentials": {"consumer_key": shop.config.consumer_key, "consumer_secret": shop.config.consumer_secret},
        "settings": {"domain": shop.url()},
    })
}

use reqwest::Method;

#[tokio::test]
async fn a_tenant_lists_orders_over_http_and_another_tenant_sees_nothing() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let service = Service::start(Settings::default()).await;
    let acme = service.key("acme", false).await;
    let globex = service.key("globex", false).await;

    let created = service
        .send(Method::POST, "/v1/connections", &acme, Some(woo_body(&shop)))
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let woo = created.1["id"].as_str().unwrap().to_string();
    let at = |rest: &str| format!("/v1/connections/{woo}{rest}");
    assert_eq!(
        created.1["credential_fields"],
        json!(["consumer_key", "consumer_secret"])
    );
    assert!(
        !created.1.to_string().contains(&shop.config.consumer_secret),
        "credentials are never echoed back"
    );

    let page = service
        .send(
            Method::POST,
            &at("/call/shop.get-orders"),
            &acme,
            Some(json!({"query": {"limit": 5}})),
        )
        .await;
    assert_eq!(page.0, StatusCode::OK, "{}", page.1);
    assert_eq!(page.1["items"].as_array().unwrap().len(), 5);
    assert_eq!(page.1["total"], 250);
    let next = page.1["next-cursor"].as_str().unwrap().to_string();
    let second = service
        .send(
            Method::POST,
            &at("/call/shop.get-orders"),
            &acme,
            Some(json!({"query": {"limit": 5, "cursor": next}})),
        )
        .await;
    assert_ne!(
        second.1["items"][0]["order-id"], page.1["items"][0]["order-id"],
        "the next page"
    );

    let listed = service.send(Method::GET, "/v1/connections", &acme, None).await;
    assert_eq!(listed.1.as_array().unwrap().len(), 1);
    let test = service.send(Method::POST, &at("/test"), &acme, None).await;
    assert_eq!(test.1["success"], true, "{}", test.1);

    // New settings are checked against the manifest, then kept.
    let wrong = service
        .send(Method::PUT, &at("/settings"), &acme, Some(json!({"settings": {}})))
        .await;
    problem(&wrong, 422, "invalid");
    assert_eq!(wrong.1["field"], "domain", "{}", wrong.1);
    let moved = service
        .send(
            Method::PUT,
            &at("/settings"),
            &acme,
            Some(json!({"settings": {"domain": shop.url(), "currency": "EUR"}})),
        )
        .await;
    assert_eq!(moved.1["settings"]["currency"], "EUR", "{}", moved.1);
    let test = service.send(Method::POST, &at("/test"), &acme, None).await;
    assert_eq!(
        test.1["success"], true,
        "the credentials were sealed again for the new settings: {}",
        test.1
    );

    // The operators' dashboard reads the overview with an admin key.
    let ops = service.key("ops", true).await;
    let overview = service.send(Method::GET, "/v1/admin/overview", &ops, None).await;
    let tenants = overview.1["tenants"].as_array().unwrap();
    let acme_view = tenants.iter().find(|t| t["tenant"] == "acme").unwrap();
    assert_eq!(acme_view["connections"][0]["id"], woo.as_str(), "{}", overview.1);
    let last = &overview.1["recent_calls"][0];
    assert_eq!(
        (last["function"].as_str(), last["outcome"].as_str()),
        (Some("shop.get-orders"), Some("ok"))
    );
    problem(
        &service.send(Method::GET, "/v1/admin/overview", &acme, None).await,
        403,
        "forbidden",
    );
    let page = service.http.get(format!("{}/", service.url)).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("/v1/admin/overview"));

    // Another tenant: the connection does not exist, whatever it tries.
    assert_eq!(
        service.send(Method::GET, "/v1/connections", &globex, None).await.1,
        json!([])
    );
    let credentials = json!({"credentials": {"consumer_key": "ck", "consumer_secret": "cs"}});
    for (method, path, body) in [
        (Method::GET, at(""), None),
        (Method::POST, at("/call/shop.get-orders"), Some(json!({"query": {}}))),
        (Method::POST, at("/test"), None),
        (Method::POST, at("/disable"), None),
        (Method::PUT, at("/credentials"), Some(credentials)),
        (
            Method::PUT,
            at("/settings"),
            Some(json!({"settings": {"domain": "https://x.example"}})),
        ),
        (Method::POST, at("/authorize"), None),
        (Method::DELETE, at(""), None),
    ] {
        let answer = service.send(method, &path, &globex, body).await;
        assert_eq!(answer.0, StatusCode::NOT_FOUND, "{path}: {}", answer.1);
    }
    assert_eq!(
        service.send(Method::GET, &at(""), &acme, None).await.0,
        StatusCode::OK,
        "still there for its tenant"
    );

    // Disabled, then deleted, by its own tenant.
    let disabled = service.send(Method::POST, &at("/disable"), &acme, None).await;
    assert_eq!(disabled.1["enabled"], false);
    let refused = service
        .send(
            Method::POST,
            &at("/call/shop.get-orders"),
            &acme,
            Some(json!({"query": {}})),
        )
        .await;
    problem(&refused, 409, "unavailable");
    let gone = service.send(Method::DELETE, &at(""), &acme, None).await;
    assert_eq!(gone.0, StatusCode::NO_CONTENT);
    problem(&service.send(Method::GET, &at(""), &acme, None).await, 404, "not-found");
}

#[tokio::test]
async fn keys_decide_who_may_call_what() {
    let service = Service::start(Settings::default()).await;
    let none = service
        .http
        .get(format!("{}/v1/providers", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["content-type"], "application/problem+json");
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["kind"], "unauthenticated");
    for bad in ["pbk_0000000000000000_00", "nonsense", ""] {
        problem(
            &service.send(Method::GET, "/v1/providers", bad, None).await,
            401,
            "unauthenticated",
        );
    }

    let tenant = service.key("acme", false).await;
    let providers = service.send(Method::GET, "/v1/providers", &tenant, None).await;
    let names: Vec<&str> = providers
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["other/probe", "shop/woocommerce"]);
    let manifest = service
        .send(Method::GET, "/v1/providers/shop/woocommerce", &tenant, None)
        .await;
    assert_eq!(manifest.1["name"], "woocommerce", "{}", manifest.1);
    let functions = service
        .send(Method::GET, "/v1/providers/shop/woocommerce/functions", &tenant, None)
        .await;
    let get_orders = functions
        .1
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "shop.get-orders")
        .unwrap();
    assert!(
        get_orders["params"]["query"].is_object(),
        "the input's JSON Schema: {get_orders}"
    );
    problem(
        &service
            .send(Method::GET, "/v1/providers/shop/nope", &tenant, None)
            .await,
        404,
        "not-found",
    );

    // Operator endpoints want an admin key.
    problem(
        &service.send(Method::GET, "/v1/admin/keys", &tenant, None).await,
        403,
        "forbidden",
    );
    let admin = service.key("ops", true).await;
    let created = service
        .send(
            Method::POST,
            "/v1/admin/keys",
            &admin,
            Some(json!({"tenant": "initech", "label": "ci"})),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let key = created.1["key"].as_str().unwrap().to_string();
    assert_eq!(
        service.send(Method::GET, "/v1/connections", &key, None).await.0,
        StatusCode::OK
    );
    let listed = service.send(Method::GET, "/v1/admin/keys", &admin, None).await;
    assert!(!listed.1.to_string().contains(&key), "a key is shown once");
    let id = created.1["id"].as_str().unwrap();
    assert_eq!(
        service
            .send(Method::DELETE, &format!("/v1/admin/keys/{id}"), &admin, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    problem(
        &service.send(Method::GET, "/v1/connections", &key, None).await,
        401,
        "unauthenticated",
    );
    problem(
        &service
            .send(
                Method::POST,
                "/v1/admin/keys",
                &admin,
                Some(json!({"tenant": "no spaces"})),
            )
            .await,
        422,
        "invalid",
    );
}

#[tokio::test]
async fn bad_input_gets_a_problem_naming_what_was_wrong() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let service = Service::start(Settings {
        body_limit: 4096,
        ..Settings::default()
    })
    .await;
    let key = service.key("acme", false).await;

    let mut missing = woo_body(&shop);
    missing["credentials"]
        .as_object_mut()
        .unwrap()
        .remove("consumer_secret");
    let answer = service.send(Method::POST, "/v1/connections", &key, Some(missing)).await;
    problem(&answer, 422, "invalid");
    assert_eq!(answer.1["field"], "consumer_secret", "{}", answer.1);

    let mut unknown = woo_body(&shop);
    unknown["provider"] = json!("shop/nope");
    problem(
        &service.send(Method::POST, "/v1/connections", &key, Some(unknown)).await,
        404,
        "not-found",
    );

    let mut typo = woo_body(&shop);
    typo["setings"] = json!({});
    let answer = service.send(Method::POST, "/v1/connections", &key, Some(typo)).await;
    problem(&answer, 422, "invalid");
    assert!(answer.1["detail"].as_str().unwrap().contains("setings"), "{}", answer.1);

    let malformed = service
        .request(Method::POST, "/v1/connections", &key)
        .header("content-type", "application/json")
        .body("{\"provider\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.json::<Value>().await.unwrap()["kind"], "invalid-json");

    let huge = json!({"provider": "x".repeat(10_000)});
    problem(
        &service.send(Method::POST, "/v1/connections", &key, Some(huge)).await,
        413,
        "too-large",
    );

    let created = service
        .send(Method::POST, "/v1/connections", &key, Some(woo_body(&shop)))
        .await;
    assert_eq!(created.0, StatusCode::CREATED);
    let woo = created.1["id"].as_str().unwrap().to_string();
    let call = |function: &'static str, body: Value| {
        let service = &service;
        let key = key.clone();
        let woo = woo.clone();
        async move {
            service
                .send(
                    Method::POST,
                    &format!("/v1/connections/{woo}/call/{function}"),
                    &key,
                    Some(body),
                )
                .await
        }
    };
    let answer = call("shop.get-orders", json!({"query": {"limit": "ten"}})).await;
    problem(&answer, 422, "invalid");
    assert_eq!(answer.1["field"], "query.limit", "{}", answer.1);
    problem(&call("shop.get-orders", json!([1, 2])).await, 422, "invalid");
    problem(&call("shop.launch-rockets", json!({})).await, 404, "not-found");
    let answer = call("shop.get-order", json!({"order-id": "99999"})).await;
    problem(&answer, 404, "not-found");
    assert!(
        answer.1["error"]["not-found"].is_string(),
        "the connector error: {}",
        answer.1
    );
    let answer = call("shop.get-order", json!({"order-id": "abc"})).await;
    problem(&answer, 422, "validation");
    problem(
        &service.send(Method::GET, "/v1/nowhere", &key, None).await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn the_oauth_code_flow_completes_through_the_callback() {
    let Ok(auth_server) = std::env::var("PATCHBAY_OAUTH_SERVER") else {
        panic!("PATCHBAY_OAUTH_SERVER is not set: run the tests through `just test` (tests/with-oauth-server.sh)");
    };
    let upstream = Hostile::start().await.unwrap();
    let service = Service::start(Settings::default()).await;
    let key = service.key("acme", false).await;
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            &key,
            Some(json!({
                "provider": "other/probe",
                "credentials": {"client_id": "serve-test", "client_secret": "patchbay-test-secret"},
                "settings": {"base": upstream.server.url(), "auth_server": auth_server},
            })),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["authorized"], false);
    let crm = created.1["id"].as_str().unwrap().to_string();

    let start = service
        .send(Method::POST, &format!("/v1/connections/{crm}/authorize"), &key, None)
        .await;
    assert_eq!(start.0, StatusCode::OK, "{}", start.1);
    assert_eq!(start.1["redirect_uri"], format!("{}/oauth/callback", service.url));
    // The user's browser: consent at the provider, then back to the service.
    let consent = service.http.get(start.1["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(consent.status(), 302);
    let back = consent.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(&format!("{}/oauth/callback?", service.url)), "{back}");
    let page = service.http.get(&back).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(text.contains("Connection authorized") && text.contains(&crm), "{text}");
    let info = service
        .send(Method::GET, &format!("/v1/connections/{crm}"), &key, None)
        .await;
    assert_eq!(info.1["authorized"], true, "{}", info.1);
    assert_eq!(info.1["connected"], true, "{}", info.1);

    // The same callback again: the state was used.
    let again = service.http.get(&back).send().await.unwrap();
    assert_eq!(again.status(), 404);
    // A provider's refusal is shown, not swallowed.
    let refused = service
        .http
        .get(format!(
            "{}/oauth/callback?error=access_denied&error_description=The+user+said+no&state=x",
            service.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("access_denied") && text.contains("The user said no"),
        "{text}"
    );
}

#[tokio::test]
async fn the_callback_redirects_to_the_configured_page_with_the_outcome() {
    let done = url::Url::parse("https://app.example.com/integrations/done?from=patchbay").unwrap();
    let service = Service::start(Settings {
        oauth_done_url: Some(done),
        ..Settings::default()
    })
    .await;
    for (query, expected) in [
        (
            "error=access_denied&error_description=no+thanks&state=s",
            vec![("error", "access_denied"), ("error_description", "no thanks")],
        ),
        ("state=never-issued&code=c", vec![("error", "not-found")]),
    ] {
        let response = service
            .http
            .get(format!("{}/oauth/callback?{query}", service.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{query}");
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(location.path(), "/integrations/done");
        let pairs: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
        assert_eq!(pairs["from"], "patchbay", "the page's own query is kept");
        for (key, value) in expected {
            assert_eq!(pairs[key], value, "{query}: {location}");
        }
    }
}

/// A call that takes `ms` at the upstream, on the tenant's probe connection.
fn slow(
    service: &Service,
    (key, id): &(String, String),
    upstream: &Hostile,
    ms: u64,
) -> tokio::task::JoinHandle<(StatusCode, Value)> {
    let request = service
        .request(Method::POST, &format!("/v1/connections/{id}/call/actions.execute"), key)
        .json(&json!({"name": "request", "input": json!({"url": format!("{}/sleep/{ms}", upstream.server.url())}).to_string()}));
    tokio::spawn(async move {
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

/// Waits (up to 2 s) until `n` slow calls have reached the upstream: then
/// they are in flight.
async fn reached(upstream: &Hostile, n: usize) {
    for _ in 0..100 {
        if upstream.hits("sleep") >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A tenant's key and its probe connection to the upstream.
async fn probe_tenant(service: &Service, tenant: &str, upstream: &Hostile) -> (String, String) {
    let key = service.key(tenant, false).await;
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            &key,
            Some(json!({"provider": "other/probe", "settings": {"base": upstream.server.url()}})),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    (key, created.1["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn calls_in_flight_are_bounded_per_tenant_and_overall_and_by_a_deadline() {
    let upstream = Hostile::start().await.unwrap();
    let service = Service::start(Settings {
        max_in_flight: 2,
        max_in_flight_per_tenant: 1,
        call_timeout: Duration::from_secs(2),
        ..Settings::default()
    })
    .await;
    let a = probe_tenant(&service, "a", &upstream).await;
    let b = probe_tenant(&service, "b", &upstream).await;
    let c = probe_tenant(&service, "c", &upstream).await;
    let first = slow(&service, &a, &upstream, 1500);
    let second = slow(&service, &b, &upstream, 1500);
    // Both are in flight once the upstream has seen them.
    reached(&upstream, 2).await;
    assert_eq!(upstream.hits("sleep"), 2, "both slow calls reached the upstream");
    let busy = slow(&service, &a, &upstream, 10).await.unwrap();
    problem(&busy, 429, "busy");
    let overloaded = slow(&service, &c, &upstream, 10).await.unwrap();
    problem(&overloaded, 503, "overloaded");
    assert_eq!(first.await.unwrap().0, StatusCode::OK);
    assert_eq!(second.await.unwrap().0, StatusCode::OK);
    assert_eq!(
        slow(&service, &c, &upstream, 10).await.unwrap().0,
        StatusCode::OK,
        "room again"
    );

    let late = slow(&service, &a, &upstream, 5000).await.unwrap();
    problem(&late, 504, "deadline");
}

#[tokio::test]
async fn shutdown_lets_the_call_in_flight_finish() {
    let upstream = Hostile::start().await.unwrap();
    let mut service = Service::start(Settings::default()).await;
    let acme = probe_tenant(&service, "acme", &upstream).await;
    let call = slow(&service, &acme, &upstream, 1000);
    reached(&upstream, 1).await;
    service.stop.take().unwrap().send(()).unwrap();
    let (status, body) = call.await.unwrap();
    assert_eq!(status, StatusCode::OK, "the call in flight finished: {body}");
    tokio::time::timeout(Duration::from_secs(10), &mut service.task)
        .await
        .expect("the server stopped")
        .unwrap()
        .unwrap();
    assert!(
        service
            .http
            .get(format!("{}/healthz", service.url))
            .send()
            .await
            .is_err(),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let service = Service::start(Settings::default()).await;
    let document: Value = service
        .http
        .get(format!("{}/openapi.json", service.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    for path in [
        "/v1/providers",
        "/v1/connections",
        "/v1/connections/{id}/call/{function}",
        "/oauth/callback",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
    assert!(document["components"]["schemas"]["Problem"].is_object());
    // A function's result is any JSON value (a list of actions, a string, an
    // object): the schema must not narrow it (schemathesis found `object`).
    let result = &document["paths"]["/v1/connections/{id}/call/{function}"]["post"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert!(
        result.is_object() && result.get("type").is_none(),
        "any JSON value: {result}"
    );
    let list = &document["paths"]["/v1/connections"]["get"]["responses"];
    assert!(list["401"].is_object(), "a keyed operation documents 401: {list}");
    let create = &document["paths"]["/v1/connections"]["post"]["responses"];
    for status in ["400", "401", "413", "415", "422"] {
        assert!(
            create[status].is_object(),
            "a body-taking operation documents {status}: {create}"
        );
    }
    assert!(
        document["paths"]["/healthz"]["get"]["responses"]["401"].is_null(),
        "an open endpoint does not"
    );
    assert!(document["components"]["securitySchemes"]["api_key"].is_object());
    let docs = service.http.get(format!("{}/docs", service.url)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("/openapi.json"));
    let bundle = service
        .http
        .get(format!("{}/docs/swagger-ui-bundle.js", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(
        bundle.text().await.unwrap().len() > 1_000_000,
        "Swagger UI is served from the binary"
    );
    let ready: Value = service
        .http
        .get(format!("{}/readyz", service.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["providers"], 2);
}
