//! WooCommerce webhooks: deliveries signed with `X-WC-Webhook-Signature`
//! (base64 of HMAC-SHA256 of the raw body, keyed by the webhook's secret),
//! topics `resource.event` (`order.created`, `product.updated`, ...), and
//! subscriptions through `/wc/v3/webhooks`, one per topic.
//!
//! The secret is the connection's `webhook_secret` credential: the host
//! checks signatures with it (`crypto`, when the operator made it a signing
//! field) and fills it into the subscription (`{{secret.webhook_secret}}`,
//! in the query, which WordPress reads like the body); the plugin never
//! sees it.

use patchbay_sdk::crypto::{self, HashAlgorithm};
use patchbay_sdk::http::header_value as header;
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::api;

/// The credential holding the webhooks' secret.
const SECRET: &str = "webhook_secret";

/// Topics subscribed when none are named.
const DEFAULT_TOPICS: &[&str] = &[
    "order.created",
    "order.updated",
    "order.deleted",
    "product.created",
    "product.updated",
    "product.deleted",
];

/// WooCommerce's ping when a webhook is saved: `webhook_id=N`, unsigned.
fn is_ping(headers: &[Header], body: &[u8]) -> bool {
    header(headers, "x-wc-webhook-signature").is_none()
        && std::str::from_utf8(body)
            .ok()
            .and_then(|b| b.strip_prefix("webhook_id="))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit()))
}

/// WooCommerce pings a webhook's URL when the webhook is saved (unsigned,
/// carrying nothing but its id) and wants a 2xx back before it activates
/// the webhook: answered here, stored nowhere. Anything else is a delivery.
pub fn handshake(request: &InboundRequest) -> Result<HandshakeOutcome> {
    if request.method == "POST" && is_ping(&request.headers, &request.body) {
        return Ok(HandshakeOutcome::Answer(Reply {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        }));
    }
    Ok(HandshakeOutcome::Deliver)
}

/// Checks `X-WC-Webhook-Signature` (a ping never gets here: the handshake
/// answers it).
pub fn verify(headers: &[Header], body: &[u8]) -> Result<()> {
    crypto::verify_base64_hmac(headers, "X-WC-Webhook-Signature", HashAlgorithm::Sha256, SECRET, body)
}

/// The normalized type of a WooCommerce topic.
fn event_type(topic: &str) -> &'static str {
    match topic {
        "order.created" => "order.created",
        "order.updated" => "order.updated",
        "order.deleted" => "order.deleted",
        "order.restored" => "order.restored",
        "product.created" => "product.created",
        "product.updated" => "product.updated",
        "product.deleted" => "product.deleted",
        "product.restored" => "product.restored",
        "customer.created" => "customer.created",
        "customer.updated" => "customer.updated",
        "customer.deleted" => "customer.deleted",
        "coupon.created" => "coupon.created",
        "coupon.updated" => "coupon.updated",
        "coupon.deleted" => "coupon.deleted",
        _ => "unknown",
    }
}

/// The fields of a delivered resource that identify the change.
#[derive(Deserialize)]
struct Resource {
    id: Option<u64>,
    date_modified_gmt: Option<String>,
    date_created_gmt: Option<String>,
}

/// One event per delivery: the topic's normalized type, the resource as
/// the payload, de-duplicated on topic, resource id and modification time
/// (a delivery sent twice is one event; a second update is another).
pub fn parse(headers: &[Header], body: &[u8]) -> Result<Vec<WebhookEvent>> {
    let topic = header(headers, "x-wc-webhook-topic")
        .ok_or_else(|| Error::Validation("no X-WC-Webhook-Topic header".into()))?
        .trim()
        .to_string();
    let payload = std::str::from_utf8(body).map_err(|_| Error::Validation("the body is not UTF-8".into()))?;
    let resource: Resource = serde_json::from_str(payload)
        .map_err(|e| Error::Validation(format!("the body is not a WooCommerce resource: {e}")))?;
    let id = resource.id.map(|id| id.to_string()).unwrap_or_default();
    let when = resource.date_modified_gmt.or(resource.date_created_gmt);
    let occurred_at = when.as_deref().map(|t| {
        if t.ends_with('Z') {
            t.to_string()
        } else {
            format!("{t}Z")
        }
    });
    let delivery = header(headers, "x-wc-webhook-delivery-id").unwrap_or_default();
    let event_id = if delivery.is_empty() {
        format!("{topic}:{id}")
    } else {
        delivery.to_string()
    };
    Ok(vec![WebhookEvent {
        event_id,
        event_type: event_type(&topic).to_string(),
        provider_event_type: topic.clone(),
        payload_json: payload.to_string(),
        idempotency_key: format!("{topic}:{id}:{}", when.unwrap_or_default()),
        occurred_at,
    }])
}

/// A webhook as WooCommerce lists it.
#[derive(Deserialize)]
struct WcWebhook {
    id: u64,
    topic: String,
    delivery_url: String,
    status: String,
}

impl From<WcWebhook> for Registration {
    fn from(w: WcWebhook) -> Self {
        Registration {
            id: w.id.to_string(),
            url: w.delivery_url,
            events: vec![w.topic],
            active: w.status == "active",
        }
    }
}

/// Subscribes `url` to each topic (WooCommerce webhooks have one topic
/// each): the registration's id lists them, comma-separated.
pub fn register(url: String, events: Vec<String>) -> Result<Registration> {
    // Deliveries could not be verified without the secret: say so before
    // subscribing anything.
    if crypto::hmac(HashAlgorithm::Sha256, SECRET, b"").is_err() {
        return Err(Error::Config(format!(
            "set the `{SECRET}` credential, and make it a signing field of the connection, to receive webhooks"
        )));
    }
    let topics: Vec<String> = if events.is_empty() {
        DEFAULT_TOPICS.iter().map(|t| t.to_string()).collect()
    } else {
        events
    };
    let mut ids = Vec::new();
    for topic in &topics {
        let body = json!({
            "name": format!("Patchbay: {topic}"),
            "topic": topic,
            "delivery_url": url,
            "status": "active",
        });
        let created: WcWebhook = api::client()?
            .post("webhooks")
            .query("secret", format!("{{{{secret.{SECRET}}}}}"))
            .body_json(&body)?
            .json()?;
        ids.push(created.id.to_string());
    }
    Ok(Registration {
        id: ids.join(","),
        url,
        events: topics,
        active: true,
    })
}

/// The shop's webhooks.
pub fn list_registrations() -> Result<Vec<Registration>> {
    let hooks: Vec<WcWebhook> = api::client()?.get("webhooks").query("per_page", "100").json()?;
    Ok(hooks.into_iter().map(Registration::from).collect())
}

/// Removes the webhooks a registration id lists (`12` or `12,13`).
pub fn unregister(id: String) -> Result<()> {
    for one in id.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let number = crate::numeric_id(one, "webhook")?;
        api::client()?
            .delete(&format!("webhooks/{number}"))
            .query("force", "true")
            .send()?;
    }
    Ok(())
}
