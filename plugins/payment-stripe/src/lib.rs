//! Patchbay plugin for Stripe.
//!
//! Hosted checkout sessions (`POST /v1/checkout/sessions`), payment intents
//! (get, list with `starting_after`, capture), refunds, and Stripe's signed
//! webhooks. Bodies are form-encoded; every POST carries an
//! `Idempotency-Key`, so the host may retry it. The secret key is a secret
//! credential the host sends as a bearer token; this plugin only names it.
//! The manifest is `patchbay.toml`.

mod api;
/// Stripe's integers in the smallest unit and the contract's decimals.
pub mod money;
mod webhooks;

use patchbay_sdk::client::Raw;
use patchbay_sdk::prelude::*;
use patchbay_sdk::time::{rfc3339, unix};
use serde::Deserialize;
use serde_json::json;

use crate::api::{List, client};
use patchbay_sdk::http::idempotency_key;

/// The Stripe adapter.
pub struct Stripe;

/// Largest page Stripe serves.
const MAX_PAGE: u32 = 100;

/// What this adapter reads of a payment intent.
#[derive(Deserialize)]
pub struct Intent {
    id: String,
    amount: i64,
    #[serde(default)]
    amount_received: i64,
    currency: String,
    status: String,
    #[serde(default)]
    created: i64,
    #[serde(default)]
    latest_charge: Option<serde_json::Value>,
    #[serde(default)]
    payment_method_types: Vec<String>,
    #[serde(default)]
    last_payment_error: Option<serde_json::Value>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: serde_json::Value,
}

/// Stripe's intent status → the contract's state; a succeeded intent whose
/// charge was refunded in full or in part says so.
fn state(intent: &Intent) -> PaymentState {
    let refunded = intent
        .latest_charge
        .as_ref()
        .and_then(|c| c.get("amount_refunded"))
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    match intent.status.as_str() {
        "succeeded" if refunded > 0 && refunded >= intent.amount_received.max(intent.amount) => PaymentState::Refunded,
        "succeeded" if refunded > 0 => PaymentState::PartiallyRefunded,
        "succeeded" => PaymentState::Completed,
        "requires_capture" => PaymentState::Authorized,
        "requires_action" => PaymentState::RequiresAction,
        "canceled" => PaymentState::Cancelled,
        "requires_payment_method" if intent.last_payment_error.is_some() => PaymentState::Failed,
        _ => PaymentState::Pending,
    }
}

