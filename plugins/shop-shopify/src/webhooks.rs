//! Shopify webhooks: deliveries signed with `X-Shopify-Hmac-Sha256` (base64
//! of HMAC-SHA256 of the raw body, keyed by the app's client secret), the
//! topic in `X-Shopify-Topic` (`orders/create`), one id per delivery in
//! `X-Shopify-Webhook-Id` (the same on Shopify's retries: the idempotency
//! key) and one per event in `X-Shopify-Event-Id`; subscriptions through
//! `webhookSubscriptionCreate`, one per topic.
//! <https://shopify.dev/docs/apps/build/webhooks>

use patchbay_sdk::crypto::{self, HashAlgorithm};
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{graphql, user_errors};
use crate::queries;

/// The credential Shopify signs with: the app's client secret.
const SECRET: &str = "client_secret";

/// Topics subscribed when none are named.
const DEFAULT_TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "products/create",
    "products/update",
    "products/delete",
];

fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    patchbay_sdk::http::header_value(headers, name).map(str::trim)
}

/// Checks `X-Shopify-Hmac-Sha256` against the raw body.
pub fn verify(headers: &[Header], body: &[u8]) -> Result<()> {
    crypto::verify_base64_hmac(headers, "X-Shopify-Hmac-Sha256", HashAlgorithm::Sha256, SECRET, body)
}

/// The normalized type of a Shopify topic.
fn event_type(topic: &str) -> &'static str {
    match topic {
        "orders/create" => "order.created",
        "orders/updated" | "orders/edited" => "order.updated",
        "orders/paid" => "order.paid",
        "orders/cancelled" => "order.cancelled",
        "orders/fulfilled" | "orders/partially_fulfilled" => "order.fulfilled",
        "orders/delete" => "order.deleted",
        "products/create" => "product.created",
        "products/update" => "product.updated",
        "products/delete" => "product.deleted",
        "inventory_levels/update" => "stock.updated",
        "app/uninstalled" => "app.uninstalled",
        _ => "unknown",
    }
}

#[derive(Deserialize)]
struct Resource {
    updated_at: Option<String>,
}

