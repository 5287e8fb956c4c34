//! Patchbay plugin for WhatsApp Business, on Meta's Cloud API
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>).
//!
//! Text (split at WhatsApp's 4096 characters), template messages (the
//! only way to open a conversation, or to write after 24 hours of silence),
//! images and documents (uploaded to `/{phone}/media`, then sent by id),
//! replies in context, delivery reports and incoming messages by webhook
//! (`webhooks`, with Meta's `hub.challenge` handshake). The manifest is
//! `patchbay.toml`.

mod api;
/// Webhooks: the handshake, signatures, deliveries.
pub mod webhooks;

use patchbay_sdk::http::Multipart;
use patchbay_sdk::prelude::*;
use patchbay_sdk::text::split;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::client;

/// The WhatsApp adapter.
pub struct WhatsApp;

/// Characters of a text body.
pub const MAX_TEXT: usize = 4096;
/// Characters of a media caption.
pub const MAX_CAPTION: usize = 1024;

fn phone_number_id() -> Result<String> {
    let id = patchbay_sdk::config::require("phone_number_id")?;
    let id = id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Config(format!(
            "phone_number_id {id:?} is not a phone number ID (digits; not the phone number itself)"
        )));
    }
    Ok(id.to_string())
}

/// A recipient as WhatsApp takes one: the phone number in international
/// format, digits only (`+40 722 000 111` → `40722000111`).
pub fn recipient(to: &str) -> Result<String> {
    let digits: String = to
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
        .collect();
    if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(Error::Validation(format!(
            "{to:?} is not a phone number in international format"
        )))
    }
}

#[derive(Deserialize)]
struct Sent {
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

/// Posts one message object; its `wamid`.
fn post(phone: &str, to: &str, kind: &str, content: Value, context: Option<&str>) -> Result<String> {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
    });
    body[kind] = content;
    if let Some(id) = context {
        body["context"] = json!({ "message_id": id });
    }
    let sent: Sent = client()?.post(&format!("{phone}/messages")).body_json(&body)?.json()?;
    sent.messages
        .into_iter()
        .next()
        .map(|m| m.id)
        .ok_or_else(|| Error::provider("WhatsApp accepted the message without an id"))
}

/// Uploads an attachment; its media id.
fn upload(phone: &str, attachment: &Attachment) -> Result<String> {
    #[derive(Deserialize)]
    struct Uploaded {
        id: String,
    }
    let content_type = if attachment.content_type.trim().is_empty() {
        "application/octet-stream"
    } else {
        attachment.content_type.as_str()
    };
    let form = Multipart::new()
        .text("messaging_product", "whatsapp")
        .text("type", content_type)
        .file("file", &attachment.filename, content_type, &attachment.data);
    let uploaded: Uploaded = client()?.post(&format!("{phone}/media")).multipart(form).json()?;
    Ok(uploaded.id)
}

/// A template message: the template's name, its language (the `language`
/// variable, else the setting), the other variables as body parameters in
/// order — named (`parameter_name`) unless the name is a position.
fn template(name: &str, vars: &[TemplateVar]) -> Result<Value> {
    let language = match vars.iter().find(|v| v.name == "language") {
        Some(v) => v.value.clone(),
        None => patchbay_sdk::config::get("template_language")?.unwrap_or_else(|| "en_US".into()),
    };
    let parameters: Vec<Value> = vars
        .iter()
        .filter(|v| v.name != "language")
        .map(|v| {
            if v.name.is_empty() || v.name.bytes().all(|b| b.is_ascii_digit()) {
                json!({ "type": "text", "text": v.value })
            } else {
                json!({ "type": "text", "text": v.value, "parameter_name": v.name })
            }
        })
        .collect();
    let mut content = json!({ "name": name, "language": { "code": language } });
    if !parameters.is_empty() {
        content["components"] = json!([{ "type": "body", "parameters": parameters }]);
    }
    Ok(content)
}

