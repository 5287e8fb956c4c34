//! The WooCommerce plugin through the host against the mock shop.

use patchbay::CallError;
use patchbay::types::{ConnectorError, OrderQuery, OrderStatus, PaymentStatus, PaymentType, ProductQuery};
use patchbay_tests::woocommerce::{MockShop, ShopConfig, order};
use serde_json::Value;

use crate::support::{builder, host, plugins_dir, shop_credentials, shop_settings, woo};

fn query(cursor: Option<String>) -> OrderQuery {
    OrderQuery {
        since: None,
        cursor,
        limit: Some(100),
    }
}

#[tokio::test]
async fn pages_through_250_orders_complete_and_mapped_field_by_field() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let conn = woo(&host, &shop);
    let shop_port = conn.shop().unwrap();

    let mut orders = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = shop_port
            .get_orders(&query(cursor.clone()))
            .await
            .expect("a page of orders");
        pages += 1;
        assert_eq!(page.total, Some(250));
        assert_eq!(page.has_more, page.next_cursor.is_some());
        orders.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(orders.len(), 250);
    let mut ids: Vec<u32> = orders.iter().map(|o| o.order_id.parse().unwrap()).collect();
    assert_eq!(ids[0], 250, "newest first");
    ids.sort_unstable();
    assert_eq!(ids, (1..=250).collect::<Vec<_>>(), "every order exactly once");

    for normalized in &orders {
        let id: u32 = normalized.order_id.parse().unwrap();
        let raw = order(id);
        assert_eq!(normalized.raw_status, raw["status"]);
        assert_eq!(normalized.currency, "RON");
        assert_eq!(normalized.total, raw["total"]);
        assert_eq!(
            normalized.created_at.as_deref(),
            Some(format!("{}Z", raw["date_created_gmt"].as_str().unwrap()).as_str())
        );
        assert_eq!(normalized.items.len(), raw["line_items"].as_array().unwrap().len());
        for (item, raw_item) in normalized.items.iter().zip(raw["line_items"].as_array().unwrap()) {
            assert_eq!(item.item_id, raw_item["id"].to_string());
            assert_eq!(item.product_id, raw_item["product_id"].to_string());
            assert_eq!(item.sku, raw_item["sku"]);
            assert_eq!(item.quantity, raw_item["quantity"].to_string());
            assert_eq!(item.unit_price, raw_item["price"].to_string());
        }
        let billing = normalized.billing.as_ref().expect("billing");
        assert_eq!(billing.name, format!("Ana Customer{id}"));
        assert_eq!(billing.email, format!("customer{id}@example.com"));
        let shipping_address = normalized.shipping_address.as_ref().expect("shipping address");
        assert_eq!(shipping_address.street, format!("Strada Lunga {id}\nAp. 3"));
        assert_eq!(shipping_address.country, "RO");
        assert_eq!(normalized.provider_meta.provider, "woocommerce");
        assert_eq!(normalized.provider_meta.raw_id, id.to_string());
        assert_eq!(
            serde_json::from_str::<Value>(&normalized.provider_meta.raw_payload).unwrap(),
            raw,
            "raw payload kept verbatim"
        );
        let expected_status = match raw["status"].as_str().unwrap() {
            "processing" => OrderStatus::Processing,
            "completed" => OrderStatus::Delivered,
            "cancelled" | "failed" => OrderStatus::Cancelled,
            "refunded" => OrderStatus::Refunded,
            _ => OrderStatus::Pending,
        };
        assert_eq!(normalized.status, expected_status, "order {id}");
        let expected_payment = match raw["payment_method"].as_str().unwrap() {
            "cod" => PaymentType::CashOnDelivery,
            "bacs" => PaymentType::BankTransfer,
            "stripe" => PaymentType::OnlineCard,
            _ => PaymentType::PaymentOrder,
        };
        assert_eq!(normalized.payment_type, Some(expected_payment));
        let paid = !raw["date_paid_gmt"].is_null();
        match raw["status"].as_str().unwrap() {
            "refunded" => assert_eq!(normalized.payment_status, PaymentStatus::Refunded),
            "failed" => assert_eq!(normalized.payment_status, PaymentStatus::Failed),
            _ if paid => assert_eq!(normalized.payment_status, PaymentStatus::Paid),
            _ => assert_eq!(normalized.payment_status, PaymentStatus::Unpaid),
        }
    }

    let requests = shop.log.all();
    assert_eq!(requests.len(), 3, "one request per page");
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(request.path, "/wp-json/wc/v3/orders");
        assert!(request.query.contains(&format!("page={}", i + 1)), "{}", request.query);
        assert!(request.query.contains("per_page=100"), "{}", request.query);
        assert!(
            request.header("authorization").is_some_and(|v| v.starts_with("Basic ")),
            "basic auth by credential name"
        );
    }
}