/// A payment intent as the contract's payment.
fn payment(intent: &Raw<Intent>) -> PaymentResult {
    let status = state(intent);
    let charge = intent.latest_charge.as_ref();
    let paid_at = charge
        .filter(|_| {
            matches!(
                status,
                PaymentState::Completed | PaymentState::Refunded | PaymentState::PartiallyRefunded
            )
        })
        .and_then(|c| c.get("created"))
        .and_then(serde_json::Value::as_i64)
        .map(rfc3339);
    let method = charge
        .and_then(|c| c.pointer("/payment_method_details/type"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .or_else(|| intent.payment_method_types.first().cloned());
    PaymentResult {
        payment_id: intent.id.clone(),
        status,
        amount: money::to_decimal(intent.amount, &intent.currency),
        currency: intent.currency.to_uppercase(),
        method,
        paid_at,
        extra: json!({
            "stripe_status": intent.status,
            "created": rfc3339(intent.created),
            "description": intent.description,
            "metadata": intent.metadata,
            "amount_received": money::to_decimal(intent.amount_received, &intent.currency),
            "last_payment_error": intent.last_payment_error.as_ref().and_then(|e| e.get("message")),
        })
        .to_string(),
        provider_meta: ProviderMeta {
            provider: "stripe".into(),
            raw_id: intent.id.clone(),
            raw_payload: intent.raw().to_string(),
        },
    }
}

fn intent_id(id: &str) -> Result<&str> {
    let id = id.trim();
    if id.starts_with("pi_") && id.len() > 3 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(id)
    } else {
        Err(Error::Validation(format!(
            "{id:?} is not a Stripe payment intent id (pi_...)"
        )))
    }
}

fn get_intent(id: &str) -> Result<Raw<Intent>> {
    client()?
        .get(&format!("payment_intents/{}", intent_id(id)?))
        .query("expand[]", "latest_charge")
        .json()
}

impl Connector for Stripe {
    fn test_connection() -> Result<ConnectionTest> {
        client()?.get("balance").test_connection(|response| {
            let balance: serde_json::Value = response.json()?;
            Ok(ConnectionTest {
                success: true,
                message: format!(
                    "Connected to Stripe ({} mode)",
                    if balance["livemode"] == true { "live" } else { "test" }
                ),
                details: json!({ "livemode": balance["livemode"] }).to_string(),
            })
        })
    }
}

impl Payment for Stripe {
    fn create_checkout_session(request: CheckoutRequest) -> Result<CheckoutSession> {
        let currency = request.currency.trim().to_lowercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Error::Validation(format!(
                "currency {:?} is not an ISO 4217 code",
                request.currency
            )));
        }
        let minor = money::to_minor(&request.amount, &currency)?;
        if minor <= 0 {
            return Err(Error::Validation("amount must be positive".into()));
        }
        let unit_amount = minor.to_string();
        let name = if request.description.trim().is_empty() {
            "Payment"
        } else {
            request.description.trim()
        };
        let mut form: Vec<(String, String)> = vec![
            ("mode".into(), "payment".into()),
            ("success_url".into(), request.success_url.clone()),
            ("cancel_url".into(), request.cancel_url.clone()),
            ("line_items[0][quantity]".into(), "1".into()),
            ("line_items[0][price_data][currency]".into(), currency.clone()),
            ("line_items[0][price_data][unit_amount]".into(), unit_amount),
            ("line_items[0][price_data][product_data][name]".into(), name.into()),
        ];
        if !request.reference.is_empty() {
            form.push(("client_reference_id".into(), request.reference.clone()));
            form.push((
                "payment_intent_data[metadata][reference]".into(),
                request.reference.clone(),
            ));
        }
        if let Some(billing) = &request.billing
            && !billing.email.is_empty()
        {
            form.push(("customer_email".into(), billing.email.clone()));
        }
        for entry in &request.metadata {
            form.push((format!("metadata[{}]", entry.key), entry.value.clone()));
            form.push((
                format!("payment_intent_data[metadata][{}]", entry.key),
                entry.value.clone(),
            ));
        }
        #[derive(Deserialize)]
        struct Session {
            id: String,
            url: Option<String>,
            amount_total: Option<i64>,
            currency: Option<String>,
            expires_at: Option<i64>,
        }
        let session: Session = client()?
            .post("checkout/sessions")
            .form(form.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .idempotency_key(idempotency_key("checkout"))
            .json()?;
        let currency = session.currency.unwrap_or(currency);
        Ok(CheckoutSession {
            session_id: session.id,
            payment_url: session.url.unwrap_or_default(),
            amount: money::to_decimal(session.amount_total.unwrap_or(minor), &currency),
            currency: currency.to_uppercase(),
            description: name.to_string(),
            expires_at: session.expires_at.map(rfc3339),
        })
    }

    fn get_payment(payment_id: String) -> Result<PaymentResult> {
        Ok(payment(&get_intent(&payment_id)?))
    }

    fn refund(payment_id: String, amount: Option<String>, reason: String) -> Result<RefundResult> {
        let intent = get_intent(&payment_id)?;
        let mut form: Vec<(String, String)> = vec![("payment_intent".into(), intent.id.clone())];
        if let Some(amount) = &amount {
            form.push(("amount".into(), money::to_minor(amount, &intent.currency)?.to_string()));
        }
        // Stripe takes three reasons; anything else goes in the metadata.
        let reason = reason.trim();
        match reason {
            "" => {}
            "duplicate" | "fraudulent" | "requested_by_customer" => form.push(("reason".into(), reason.into())),
            other => form.push(("metadata[reason]".into(), other.into())),
        }
        #[derive(Deserialize)]
        struct Refund {
            id: String,
            amount: i64,
            currency: String,
            status: Option<String>,
            reason: Option<String>,
            created: Option<i64>,
        }
        let refund: Refund = client()?
            .post("refunds")
            .form(form.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .idempotency_key(idempotency_key("refund"))
            .json()?;
        Ok(RefundResult {
            refund_id: refund.id,
            payment_id: intent.id.clone(),
            amount: money::to_decimal(refund.amount, &refund.currency),
            currency: refund.currency.to_uppercase(),
            reason: refund.reason.unwrap_or_else(|| reason.to_string()),
            status: match refund.status.as_deref() {
                Some("succeeded") => RefundState::Succeeded,
                Some("failed") => RefundState::Failed,
                Some("canceled") => RefundState::Cancelled,
                _ => RefundState::Pending,
            },
            created_at: refund.created.map(rfc3339),
        })
    }

    fn list_payments(filter: PaymentFilter, cursor: Option<String>) -> Result<PaymentPage> {
        let limit = filter.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let since = filter.since.as_deref().map(unix).transpose()?;
        let until = filter.until.as_deref().map(unix).transpose()?;
        let page: List<Raw<Intent>> = client()?
            .get("payment_intents")
            .query("limit", limit.to_string())
            .query("expand[]", "data.latest_charge")
            .query_opt("starting_after", cursor.as_deref().map(intent_id).transpose()?)
            .query_opt("created[gte]", since.map(|s| s.to_string()))
            .query_opt("created[lte]", until.map(|s| s.to_string()))
            .json()?;
        let next_cursor = page.has_more.then(|| page.data.last().map(|i| i.id.clone())).flatten();
        // Stripe cannot filter intents by status: the page is filtered here
        // (a page may then hold fewer than `limit`; the cursor still moves on).
        let items = page
            .data
            .iter()
            .map(payment)
            .filter(|p| filter.status.is_none_or(|s| s == p.status))
            .collect();
        Ok(PaymentPage {
            items,
            has_more: next_cursor.is_some(),
            next_cursor,
            total: None,
        })
    }

    fn capture_payment(payment_id: String) -> Result<PaymentResult> {
        let intent: Raw<Intent> = client()?
            .post(&format!("payment_intents/{}/capture", intent_id(&payment_id)?))
            .form([("expand[]", "latest_charge")])
            .idempotency_key(idempotency_key("capture"))
            .json()?;
        Ok(payment(&intent))
    }
}

impl Webhooks for Stripe {
    fn verify(headers: Vec<Header>, body: Vec<u8>) -> Result<()> {
        webhooks::verify(&headers, &body, patchbay_sdk::time::now())
    }

    fn parse(_headers: Vec<Header>, body: Vec<u8>) -> Result<Vec<WebhookEvent>> {
        webhooks::parse(&body)
    }

    fn register(_url: String, _events: Vec<String>) -> Result<Registration> {
        Err(Error::Unsupported(webhooks::REGISTER_UNSUPPORTED.into()))
    }

    fn list_registrations() -> Result<Vec<Registration>> {
        webhooks::list_registrations()
    }

    fn unregister(id: String) -> Result<()> {
        webhooks::unregister(&id)
    }
}

patchbay_sdk::export!(Stripe: payment, webhooks);
