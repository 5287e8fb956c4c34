//! WhatsApp webhooks, as Meta sends them
//! (<https://developers.facebook.com/docs/graph-api/webhooks/getting-started>,
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components>):
//! a `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` when the
//! callback URL is set, answered with the challenge when the token is the
//! connection's; deliveries signed `X-Hub-Signature-256: sha256=<hex HMAC of
//! the body with the app secret>`, each a `whatsapp_business_account` object
//! whose `entry[].changes[]` (field `messages`) carry incoming `messages` and
//! the `statuses` of sent ones.

use patchbay_sdk::crypto::{self, HashAlgorithm};
use patchbay_sdk::http::{header_value, query_param};
use patchbay_sdk::prelude::*;
use patchbay_sdk::time::rfc3339;
use serde_json::{Value, json};

use crate::api::client;

/// The credentials Meta checks with.
const APP_SECRET: &str = "app_secret";
const VERIFY_TOKEN: &str = "verify_token";

/// Meta's check of the callback URL: the challenge back when the verify
/// token is the connection's (compared in constant time), 403 otherwise, as
/// Meta's docs answer it; deliveries (POST) pass on.
pub fn handshake(request: &InboundRequest) -> Result<HandshakeOutcome> {
    if request.method != "GET" {
        return Ok(HandshakeOutcome::Deliver);
    }
    let reply = |status: u16, body: String| {
        HandshakeOutcome::Answer(Reply {
            status,
            headers: vec![Header {
                name: "content-type".into(),
                value: "text/plain; charset=utf-8".into(),
            }],
            body: body.into_bytes(),
        })
    };
    if query_param(&request.query, "hub.mode").as_deref() != Some("subscribe") {
        return Ok(reply(400, "not a subscription check (hub.mode)".into()));
    }
    let token = query_param(&request.query, "hub.verify_token").unwrap_or_default();
    if !crypto::verify_secret(VERIFY_TOKEN, &token)? {
        return Ok(reply(403, "hub.verify_token is not this connection's".into()));
    }
    Ok(reply(
        200,
        query_param(&request.query, "hub.challenge").unwrap_or_default(),
    ))
}

/// Checks `X-Hub-Signature-256` against the raw body.
pub fn verify(headers: &[Header], body: &[u8]) -> Result<()> {
    let signature = header_value(headers, "x-hub-signature-256")
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .ok_or_else(|| Error::WebhookVerification("no X-Hub-Signature-256: sha256=… header".into()))?;
    let signature = crypto::from_hex(signature)
        .ok_or_else(|| Error::WebhookVerification("X-Hub-Signature-256 is not hexadecimal".into()))?;
    if crypto::verify_hmac(HashAlgorithm::Sha256, APP_SECRET, body, &signature)? {
        Ok(())
    } else {
        Err(Error::WebhookVerification(
            "X-Hub-Signature-256 does not match the body".into(),
        ))
    }
}

/// Unix seconds as WhatsApp writes them (a string).
fn when(value: &Value) -> Option<String> {
    value
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| value.as_i64())
        .map(rfc3339)
}

/// The text of an incoming message, whatever its type.
fn text_of(message: &Value) -> String {
    let kind = message["type"].as_str().unwrap_or_default();
    let candidates = [
        &message["text"]["body"],
        &message["button"]["text"],
        &message["interactive"]["button_reply"]["title"],
        &message["interactive"]["list_reply"]["title"],
        &message[kind]["caption"],
        &message["reaction"]["emoji"],
    ];
    candidates
        .into_iter()
        .find_map(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// One event per incoming message (`message.received`, its payload an
/// inbound message, the shape `messaging.reply` takes) and per status of a
/// sent one (`message.sent`, `.delivered`, `.read`, `.failed`, its payload a
/// delivery report). Keyed by the message id (and the status), which Meta
/// repeats when it redelivers.
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>> {
    let raw = std::str::from_utf8(body).map_err(|_| Error::Validation("the body is not UTF-8".into()))?;
    let delivery: Value =
        serde_json::from_str(raw).map_err(|e| Error::Validation(format!("the body is not JSON: {e}")))?;
    if delivery["object"] != "whatsapp_business_account" {
        return Err(Error::Validation(format!(
            "not a WhatsApp delivery (object {})",
            delivery["object"]
        )));
    }
    let mut events = Vec::new();
    for entry in delivery["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            if change["field"] != "messages" {
                continue;
            }
            let value = &change["value"];
            let contacts = value["contacts"].as_array().map(Vec::as_slice).unwrap_or_default();
            for message in value["messages"].as_array().into_iter().flatten() {
                let id = message["id"].as_str().unwrap_or_default().to_string();
                let from = message["from"].as_str().unwrap_or_default();
                let name = contacts
                    .iter()
                    .find(|c| c["wa_id"] == from)
                    .and_then(|c| c["profile"]["name"].as_str())
                    .unwrap_or_default();
                let inbound = json!({
                    "message-id": id,
                    "channel": "whatsapp",
                    "sender": from,
                    "sender-name": name,
                    "conversation-id": from,
                    "body": text_of(message),
                    "received-at": when(&message["timestamp"]),
                    "attachments": [],
                    "extra": json!({
                        "type": message["type"],
                        "phone-number-id": value["metadata"]["phone_number_id"],
                        "media-id": message[message["type"].as_str().unwrap_or_default()]["id"],
                        "context": message["context"],
                        "button-payload": message["button"]["payload"],
                    }).to_string(),
                    "provider-meta": { "provider": "whatsapp", "raw-id": id, "raw-payload": message.to_string() },
                });
                events.push(WebhookEvent {
                    event_id: id.clone(),
                    event_type: "message.received".into(),
                    provider_event_type: format!("messages.{}", message["type"].as_str().unwrap_or("unknown")),
                    payload_json: inbound.to_string(),
                    idempotency_key: format!("message:{id}"),
                    occurred_at: when(&message["timestamp"]),
                });
            }
            for status in value["statuses"].as_array().into_iter().flatten() {
                let id = status["id"].as_str().unwrap_or_default().to_string();
                let state = status["status"].as_str().unwrap_or_default();
                let (event_type, delivery_status) = match state {
                    "sent" => ("message.sent", "sent"),
                    "delivered" => ("message.delivered", "delivered"),
                    "read" => ("message.read", "delivered"),
                    "failed" => ("message.failed", "failed"),
                    _ => ("unknown", "queued"),
                };
                let error = status["errors"][0]
                    .get("title")
                    .or_else(|| status["errors"][0].get("message"))
                    .and_then(Value::as_str)
                    .map(|title| match status["errors"][0]["code"].as_i64() {
                        Some(code) => format!("{title} (code {code})"),
                        None => title.to_string(),
                    });
                let report = json!({
                    "message-id": id,
                    "status": delivery_status,
                    "error": error,
                    "delivered-at": if matches!(state, "delivered" | "read") { when(&status["timestamp"]) } else { None },
                });
                events.push(WebhookEvent {
                    event_id: format!("{id}:{state}"),
                    event_type: event_type.into(),
                    provider_event_type: format!("statuses.{state}"),
                    payload_json: report.to_string(),
                    idempotency_key: format!("status:{id}:{state}"),
                    occurred_at: when(&status["timestamp"]),
                });
            }
        }
    }
    Ok(events)
}