/// One event per delivery: the topic's normalized type, the resource as the
/// payload, keyed by `X-Shopify-Webhook-Id` (Shopify repeats it when it
/// retries a delivery).
pub fn parse(headers: &[Header], body: &[u8]) -> Result<Vec<WebhookEvent>> {
    let topic = header(headers, "x-shopify-topic")
        .ok_or_else(|| Error::Validation("no X-Shopify-Topic header".into()))?
        .to_string();
    let webhook_id = header(headers, "x-shopify-webhook-id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::Validation("no X-Shopify-Webhook-Id header".into()))?
        .to_string();
    let payload = std::str::from_utf8(body).map_err(|_| Error::Validation("the body is not UTF-8".into()))?;
    let resource: Resource = serde_json::from_str(payload)
        .map_err(|e| Error::Validation(format!("the body is not a Shopify resource: {e}")))?;
    let occurred_at = header(headers, "x-shopify-triggered-at")
        .map(str::to_string)
        .or(resource.updated_at)
        .filter(|t| !t.is_empty());
    let event_id = header(headers, "x-shopify-event-id")
        .filter(|id| !id.is_empty())
        .map_or_else(|| webhook_id.clone(), str::to_string);
    Ok(vec![WebhookEvent {
        event_id,
        event_type: event_type(&topic).to_string(),
        provider_event_type: topic,
        payload_json: payload.to_string(),
        idempotency_key: webhook_id,
        occurred_at,
    }])
}

/// `orders/create` → `ORDERS_CREATE`, the GraphQL enum.
fn topic_enum(topic: &str) -> Result<String> {
    let topic = topic.trim();
    if topic.is_empty() || !topic.bytes().all(|b| b.is_ascii_lowercase() || b == b'/' || b == b'_') {
        return Err(Error::Validation(format!(
            "{topic:?} is not a Shopify webhook topic (e.g. orders/create)"
        )));
    }
    Ok(topic.replace('/', "_").to_ascii_uppercase())
}

/// `ORDERS_CREATE` → `orders/create`.
fn topic_name(topic: &str) -> String {
    let lower = topic.to_ascii_lowercase();
    match lower.split_once('_') {
        Some((resource, event)) => format!("{resource}/{event}"),
        None => lower,
    }
}

#[derive(Deserialize)]
struct Subscription {
    id: String,
    topic: String,
    #[serde(default)]
    uri: String,
}

/// Subscribes `url` to each topic; the registration's id lists the
/// subscriptions, comma-separated.
pub fn register(url: String, events: Vec<String>) -> Result<Registration> {
    // Deliveries could not be verified without the secret: say so first.
    if crypto::hmac(HashAlgorithm::Sha256, SECRET, b"").is_err() {
        return Err(Error::Config(format!(
            "set the `{SECRET}` credential (the app's API secret key), and make it a signing field of the \
             connection, to receive webhooks"
        )));
    }
    let topics: Vec<String> = if events.is_empty() {
        DEFAULT_TOPICS.iter().map(|t| t.to_string()).collect()
    } else {
        events
    };
    let enums = topics.iter().map(|t| topic_enum(t)).collect::<Result<Vec<_>>>()?;
    let mut ids = Vec::new();
    for topic in enums {
        let data: Value = graphql("Subscribe", queries::SUBSCRIBE, json!({ "topic": topic, "uri": url }))?;
        let payload = &data["webhookSubscriptionCreate"];
        user_errors(payload)?;
        let id = payload["webhookSubscription"]["id"]
            .as_str()
            .ok_or_else(|| Error::provider("Shopify created a subscription without an id"))?;
        ids.push(id.to_string());
    }
    Ok(Registration {
        id: ids.join(","),
        url,
        events: topics,
        active: true,
    })
}

/// The app's subscriptions.
pub fn list_registrations() -> Result<Vec<Registration>> {
    #[derive(Deserialize)]
    struct Data {
        #[serde(rename = "webhookSubscriptions")]
        subscriptions: Nodes,
    }
    #[derive(Deserialize)]
    struct Nodes {
        nodes: Vec<Subscription>,
    }
    let data: Data = graphql("Subscriptions", queries::SUBSCRIPTIONS, json!({}))?;
    Ok(data
        .subscriptions
        .nodes
        .into_iter()
        .map(|s| Registration {
            id: s.id,
            url: s.uri,
            events: vec![topic_name(&s.topic)],
            active: true,
        })
        .collect())
}

/// Removes the subscriptions a registration id lists.
pub fn unregister(id: String) -> Result<()> {
    for one in id.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !one.starts_with("gid://shopify/WebhookSubscription/") {
            return Err(Error::Validation(format!(
                "{one:?} is not a Shopify webhook subscription id"
            )));
        }
        let data: Value = graphql("Unsubscribe", queries::UNSUBSCRIBE, json!({ "id": one }))?;
        user_errors(&data["webhookSubscriptionDelete"])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_read_both_ways() {
        assert_eq!(topic_enum("orders/create").unwrap(), "ORDERS_CREATE");
        assert_eq!(
            topic_enum("inventory_levels/update").unwrap(),
            "INVENTORY_LEVELS_UPDATE"
        );
        assert!(topic_enum("orders/create; drop").is_err());
        assert_eq!(topic_name("ORDERS_CREATE"), "orders/create");
        assert_eq!(event_type("orders/paid"), "order.paid");
        assert_eq!(event_type("carts/create"), "unknown");
    }

    #[test]
    fn deliveries_parse_with_the_webhook_id_as_key() {
        let headers = vec![
            Header {
                name: "X-Shopify-Topic".into(),
                value: "orders/create".into(),
            },
            Header {
                name: "X-Shopify-Webhook-Id".into(),
                value: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".into(),
            },
            Header {
                name: "X-Shopify-Triggered-At".into(),
                value: "2026-11-30T10:00:00.123Z".into(),
            },
        ];
        let events = parse(
            &headers,
            br#"{"id": 820982911946154508, "updated_at": "2026-11-30T10:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(events[0].event_type, "order.created");
        assert_eq!(events[0].idempotency_key, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
        assert_eq!(
            events[0].event_id, events[0].idempotency_key,
            "no event id: the delivery's"
        );
        assert_eq!(events[0].occurred_at.as_deref(), Some("2026-11-30T10:00:00.123Z"));
        assert!(matches!(parse(&headers[..1], b"{}"), Err(Error::Validation(m)) if m.contains("Webhook-Id")));
        assert!(matches!(parse(&headers, b"not json"), Err(Error::Validation(_))));
    }
}
