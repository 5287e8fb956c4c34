//! The Shopify plugin through the host, against a GraphQL Admin API mock
//! written from Shopify's docs: orders and products paged to the end (nested
//! line items and variants followed past their first page), mapped field by
//! field; stock, prices, order status and bulk updates; every error class;
//! the query-cost budget paced by the host (the mock throttles); webhooks
//! signed as Shopify signs them, directly and through `patchbay serve`.

use patchbay::types::{
    ConnectorError, Header, OrderQuery, OrderStatus, PaymentStatus, PaymentType, ProductQuery, ProductUpdate,
    StockUpdate,
};
use patchbay::{CallError, ConnectOptions, Connection, Credentials, Host, Settings};
use patchbay_tests::shopify::{
    ACCESS_TOKEN, CLIENT_SECRET, LOCATION, MockShopify, delivery_headers, order, product, signature,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::host;

async fn shopify(mock: &MockShopify, token: &str) -> (Host, Connection) {
    let host = host().await;
    let connection = host
        .connect_with(
            "shop/shopify",
            Credentials::from([("access_token", token), ("client_secret", CLIENT_SECRET)]),
            Settings::from([("store_url".to_string(), mock.url())]),
            ConnectOptions {
                signing_fields: vec!["client_secret".into()],
                ..ConnectOptions::default()
            },
        )
        .unwrap();
    (host, connection)
}

fn validation<T: std::fmt::Debug>(result: Result<T, CallError>) -> String {
    match result {
        Err(CallError::Connector(ConnectorError::Validation(message))) => message,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// A store on the Plus plan's budget (fast enough for paging tests).
async fn store() -> MockShopify {
    let mock = MockShopify::start(2000.0, 1000.0).await.unwrap();
    for n in 1..=11 {
        // One order with 45 line items: three pages of them.
        let lines = if n == 4 { 45 } else { 2 };
        mock.add_order(order(1000 + n, &format!("2026-11-{:02}T10:00:00Z", 10 + n), lines));
    }
    mock.add_product(product(700, "Wool sweater", "2026-11-20T10:00:00Z", 25));
    mock.add_product(product(701, "Scarf", "2026-11-21T10:00:00Z", 1));
    mock
}

#[tokio::test]
async fn orders_and_products_are_paged_to_the_end_and_mapped() {
    let mock = store().await;
    let (_host, conn) = shopify(&mock, ACCESS_TOKEN).await;
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    assert_eq!(test.message, "Connected to Acme Knits");
    let (_host2, wrong) = shopify(&mock, "shpat_wrong").await;
    let refused = wrong.test().await.unwrap();
    assert!(
        !refused.success && refused.message.contains("Invalid API key"),
        "{refused:?}"
    );

    let shop = conn.shop().unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = shop
            .get_orders(&OrderQuery {
                since: None,
                cursor: cursor.clone(),
                limit: Some(4),
            })
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.items);
        if !page.has_more {
            assert!(page.next_cursor.is_none());
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(pages, 3, "4 + 4 + 3");
    let ids: Vec<&str> = seen.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(
        ids,
        (1001..=1011).map(|n| n.to_string()).collect::<Vec<_>>(),
        "oldest update first, each once"
    );

    let rich = &seen[3];
    assert_eq!(rich.order_id, "1004");
    assert_eq!(rich.external_id.as_deref(), Some("#1004"));
    assert_eq!(rich.items.len(), 45, "line items followed past their first page");
    assert_eq!(rich.status, OrderStatus::Processing);
    assert_eq!(rich.raw_status, "PAID/UNFULFILLED");
    assert_eq!(rich.payment_status, PaymentStatus::Paid);
    assert_eq!(rich.payment_type, Some(PaymentType::OnlineCard));
    assert_eq!((rich.total.as_str(), rich.currency.as_str()), ("104.85", "EUR"));
    assert_eq!(rich.created_at.as_deref(), Some("2026-11-01T09:00:00Z"));
    assert_eq!(rich.customer_note, "Leave at the door");
    assert!(rich.external_url.ends_with("/admin/orders/1004"));
    let item = &rich.items[0];
    assert_eq!(
        (item.item_id.as_str(), item.product_id.as_str(), item.sku.as_str()),
        ("1004001", "700", "SW-001")
    );
    assert_eq!((item.quantity.as_str(), item.unit_price.as_str()), ("2", "49.95"));
    assert_eq!(item.tax_rate.as_deref(), Some("19"));
    let shipping = rich.shipping.as_ref().unwrap();
    assert_eq!(
        (shipping.name.as_str(), shipping.company_name.as_str()),
        ("Ana Popescu", "Atelier Ana")
    );
    let address = rich.shipping_address.as_ref().unwrap();
    assert_eq!(address.street, "Strada Lipscani 12\nBloc A");
    assert_eq!(
        (
            address.city.as_str(),
            address.postal_code.as_str(),
            address.country.as_str()
        ),
        ("Bucuresti", "030031", "RO")
    );
    let extra: Value = serde_json::from_str(&rich.extra).unwrap();
    assert_eq!(
        (extra["tax"].as_str(), extra["shipping"].as_str()),
        (Some("15.95"), Some("9.95"))
    );
    let raw: Value = serde_json::from_str(&rich.provider_meta.raw_payload).unwrap();
    assert_eq!(raw["id"], "gid://shopify/Order/1004");

    // `since` becomes Shopify's search query.
    let recent = shop
        .get_orders(&OrderQuery {
            since: Some("2026-11-19T00:00:00Z".into()),
            cursor: None,
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(
        recent.items.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(),
        ["1009", "1010", "1011"]
    );
    assert!(
        mock.bodies()
            .iter()
            .any(|b| b["variables"]["query"] == "updated_at:>'2026-11-19T00:00:00Z'")
    );
    let one = shop.get_order("gid://shopify/Order/1002").await.unwrap();
    assert_eq!(one.order_id, "1002");
    let missing = shop.get_order("9999").await;
    assert!(
        matches!(missing, Err(CallError::Connector(ConnectorError::NotFound(_)))),
        "{missing:?}"
    );
    assert!(validation(shop.get_order("order-9").await).contains("not a Shopify Order id"));

    let products = shop
        .get_products(&ProductQuery {
            since: None,
            cursor: None,
            limit: Some(1),
        })
        .await
        .unwrap();
    assert!(products.has_more);
    let sweater = &products.items[0];
    assert_eq!(sweater.product_id, "700");
    assert_eq!(sweater.variants.len(), 25, "variants followed past their first page");
    assert_eq!(
        (sweater.price.as_deref(), sweater.currency.as_str()),
        (Some("21.00"), "EUR")
    );
    assert_eq!(sweater.description, "Soft & warm");
    assert_eq!(sweater.photos, ["https://cdn.shopify.com/700.jpg"]);
    assert_eq!(sweater.stock, Some(125));
    assert!(sweater.active);
    assert_eq!(sweater.variants[2].attributes[0].value, "3");
    let next = shop
        .get_products(&ProductQuery {
            since: None,
            cursor: products.next_cursor.clone(),
            limit: Some(1),
        })
        .await
        .unwrap();
    assert!(!next.has_more);
    assert_eq!(
        next.items[0].sku.as_deref(),
        Some("SCARF-1"),
        "a single variant's SKU is the product's"
    );

    // Shopify down: every operation is safe to repeat, so the host retries.
    mock.fail(503, 1);
    shop.get_order("1001").await.unwrap();
    // A frozen (unpaid) or locked store is not a passing failure.
    for status in [402, 423] {
        mock.fail(status, 1);
        let frozen = shop.get_order("1001").await;
        assert!(
            matches!(frozen, Err(CallError::Connector(ConnectorError::Permanent(ref f))) if f.message.contains(&status.to_string())),
            "{frozen:?}"
        );
    }
    mock.fail(503, 9);
    let down = shop.get_order("1001").await;
    assert!(
        matches!(down, Err(CallError::Connector(ConnectorError::Provider(_)))),
        "{down:?}"
    );
    mock.fail(503, 0);

    // Every request carried the token and an idempotency key (safe to repeat).
    for request in mock.requests() {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/admin/api/2026-10/graphql.json");
        assert!(
            request.header("idempotency-key").is_some()
                || request.header("x-shopify-access-token") != Some(ACCESS_TOKEN)
        );
    }
}

#[tokio::test]
async fn stock_prices_status_and_bulk_updates() {
    let mock = store().await;
    let (_host, conn) = shopify(&mock, ACCESS_TOKEN).await;
    let shop = conn.shop().unwrap();

    // Stock by variant, and by a product with one variant.
    shop.update_product_stock("gid://shopify/ProductVariant/70003", 17)
        .await
        .unwrap();
    assert_eq!(mock.stock("gid://shopify/InventoryItem/70003"), Some(17));
    shop.update_product_stock("701", 4).await.unwrap();
    assert_eq!(mock.stock("gid://shopify/InventoryItem/70101"), Some(4));
    let stock_bodies: Vec<Value> = mock
        .bodies()
        .into_iter()
        .filter(|b| b["operationName"] == "SetStock")
        .collect();
    assert!(
        stock_bodies
            .iter()
            .all(|b| b["variables"]["key"].as_str().is_some_and(|k| !k.is_empty()))
    );
    assert_eq!(
        stock_bodies[0]["variables"]["input"]["quantities"][0]["locationId"],
        LOCATION
    );
    let several = validation(shop.update_product_stock("700", 1).await);
    assert!(several.contains("several variants"), "{several}");

    // Prices in the store's currency.
    shop.update_product_price("gid://shopify/ProductVariant/70002", &"19.50".to_string(), "EUR")
        .await
        .unwrap();
    assert_eq!(mock.product(700)["variants"]["nodes"][1]["price"], "19.50");
    assert!(validation(shop.update_product_price("701", &"5".to_string(), "USD").await).contains("EUR"));
    assert!(validation(shop.update_product_price("701", &"-1".to_string(), "EUR").await).contains("not an amount"));
    let unknown = shop
        .update_product_price("gid://shopify/ProductVariant/1", &"5".to_string(), "EUR")
        .await;
    assert!(
        matches!(unknown, Err(CallError::Connector(ConnectorError::NotFound(_)))),
        "{unknown:?}"
    );

    // Order status where Shopify lets an app set it.
    let shipped = shop.update_order_status("1001", OrderStatus::Shipped).await.unwrap();
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert!(validation(shop.update_order_status("1001", OrderStatus::Shipped).await).contains("nothing left to ship"));
    let cancelled = shop.update_order_status("1002", OrderStatus::Cancelled).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let again = validation(shop.update_order_status("1002", OrderStatus::Cancelled).await);
    assert!(
        again.contains("orderId: Cannot cancel an order that is already cancelled"),
        "{again}"
    );
    shop.update_order_status("1003", OrderStatus::Processing).await.unwrap();
    assert!(validation(shop.update_order_status("1003", OrderStatus::Delivered).await).contains("does not let an app"));

    // Bulk: one price mutation per product, one stock mutation for all, and
    // each bad item reported by its index.
    let bulk = conn.bulk_update().unwrap();
    let update = |id: &str, price: Option<&str>, stock: Option<i64>| ProductUpdate {
        product_id: id.into(),
        sku: None,
        name: None,
        description: None,
        price: price.map(str::to_string),
        currency: Some("EUR".into()),
        stock,
        active: None,
        extra: None,
    };
    let before = mock.bodies().len();
    let result = bulk
        .update_products(&[
            update("gid://shopify/ProductVariant/70001", Some("30.00"), Some(9)),
            update("gid://shopify/ProductVariant/70004", Some("31.00"), None),
            update("gid://shopify/ProductVariant/404", Some("1.00"), None),
            ProductUpdate {
                name: Some("Scarf, long".into()),
                active: Some(false),
                ..update("701", None, Some(2))
            },
        ])
        .await
        .unwrap();
    assert_eq!((result.total, result.succeeded, result.failed), (4, 3, 1), "{result:?}");
    assert_eq!(result.errors[0].index, 2);
    let sent: Vec<String> = mock.bodies()[before..]
        .iter()
        .map(|b| b["operationName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent.iter().filter(|o| *o == "SetPrices").count(), 1, "{sent:?}");
    assert_eq!(sent.iter().filter(|o| *o == "SetStock").count(), 1, "{sent:?}");
    assert_eq!(mock.product(700)["variants"]["nodes"][3]["price"], "31.00");
    assert_eq!(mock.stock("gid://shopify/InventoryItem/70001"), Some(9));
    assert_eq!(mock.stock("gid://shopify/InventoryItem/70101"), Some(2));
    assert_eq!(
        (
            mock.product(701)["title"].as_str(),
            mock.product(701)["status"].as_str()
        ),
        (Some("Scarf, long"), Some("DRAFT"))
    );

    let stock = bulk
        .update_stock(&[
            StockUpdate {
                product_id: "gid://shopify/ProductVariant/70010".into(),
                quantity: 0,
            },
            StockUpdate {
                product_id: "700".into(),
                quantity: 1,
            },
        ])
        .await
        .unwrap();
    assert_eq!((stock.succeeded, stock.failed), (1, 1));
    assert!(stock.errors[0].message.contains("several variants"));
    assert_eq!(mock.stock("gid://shopify/InventoryItem/70010"), Some(0));
}

#[tokio::test]
async fn the_query_cost_budget_is_paced_by_the_host() {
    // The Standard plan: 1000 points restored at 100 a second; an orders
    // page of 8 requests 922.
    let mock = MockShopify::start(1000.0, 100.0).await.unwrap();
    for n in 1..=3 {
        mock.add_order(order(2000 + n, "2026-11-20T10:00:00Z", 1));
    }
    let (_host, conn) = shopify(&mock, ACCESS_TOKEN).await;
    let shop = conn.shop().unwrap();
    mock.drain();
    // Nothing in hand: Shopify answers 200 THROTTLED; the host waits for
    // the points the query requested and repeats it, once.
    let query = OrderQuery {
        since: None,
        cursor: None,
        limit: Some(2),
    };
    let page = shop.get_orders(&query).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(mock.throttled(), 1, "one refusal, then paced");
    // Paced from there: the host keeps each query's cost in hand before the
    // next one, so none is refused.
    for _ in 0..3 {
        shop.get_orders(&query).await.unwrap();
    }
    assert_eq!(
        mock.throttled(),
        1,
        "the host paced by extensions.cost, no more refusals"
    );
}

#[tokio::test]
async fn webhooks_verify_as_shopify_signs_and_register_per_topic() {
    let mock = store().await;
    let (_host, conn) = shopify(&mock, ACCESS_TOKEN).await;
    let hooks = conn.webhooks().unwrap();
    let body = serde_json::to_vec(&json!({"id": 820982911946154508_u64, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508", "updated_at": "2026-11-30T10:00:00Z"})).unwrap();
    let headers = |pairs: Vec<(String, String)>| {
        pairs
            .into_iter()
            .map(|(name, value)| Header { name, value })
            .collect::<Vec<_>>()
    };
    let signed = headers(delivery_headers("orders/create", "b54557e4-bdd9", &body, CLIENT_SECRET));
    hooks.verify(&signed, &body).await.unwrap();
    let refused = |r: Result<(), CallError>| {
        assert!(
            matches!(r, Err(CallError::Connector(ConnectorError::WebhookVerification(_)))),
            "{r:?}"
        )
    };
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    refused(hooks.verify(&signed, &tampered).await);
    refused(
        hooks
            .verify(
                &headers(delivery_headers("orders/create", "x", &body, "shpss_other")),
                &body,
            )
            .await,
    );
    refused(hooks.verify(&[], &body).await);
    let events = hooks.parse(&signed, &body).await.unwrap();
    assert_eq!(events[0].event_type, "order.created");
    assert_eq!(events[0].provider_event_type, "orders/create");
    assert_eq!(events[0].idempotency_key, "b54557e4-bdd9");
    assert_eq!(events[0].event_id, "evt-b54557e4-bdd9");
    assert!(events[0].payload_json.contains("820982911946154508"));
    assert_eq!(signature(CLIENT_SECRET, b"").len(), 44, "base64 of 32 bytes");

    let registration = hooks
        .register(
            "https://patchbay.example.com/v1/webhooks/whk_x",
            &["orders/create".into(), "products/update".into()],
        )
        .await
        .unwrap();
    assert_eq!(registration.events, ["orders/create", "products/update"]);
    assert_eq!(mock.subscriptions().len(), 2);
    assert_eq!(mock.subscriptions()[0]["topic"], "ORDERS_CREATE");
    let listed = hooks.list_registrations().await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.events[0].as_str()).collect::<Vec<_>>(),
        ["orders/create", "products/update"]
    );
    let twice = hooks
        .register(
            "https://patchbay.example.com/v1/webhooks/whk_x",
            &["orders/create".into()],
        )
        .await;
    assert!(validation(twice).contains("already been taken"));
    hooks.unregister(&registration.id).await.unwrap();
    assert!(mock.subscriptions().is_empty());
    assert!(
        validation(
            hooks
                .register("https://x.example", &["orders/create; drop".into()])
                .await
        )
        .contains("topic")
    );
}

/// A service with the Shopify plugin, and a tenant's API key.
async fn service() -> (crate::serve::Service, String) {
    let service = crate::serve::Service::start_with(patchbay_serve::Settings::default(), &["shop-shopify"]).await;
    let key = service.key("acme", false).await;
    (service, key)
}

/// A Shopify connection through the service whose client secret is a
/// signing field; what the service answered.
async fn connect(service: &crate::serve::Service, key: &str, credentials: Value, settings: Value) -> Value {
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            key,
            Some(json!({
                "provider": "shop/shopify",
                "credentials": credentials,
                "settings": settings,
                "signing_fields": ["client_secret"],
            })),
        )
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    created.1
}

/// Deliveries through `patchbay serve`: registered at Shopify for the
/// connection's ingress URL, delivered by the mock as Shopify delivers,
/// verified and stored once per `X-Shopify-Webhook-Id`; a tampered one is
/// refused.
#[tokio::test]
async fn deliveries_reach_the_service_once_per_webhook_id() {
    let mock = store().await;
    let (service, acme) = service().await;
    let created = connect(
        &service,
        &acme,
        json!({"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET}),
        json!({"store_url": mock.url()}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let registered = service
        .send(
            Method::POST,
            &format!("/v1/connections/{id}/webhook/registrations"),
            &acme,
            Some(json!({"events": ["orders/create"]})),
        )
        .await;
    assert_eq!(registered.0.as_u16(), 201, "{}", registered.1);
    let payload = json!({"id": 1001, "updated_at": "2026-11-30T10:00:00Z"});
    assert_eq!(mock.fire("orders/create", &payload, "wh-1").await, [200]);
    assert_eq!(
        mock.fire("orders/create", &payload, "wh-1").await,
        [200],
        "Shopify's retry: acknowledged"
    );
    let ingress = mock.subscriptions()[0]["uri"].as_str().unwrap().to_string();
    let body = serde_json::to_vec(&payload).unwrap();
    let mut tampered = service.http.post(&ingress).body(b"{\"id\": 666}".to_vec());
    for (name, value) in delivery_headers("orders/create", "wh-2", &body, CLIENT_SECRET) {
        tampered = tampered.header(name, value);
    }
    assert_eq!(tampered.send().await.unwrap().status().as_u16(), 401);
    let events = service
        .send(Method::GET, "/v1/events?after=0&wait=5", &acme, None)
        .await;
    assert_eq!(events.0.as_u16(), 200, "{}", events.1);
    let list = events.1["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "one event per webhook id: {}", events.1);
    assert_eq!(list[0]["message"]["type"], "order.created", "{}", events.1);
}

/// The merchant approves the app: where the store sends the browser back.
async fn consent(service: &crate::serve::Service, key: &str, id: &str, store: &str) -> String {
    use patchbay_tests::shopify::CLIENT_ID;
    let start = service
        .send(Method::POST, &format!("/v1/connections/{id}/authorize"), key, None)
        .await;
    assert_eq!(start.0.as_u16(), 200, "{}", start.1);
    let url = start.1["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{store}/admin/oauth/authorize?")), "{url}");
    assert!(url.contains(&format!("client_id={CLIENT_ID}")), "{url}");
    let approved = service.http.get(&url).send().await.unwrap();
    assert_eq!(approved.status().as_u16(), 302);
    approved.headers()["location"].to_str().unwrap().to_string()
}

/// Installing the app through OAuth, through `patchbay serve`: the host runs
/// the authorization code flow on the store's admin; Shopify's signed
/// callback is checked by the plugin before the code is exchanged (an
/// altered one is refused and exchanges nothing); the token the host keeps
/// goes in `X-Shopify-Access-Token`, not `Authorization`.
#[tokio::test]
async fn the_app_installs_through_oauth_with_a_signed_callback() {
    use patchbay_tests::shopify::{CLIENT_ID, OAUTH_TOKEN};
    let mock = store().await;
    let (service, acme) = service().await;
    let created = connect(
        &service,
        &acme,
        json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        json!({"store_url": mock.url(), "auth": "oauth"}),
    )
    .await;
    assert_eq!(created["authorized"], false, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    // An altered callback (another store named): refused, nothing exchanged.
    let back = consent(&service, &acme, &id, &mock.url()).await;
    let forged = back.replace("shop=127.0.0.1", "shop=evil.myshopify.com%3A1");
    let page = service.http.get(&forged).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 400);
    assert!(page.text().await.unwrap().contains("hmac does not match"));
    let info = service
        .send(Method::GET, &format!("/v1/connections/{id}"), &acme, None)
        .await;
    assert_eq!(info.1["authorized"], false, "{}", info.1);

    // Signed with the app's secret, but for another store: refused too.
    let back = consent(&service, &acme, &id, &mock.url()).await;
    let (base, query) = back.split_once('?').unwrap();
    let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "hmac")
        .map(|(k, v)| {
            if k == "shop" {
                (k, "other-store.myshopify.com".to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    params.push((
        "hmac".into(),
        patchbay_tests::shopify::callback_hmac(CLIENT_SECRET, &params),
    ));
    let other = format!(
        "{base}?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish()
    );
    let page = service.http.get(&other).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 400);
    let text = page.text().await.unwrap();
    assert!(
        text.contains("is for the store") && text.contains("other-store.myshopify.com"),
        "{text}"
    );

    // The real one.
    let back = consent(&service, &acme, &id, &mock.url()).await;
    let page = service.http.get(&back).send().await.unwrap();
    let status = page.status().as_u16();
    let text = page.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("Connection authorized"));
    let info = service
        .send(Method::GET, &format!("/v1/connections/{id}"), &acme, None)
        .await;
    assert_eq!(info.1["authorized"], true, "{}", info.1);

    let orders = service
        .send(
            Method::POST,
            &format!("/v1/connections/{id}/call/shop.get-orders"),
            &acme,
            Some(json!({"query": {"limit": 2}})),
        )
        .await;
    assert_eq!(orders.0.as_u16(), 200, "{}", orders.1);
    let last = mock.requests().into_iter().last().unwrap();
    assert_eq!(last.header("x-shopify-access-token"), Some(OAUTH_TOKEN));
    assert_eq!(
        last.header("authorization"),
        None,
        "Shopify's header, not a bearer token"
    );
}