fn account() -> Result<String> {
    patchbay_sdk::config::get("business_account_id")?
        .filter(|id| !id.trim().is_empty() && id.trim().bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            Error::Config(
                "set business_account_id (the WhatsApp Business Account's numeric ID) to register webhooks from here"
                    .into(),
            )
        })
}

/// Subscribes the app to the business account's webhooks with this
/// callback URL (`subscribed_apps` with `override_callback_uri`; Meta checks
/// it with a `hub.challenge` GET, answered by the handshake). The verify
/// token is a placeholder the host fills in.
pub fn register(url: String, events: Vec<String>) -> Result<Registration> {
    if let Some(other) = events.iter().find(|e| e.as_str() != "messages") {
        return Err(Error::Validation(format!(
            "WhatsApp delivers the messages field; not {other:?}"
        )));
    }
    for field in [APP_SECRET, VERIFY_TOKEN] {
        if crypto::verify_secret(field, "").is_err() {
            return Err(Error::Config(format!(
                "set the `{field}` credential, and make it a signing field of the connection, to receive webhooks"
            )));
        }
    }
    let account = account()?;
    let answer: Value = client()?
        .post(&format!("{account}/subscribed_apps"))
        .query("override_callback_uri", &url)
        .query("verify_token", format!("{{{{secret.{VERIFY_TOKEN}}}}}"))
        .json()?;
    if answer["success"] != true {
        return Err(Error::provider(format!("Meta did not subscribe the app: {answer}")));
    }
    Ok(Registration {
        id: account,
        url,
        events: vec!["messages".into()],
        active: true,
    })
}

/// The apps subscribed to the business account, with their callback URL
/// when it was overridden.
pub fn list_registrations() -> Result<Vec<Registration>> {
    let account = account()?;
    let answer: Value = client()?.get(&format!("{account}/subscribed_apps")).json()?;
    Ok(answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|app| Registration {
            id: account.clone(),
            url: app["override_callback_uri"].as_str().unwrap_or_default().to_string(),
            events: vec!["messages".into()],
            active: true,
        })
        .collect())
}

/// Unsubscribes the app from the business account (`id` is its ID).
pub fn unregister(id: String) -> Result<()> {
    let account = account()?;
    if id != account {
        return Err(Error::NotFound(format!(
            "the app is subscribed to {account}, not {id:?}"
        )));
    }
    client()?.delete(&format!("{account}/subscribed_apps")).send()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_become_messages_and_reports() {
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                "messages": [{"from": "16505551234", "id": "wamid.HBgL1", "timestamp": "1764496800", "type": "text", "text": {"body": "Does it come in another color?"}}],
                "statuses": [{"id": "wamid.HBgL0", "status": "failed", "timestamp": "1764496801", "recipient_id": "16505551234",
                    "errors": [{"code": 131047, "title": "Re-engagement message"}]}]
            }}]}]
        });
        let events = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(events.len(), 2);
        let message: Value = serde_json::from_str(&events[0].payload_json).unwrap();
        assert_eq!(
            (message["sender-name"].as_str(), message["body"].as_str()),
            (Some("Sheena Nelson"), Some("Does it come in another color?"))
        );
        assert_eq!(events[0].occurred_at.as_deref(), Some("2025-11-30T10:00:00Z"));
        assert_eq!(events[1].event_type, "message.failed");
        let report: Value = serde_json::from_str(&events[1].payload_json).unwrap();
        assert_eq!(report["error"], "Re-engagement message (code 131047)");
        assert!(matches!(parse(br#"{"object": "page"}"#), Err(Error::Validation(_))));
    }
}