/// Sends `message` to one recipient; the `wamid`s.
fn send_to(phone: &str, to: &str, message: &OutboundMessage, context: Option<&str>) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    if let Some(name) = message.template_id.as_deref().filter(|t| !t.trim().is_empty()) {
        ids.push(post(
            phone,
            to,
            "template",
            template(name, &message.template_vars)?,
            context,
        )?);
        return Ok(ids);
    }
    let mut text = Some(message.body.as_str()).filter(|t| !t.trim().is_empty());
    for (i, attachment) in message.attachments.iter().enumerate() {
        let id = upload(phone, attachment)?;
        let image = matches!(attachment.content_type.as_str(), "image/jpeg" | "image/png");
        let (kind, mut content) = if image {
            ("image", json!({ "id": id }))
        } else {
            ("document", json!({ "id": id, "filename": attachment.filename }))
        };
        if i == 0
            && let Some(caption) = text.filter(|t| t.chars().count() <= MAX_CAPTION)
        {
            content["caption"] = json!(caption);
            text = None;
        }
        ids.push(post(phone, to, kind, content, context)?);
    }
    if let Some(text) = text {
        for piece in split(text, MAX_TEXT) {
            let preview = piece.contains("https://") || piece.contains("http://");
            ids.push(post(
                phone,
                to,
                "text",
                json!({ "body": piece, "preview_url": preview }),
                context,
            )?);
        }
    }
    if ids.is_empty() {
        return Err(Error::Validation(
            "the message has no text, template or attachment".into(),
        ));
    }
    Ok(ids)
}

fn send_one(message: &OutboundMessage) -> Result<DeliveryReport> {
    if message.to.is_empty() {
        return Err(Error::Validation("to: name at least one phone number".into()));
    }
    let recipients = message.to.iter().map(|t| recipient(t)).collect::<Result<Vec<_>>>()?;
    let phone = phone_number_id()?;
    let mut ids = Vec::new();
    for to in &recipients {
        ids.extend(send_to(&phone, to, message, None)?);
    }
    // Accepted by WhatsApp; the delivery itself is reported by webhook.
    Ok(DeliveryReport {
        message_id: ids.join(","),
        status: DeliveryStatus::Queued,
        error: None,
        delivered_at: None,
    })
}

impl Connector for WhatsApp {
    fn test_connection() -> Result<ConnectionTest> {
        let phone = phone_number_id()?;
        let call = client()?
            .get(&phone)
            .query("fields", "display_phone_number,verified_name,quality_rating");
        call.test_connection(|response| {
            let number: Value = response.json()?;
            Ok(ConnectionTest {
                success: true,
                message: format!(
                    "Connected as {} ({})",
                    number["verified_name"].as_str().unwrap_or("the business"),
                    number["display_phone_number"].as_str().unwrap_or_default()
                ),
                details: number.to_string(),
            })
        })
    }
}

impl Messaging for WhatsApp {
    fn send(message: OutboundMessage) -> Result<DeliveryReport> {
        send_one(&message)
    }

    /// One report per message; a message WhatsApp refuses (outside the
    /// 24-hour window, an unknown template, an unreachable number) is
    /// `rejected` in its report and the others still go. A refused token
    /// stops the batch.
    fn send_bulk(messages: Vec<OutboundMessage>) -> Result<Vec<DeliveryReport>> {
        patchbay_sdk::delivery::send_each(&messages, send_one)
    }

    /// Replies to the customer in context (quoting their message).
    fn reply(to: InboundMessage, body: String) -> Result<DeliveryReport> {
        let phone = phone_number_id()?;
        let recipient = recipient(&to.sender)?;
        let message = OutboundMessage {
            message_id: String::new(),
            channel: Channel::Whatsapp,
            to: vec![recipient.clone()],
            reply_to: None,
            subject: None,
            body,
            html_body: None,
            template_id: None,
            template_vars: Vec::new(),
            attachments: Vec::new(),
        };
        let ids = send_to(&phone, &recipient, &message, Some(&to.message_id))?;
        Ok(DeliveryReport {
            message_id: ids.join(","),
            status: DeliveryStatus::Queued,
            error: None,
            delivered_at: None,
        })
    }
}

impl WebhookHandshake for WhatsApp {
    fn handshake(request: InboundRequest) -> Result<HandshakeOutcome> {
        webhooks::handshake(&request)
    }
}

impl Webhooks for WhatsApp {
    fn verify(headers: Vec<Header>, body: Vec<u8>) -> Result<()> {
        webhooks::verify(&headers, &body)
    }

    fn parse(_headers: Vec<Header>, body: Vec<u8>) -> Result<Vec<WebhookEvent>> {
        webhooks::parse(&body)
    }

    fn register(url: String, events: Vec<String>) -> Result<Registration> {
        webhooks::register(url, events)
    }

    fn list_registrations() -> Result<Vec<Registration>> {
        webhooks::list_registrations()
    }

    fn unregister(id: String) -> Result<()> {
        webhooks::unregister(id)
    }
}

patchbay_sdk::export!(WhatsApp: messaging, webhooks, webhook_handshake);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_international_numbers() {
        assert_eq!(recipient("+40 722-000-111").unwrap(), "40722000111");
        assert!(recipient("0722").is_err());
        assert!(recipient("someone@example.com").is_err());
    }
}
