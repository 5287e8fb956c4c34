//! The JSON bridge through a real plugin.

use patchbay::CallError;
use patchbay_tests::woocommerce::{MockShop, ShopConfig};
use serde_json::json;

use crate::support::{host, woo};

#[tokio::test]
async fn get_orders_as_json_uses_wit_names() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let page = woo(&host, &shop)
        .call_json("shop.get-orders", &json!({ "query": { "limit": 2 } }))
        .await
        .unwrap();
    assert_eq!(page["total"], 250);
    assert_eq!(page["has-more"], true);
    assert_eq!(page["next-cursor"], "2");
    let first = &page["items"][0];
    assert_eq!(first["order-id"], "250");
    assert!(first["status"].is_string(), "enums are case names: {}", first["status"]);
    assert_eq!(first["provider-meta"]["provider"], "woocommerce");
    assert!(first["external-id"].is_null(), "options are null when absent");
}

#[tokio::test]
async fn the_written_output_is_the_json_value_with_fields_in_wit_order() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let conn = woo(&host, &shop);
    let input = json!({ "query": { "limit": 3 } });
    let value = conn.call_json("shop.get-orders", &input).await.unwrap();
    let text = serde_json::to_string(&conn.call_json_output("shop.get-orders", &input).await.unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    // Records are written in their WIT order (`order-page`: items, next-cursor, ...;
    // `order`: order-id, external-id, status, ...), not sorted by name.
    let at = |key: &str| {
        text.find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} in {text}"))
    };
    assert!(at("items") < at("next-cursor"));
    assert!(at("order-id") < at("external-id") && at("external-id") < at("status"));
}

#[tokio::test]
async fn input_errors_name_the_offending_field() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let conn = woo(&host, &shop);
    let cases = [
        (
            json!({ "query": { "limit": "many" } }),
            "query.limit: expected an integer that fits u32, found \"many\"",
        ),
        (json!({ "query": { "limt": 5 } }), "query.limt: is not a field here"),
        (
            json!({ "query": { "since": 42 } }),
            "query.since: expected a string, found 42",
        ),
        (
            json!({ "querry": {} }),
            "querry: is not a parameter; the parameters are query",
        ),
        (json!({}), "query: is required"),
        (json!([1]), "input: expected an object of arguments (query)"),
    ];
    for (input, expected) in cases {
        match conn.call_json("shop.get-orders", &input).await {
            Err(CallError::Input(error)) => assert!(error.to_string().contains(expected), "{input}: {error}"),
            other => panic!("{input}: expected an input error, got {other:?}"),
        }
    }
    match conn
        .call_json(
            "shop.update-order-status",
            &json!({ "order-id": "1", "status": "lost" }),
        )
        .await
    {
        Err(CallError::Input(error)) => assert!(
            error.to_string().contains("status: \"lost\" is not one of \"pending\""),
            "{error}"
        ),
        other => panic!("expected an input error, got {other:?}"),
    }
    assert_eq!(shop.log.count(), 0, "bad input never reaches the plugin");
}

#[tokio::test]
async fn connector_errors_come_back_typed_and_unknown_targets_are_refused() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = host().await;
    let conn = woo(&host, &shop);
    match conn.call_json("shop.get-order", &json!({ "order-id": "777" })).await {
        Err(CallError::Connector(patchbay::types::ConnectorError::NotFound(m))) => {
            assert!(m.contains("Invalid ID."), "{m}")
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    assert!(matches!(
        conn.call_json("courier.get-tracking", &json!({})).await,
        Err(CallError::Unsupported(_))
    ));
    assert!(matches!(
        conn.call_json("shop.explode", &json!({})).await,
        Err(CallError::Unsupported(_))
    ));
    assert!(matches!(
        conn.call_json("get-orders", &json!({})).await,
        Err(CallError::Unsupported(_))
    ));
    let manifest = conn.call_json("connector.manifest", &json!({})).await.unwrap();
    assert_eq!(manifest["name"], "woocommerce");
    assert_eq!(manifest["family"], "shop");
    assert_eq!(manifest["allowed-hosts"], json!(["{{setting.domain}}"]));
}
