//! A test plugin receiving webhooks the way Meta's platforms send them
//! (<https://developers.facebook.com/docs/graph-api/webhooks/getting-started>):
//! a `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` when the
//! callback URL is set up, answered with the challenge when the token is
//! the connection's; deliveries signed `X-Hub-Signature-256: sha256=<hex
//! HMAC-SHA256 of the body with the app secret>`.

use patchbay_sdk::crypto::{self, HashAlgorithm};
use patchbay_sdk::prelude::*;

/// The plugin.
pub struct Challenger;

fn query_value(query: &str, name: &str) -> Option<String> {
    patchbay_sdk::http::query_param(query, name)
}

impl Connector for Challenger {
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "nothing to connect to".into(),
            details: "{}".into(),
        })
    }
}

impl Actions for Challenger {}

impl WebhookHandshake for Challenger {
    fn handshake(request: InboundRequest) -> Result<HandshakeOutcome> {
        if request.method != "GET" {
            return Ok(HandshakeOutcome::Deliver);
        }
        if query_value(&request.query, "hub.mode").as_deref() != Some("subscribe") {
            return Err(Error::Validation("not a subscription check (hub.mode)".into()));
        }
        let token = query_value(&request.query, "hub.verify_token").unwrap_or_default();
        if !crypto::verify_secret("verify_token", &token)? {
            return Err(Error::WebhookVerification(
                "hub.verify_token is not the connection's".into(),
            ));
        }
        let challenge = query_value(&request.query, "hub.challenge").unwrap_or_default();
        Ok(HandshakeOutcome::Answer(Reply {
            status: 200,
            headers: vec![Header {
                name: "content-type".into(),
                value: "text/plain".into(),
            }],
            body: challenge.into_bytes(),
        }))
    }
}

impl Webhooks for Challenger {
    fn verify(headers: Vec<Header>, body: Vec<u8>) -> Result<()> {
        let signature = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("x-hub-signature-256"))
            .and_then(|h| h.value.trim().strip_prefix("sha256="))
            .ok_or_else(|| Error::WebhookVerification("no X-Hub-Signature-256 header".into()))?;
        let signature: Option<Vec<u8>> = (0..signature.len())
            .step_by(2)
            .map(|i| signature.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        let signature = signature.ok_or_else(|| Error::WebhookVerification("the signature is not hex".into()))?;
        if crypto::verify_hmac(HashAlgorithm::Sha256, "app_secret", &body, &signature)? {
            Ok(())
        } else {
            Err(Error::WebhookVerification(
                "X-Hub-Signature-256 does not match the body".into(),
            ))
        }
    }

    fn parse(_headers: Vec<Header>, body: Vec<u8>) -> Result<Vec<WebhookEvent>> {
        let delivery: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| Error::Validation(format!("the body is not JSON: {e}")))?;
        let mut events = Vec::new();
        for entry in delivery["entry"].as_array().into_iter().flatten() {
            for message in entry["messaging"].as_array().into_iter().flatten() {
                let id = message["message"]["mid"].as_str().unwrap_or_default().to_string();
                events.push(WebhookEvent {
                    event_id: id.clone(),
                    event_type: "message.received".into(),
                    provider_event_type: "messages".into(),
                    payload_json: message.to_string(),
                    idempotency_key: id,
                    occurred_at: None,
                });
            }
        }
        Ok(events)
    }
}

patchbay_sdk::export!(Challenger: actions, webhooks, webhook_handshake);