#[tokio::test]
async fn since_becomes_after_and_filters() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let page = woo(&host, &shop)
        .shop()
        .unwrap()
        .get_orders(&OrderQuery {
            since: Some("2026-01-10T00:00:00Z".into()),
            cursor: None,
            limit: Some(100),
        })
        .await
        .unwrap();
    // Orders are one hour apart from 2026-01-01T00:00, ids 1..=250: after day 9 come ids 217..=250.
    assert_eq!(page.total, Some(34));
    assert!(page.items.iter().all(|o| o.order_id.parse::<u32>().unwrap() > 216));
    let query = &shop.log.all()[0].query;
    assert!(
        query.contains("after=2026-01-10T00%3A00%3A00Z") && query.contains("dates_are_gmt=true"),
        "{query}"
    );
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_with_the_providers_message() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let creds = patchbay::Credentials::from([("consumer_key", "ck_test"), ("consumer_secret", "wrong")]);
    let conn = host.connect("shop/woocommerce", creds, shop_settings(&shop)).unwrap();
    let error = conn.shop().unwrap().get_orders(&query(None)).await.unwrap_err();
    match error {
        CallError::Connector(ConnectorError::Auth(message)) => {
            assert!(message.contains("Consumer secret is invalid."), "{message}");
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    let test = conn.test().await.expect("test-connection reports, not fails");
    assert!(!test.success);
    assert!(test.message.contains("refused the credentials"), "{}", test.message);
}

#[tokio::test]
async fn a_host_outside_the_allowlist_is_denied_and_nothing_is_sent() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = builder()
        .plugins_dir(plugins_dir())
        .restrict_hosts("shop/woocommerce", ["https://shop.example.com"])
        .build()
        .await
        .unwrap();
    let conn = host
        .connect("shop/woocommerce", shop_credentials(&shop), shop_settings(&shop))
        .unwrap();
    let error = conn.shop().unwrap().get_orders(&query(None)).await.unwrap_err();
    match &error {
        CallError::Connector(ConnectorError::Permanent(failure)) => {
            assert!(
                failure.message.starts_with("denied by host policy:"),
                "{}",
                failure.message
            );
            assert!(
                failure.message.contains("not among the hosts the operator allows"),
                "{}",
                failure.message
            );
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(shop.log.count(), 0, "no request reached the server");
}

#[tokio::test]
async fn single_orders_and_not_found() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let conn = woo(&host, &shop);
    let port = conn.shop().unwrap();
    let found = port.get_order("42").await.unwrap();
    assert_eq!(found.order_id, "42");
    assert_eq!(found.customer_note, "");
    match port.get_order("9999").await.unwrap_err() {
        CallError::Connector(ConnectorError::NotFound(message)) => {
            assert!(message.contains("Invalid ID."), "{message}")
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    match port.get_order("abc").await.unwrap_err() {
        CallError::Connector(ConnectorError::Validation(message)) => {
            assert!(message.contains("positive integer"), "{message}")
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(shop.log.count(), 2, "an invalid id never reaches the API");
}

#[tokio::test]
async fn updates_reach_the_shop() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let conn = woo(&host, &shop);
    let port = conn.shop().unwrap();

    port.update_product_stock("7", 123).await.unwrap();
    assert_eq!(shop.product(7).unwrap()["stock_quantity"], 123);

    port.update_product_price("7", &"99.50".to_string(), "RON")
        .await
        .unwrap();
    assert_eq!(shop.product(7).unwrap()["regular_price"], "99.50");
    match port
        .update_product_price("7", &"10.00".to_string(), "EUR")
        .await
        .unwrap_err()
    {
        CallError::Connector(ConnectorError::Validation(message)) => {
            assert!(message.contains("prices in RON"), "{message}")
        }
        other => panic!("expected a validation error, got {other:?}"),
    }

    let updated = port.update_order_status("5", OrderStatus::Shipped).await.unwrap();
    assert_eq!(updated.raw_status, "completed");
    assert_eq!(shop.order(5).unwrap()["status"], "completed");
    assert!(matches!(
        port.update_order_status("5", OrderStatus::Returned).await,
        Err(CallError::Connector(ConnectorError::Validation(_)))
    ));
}

#[tokio::test]
async fn products_use_the_store_currency_cached_in_kv() {
    let shop = MockShop::start(
        ShopConfig {
            products: 130,
            ..ShopConfig::default()
        },
        0,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = builder()
        .plugins_dir(plugins_dir())
        .database(dir.path().join("state.db"))
        .build()
        .await
        .unwrap();
    let conn = woo(&host, &shop);
    let first = conn
        .shop()
        .unwrap()
        .get_products(&ProductQuery {
            since: None,
            cursor: None,
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 100);
    assert_eq!(first.total, Some(130));
    assert_eq!(first.next_cursor.as_deref(), Some("2"));
    let p3 = first.items.iter().find(|p| p.product_id == "3").unwrap();
    assert_eq!(p3.currency, "RON");
    assert_eq!(p3.price.as_deref(), Some("17.50"));
    assert_eq!(p3.stock, Some(9));
    assert_eq!(p3.sku.as_deref(), Some("SKU-003"));
    assert_eq!(p3.categories, vec!["Mugs".to_string()]);
    assert!(
        first
            .items
            .iter()
            .find(|p| p.product_id == "10")
            .is_some_and(|p| !p.active),
        "drafts are inactive"
    );

    let second = conn
        .shop()
        .unwrap()
        .get_products(&ProductQuery {
            since: None,
            cursor: first.next_cursor,
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(second.items.len(), 30);
    assert!(!second.has_more);
    let currency_requests = shop
        .log
        .all()
        .iter()
        .filter(|r| r.path.ends_with("woocommerce_currency"))
        .count();
    assert_eq!(currency_requests, 1, "the currency is read once, then served from kv");

    // A new host on the same database still has it.
    drop(host);
    let host = builder()
        .plugins_dir(plugins_dir())
        .database(dir.path().join("state.db"))
        .build()
        .await
        .unwrap();
    woo(&host, &shop)
        .shop()
        .unwrap()
        .get_products(&ProductQuery {
            since: None,
            cursor: None,
            limit: Some(1),
        })
        .await
        .unwrap();
    let currency_requests = shop
        .log
        .all()
        .iter()
        .filter(|r| r.path.ends_with("woocommerce_currency"))
        .count();
    assert_eq!(currency_requests, 1, "kv lives in SQLite");
}

#[tokio::test]
async fn test_connection_reports_the_shop() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let test = woo(&host, &shop).test().await.unwrap();
    assert!(test.success, "{}", test.message);
    let details: Value = serde_json::from_str(&test.details).unwrap();
    assert_eq!(details["products"], 40);
}

#[tokio::test]
async fn connect_checks_credentials_and_settings_against_the_manifest() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let missing = host
        .connect(
            "shop/woocommerce",
            patchbay::Credentials::from([("consumer_key", "ck")]),
            shop_settings(&shop),
        )
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("\"consumer_secret\" (Consumer secret) is required"),
        "{missing}"
    );
    let typo = host
        .connect(
            "shop/woocommerce",
            shop_credentials(&shop).with("consumer_secrte", "x"),
            shop_settings(&shop),
        )
        .unwrap_err();
    assert!(
        typo.to_string()
            .contains("unknown credential field \"consumer_secrte\""),
        "{typo}"
    );
    let bad_url = host
        .connect(
            "shop/woocommerce",
            shop_credentials(&shop),
            patchbay::Settings::from([("domain".into(), "not a url".into())]),
        )
        .unwrap_err();
    assert!(bad_url.to_string().contains("must be a URL"), "{bad_url}");
    let unknown = host
        .connect("shop/nope", shop_credentials(&shop), shop_settings(&shop))
        .unwrap_err();
    assert!(
        unknown.to_string().contains("shop/woocommerce"),
        "lists what is loaded: {unknown}"
    );
}
