//! Stripe's webhooks: `Stripe-Signature: t=…,v1=…` — hex HMAC-SHA256 of
//! `"{t}.{raw body}"` keyed by the endpoint's signing secret, one `v1` per
//! active secret (two while a secret is rolled) — refused outside a 300 s
//! tolerance; events `{"id": "evt_…", "type", "created", "data": {"object"}}`.
//! <https://docs.stripe.com/webhooks#verify-manually>

use patchbay_sdk::crypto::{self, HashAlgorithm};
use patchbay_sdk::prelude::*;
use serde::Deserialize;

use crate::api::{List, client};

/// The credential holding the endpoint's signing secret (a signing field).
const SECRET: &str = "webhook_secret";

/// How far a signature's timestamp may be from now, in seconds (Stripe's
/// libraries' default).
pub const TOLERANCE: i64 = 300;

/// Signatures read from one header at most.
const MAX_SIGNATURES: usize = 8;

/// Checks `Stripe-Signature` against the body at time `now`.
pub fn verify(headers: &[Header], body: &[u8], now: i64) -> Result<()> {
    let refuse = |why: &str| Err(Error::WebhookVerification(why.to_string()));
    let Some(header) = patchbay_sdk::http::header_value(headers, "stripe-signature") else {
        return refuse("no Stripe-Signature header");
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) if signatures.len() < MAX_SIGNATURES => signatures.extend(crypto::from_hex(v)),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return refuse("Stripe-Signature has no timestamp (t=)");
    };
    if signatures.is_empty() {
        return refuse("Stripe-Signature has no v1 signature");
    }
    if (now - timestamp).abs() > TOLERANCE {
        return Err(Error::WebhookVerification(format!(
            "Stripe-Signature's timestamp is {} s from now (at most {TOLERANCE})",
            (now - timestamp).abs()
        )));
    }
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    for signature in &signatures {
        if crypto::verify_hmac(HashAlgorithm::Sha256, SECRET, &signed, signature)? {
            return Ok(());
        }
    }
    refuse("no v1 signature of Stripe-Signature matches the body")
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// The normalized type of a Stripe event type.
fn event_type(kind: &str) -> &'static str {
    match kind {
        "payment_intent.succeeded" | "charge.succeeded" => "payment.completed",
        "payment_intent.payment_failed" | "charge.failed" => "payment.failed",
        "payment_intent.canceled" => "payment.cancelled",
        "payment_intent.amount_capturable_updated" => "payment.authorized",
        "payment_intent.requires_action" => "payment.requires_action",
        "payment_intent.created" | "payment_intent.processing" => "payment.pending",
        "charge.refunded" => "payment.refunded",
        "charge.refund.updated" | "refund.updated" => "refund.updated",
        "checkout.session.completed" => "checkout.completed",
        "checkout.session.expired" => "checkout.expired",
        "charge.dispute.created" => "payment.disputed",
        _ => "unknown",
    }
}

/// One event per delivery, de-duplicated on Stripe's event id (Stripe
/// sends an event again until it is acknowledged).
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>> {
    let event: Event =
        serde_json::from_slice(body).map_err(|e| Error::Validation(format!("the body is not a Stripe event: {e}")))?;
    if !event.id.starts_with("evt_") {
        return Err(Error::Validation(format!("{:?} is not a Stripe event id", event.id)));
    }
    Ok(vec![WebhookEvent {
        event_id: event.id.clone(),
        event_type: event_type(&event.kind).into(),
        provider_event_type: event.kind,
        payload_json: event.data.object.to_string(),
        idempotency_key: event.id,
        occurred_at: Some(patchbay_sdk::time::rfc3339(event.created)),
    }])
}

#[derive(Deserialize)]
struct Endpoint {
    id: String,
    url: String,
    #[serde(default)]
    enabled_events: Vec<String>,
    #[serde(default)]
    status: String,
}

/// The account's webhook endpoints.
pub fn list_registrations() -> Result<Vec<Registration>> {
    let mut registrations = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page: List<Endpoint> = client()?
            .get("webhook_endpoints")
            .query("limit", "100")
            .query_opt("starting_after", after.as_deref())
            .json()?;
        after = page.data.last().map(|e| e.id.clone());
        registrations.extend(page.data.into_iter().map(|e| Registration {
            id: e.id,
            url: e.url,
            events: e.enabled_events,
            active: e.status == "enabled",
        }));
        if !page.has_more || after.is_none() {
            return Ok(registrations);
        }
    }
}

/// Deletes a webhook endpoint.
pub fn unregister(id: &str) -> Result<()> {
    if !id.starts_with("we_") || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Validation(format!(
            "{id:?} is not a Stripe webhook endpoint id (we_...)"
        )));
    }
    client()?.delete(&format!("webhook_endpoints/{id}")).send().map(|_| ())
}

/// Why `register` is not offered: Stripe shows an endpoint's signing secret
/// only in the answer that creates it, and a plugin must not read secrets.
pub const REGISTER_UNSUPPORTED: &str = "Stripe returns a new endpoint's signing secret only in the answer that \
     creates it, which a plugin must not read: add the endpoint in the Stripe Dashboard (Developers → Webhooks) \
     with the connection's webhook URL, then set its signing secret as the connection's webhook_secret";
