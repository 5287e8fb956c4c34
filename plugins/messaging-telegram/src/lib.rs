//! Patchbay plugin for Telegram bots, on the Bot API
//! (<https://core.telegram.org/bots/api>).
//!
//! Messages as text (plain, or HTML with `parse_mode`; split at Telegram's
//! 4096 characters), photos and documents (multipart uploads with the text
//! as caption), replies in the received message's chat, and updates by
//! webhook (`setWebhook` with a `secret_token` Telegram echoes in
//! `X-Telegram-Bot-Api-Secret-Token`, compared in constant time by the host).
//! The manifest is `patchbay.toml`.

mod api;
/// Updates → events and inbound messages.
pub mod updates;

use patchbay_sdk::http::Multipart;
use patchbay_sdk::prelude::*;
use patchbay_sdk::text::split;
use patchbay_sdk::time::rfc3339;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{call, upload};

/// The Telegram adapter.
pub struct Telegram;

/// Characters of a text message (after entities are parsed).
pub const MAX_TEXT: usize = 4096;
/// Characters of a media caption.
pub const MAX_CAPTION: usize = 1024;

/// A message Telegram sent.
#[derive(Deserialize)]
struct Sent {
    message_id: i64,
    #[serde(default)]
    date: Option<i64>,
}

/// A chat id as Telegram takes one: a number, or `@channelusername`.
fn chat_id(to: &str) -> Result<Value> {
    let to = to.trim();
    if let Ok(id) = to.parse::<i64>() {
        return Ok(json!(id));
    }
    if to.len() > 1 && to.starts_with('@') && to[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(json!(to));
    }
    Err(Error::Validation(format!(
        "{to:?} is not a Telegram chat (a chat id, or @channelusername)"
    )))
}

/// A chat id as text (`-100…` or `@name`).
fn label(chat: &Value) -> String {
    match chat {
        Value::String(name) => name.clone(),
        other => other.to_string(),
    }
}

/// Sends `message` to one chat, replying to `reply_to` when given; the ids
/// of the messages Telegram made (a long text is several).
fn send_to(chat: &Value, message: &OutboundMessage, reply_to: Option<i64>) -> Result<Vec<Sent>> {
    let (text, parse_mode) = match &message.html_body {
        Some(html) if !html.trim().is_empty() => (html.as_str(), Some("HTML")),
        _ => (message.body.as_str(), None),
    };
    let reply = reply_to.map(|id| json!({ "message_id": id, "allow_sending_without_reply": true }));
    let mut sent = Vec::new();
    let mut caption_left = Some(text);
    for (i, attachment) in message.attachments.iter().enumerate() {
        let (method, field) = if attachment.content_type.starts_with("image/")
            && !attachment.content_type.contains("svg")
            && attachment.data.len() <= 10 << 20
        {
            ("sendPhoto", "photo")
        } else {
            ("sendDocument", "document")
        };
        let mut form = Multipart::new().text("chat_id", &label(chat));
        // The first attachment carries the text when it fits a caption.
        if i == 0
            && let Some(caption) = caption_left.filter(|c| !c.is_empty() && c.chars().count() <= MAX_CAPTION)
        {
            form = form.text("caption", caption);
            if let Some(mode) = parse_mode {
                form = form.text("parse_mode", mode);
            }
            caption_left = None;
        }
        if let Some(reply) = &reply {
            form = form.text("reply_parameters", &reply.to_string());
        }
        let name = if attachment.filename.trim().is_empty() {
            "file"
        } else {
            attachment.filename.as_str()
        };
        form = form.file(field, name, &attachment.content_type, &attachment.data);
        sent.push(upload::<Sent>(method, form)?);
    }
    if let Some(text) = caption_left {
        for piece in split(text, MAX_TEXT) {
            let mut body = json!({ "chat_id": chat, "text": piece });
            if let Some(mode) = parse_mode {
                body["parse_mode"] = json!(mode);
            }
            if let Some(reply) = &reply {
                body["reply_parameters"] = reply.clone();
            }
            sent.push(call::<Sent>("sendMessage", &body)?);
        }
    }
    if sent.is_empty() {
        return Err(Error::Validation("the message has no text and no attachment".into()));
    }
    Ok(sent)
}

/// The report of what was sent: `chat:message` ids, comma-separated.
fn report(sent: &[(String, Vec<Sent>)]) -> DeliveryReport {
    let ids: Vec<String> = sent
        .iter()
        .flat_map(|(chat, messages)| messages.iter().map(move |m| format!("{chat}:{}", m.message_id)))
        .collect();
    DeliveryReport {
        message_id: ids.join(","),
        status: DeliveryStatus::Sent,
        error: None,
        delivered_at: sent
            .iter()
            .flat_map(|(_, m)| m.iter())
            .filter_map(|m| m.date)
            .max()
            .map(rfc3339),
    }
}

fn send_one(message: &OutboundMessage) -> Result<DeliveryReport> {
    if message.to.is_empty() {
        return Err(Error::Validation("to: name at least one chat".into()));
    }
    let chats = message.to.iter().map(|to| chat_id(to)).collect::<Result<Vec<_>>>()?;
    let mut sent = Vec::new();
    for chat in &chats {
        sent.push((label(chat), send_to(chat, message, None)?));
    }
    Ok(report(&sent))
}

impl Connector for Telegram {
    fn test_connection() -> Result<ConnectionTest> {
        #[derive(Deserialize)]
        struct Me {
            id: i64,
            #[serde(default)]
            username: Option<String>,
            #[serde(default)]
            first_name: String,
        }
        match call::<Me>("getMe", &json!({})) {
            Ok(me) => Ok(ConnectionTest {
                success: true,
                message: format!(
                    "Connected as @{}",
                    me.username.clone().unwrap_or_else(|| me.first_name.clone())
                ),
                details: json!({ "id": me.id, "username": me.username, "name": me.first_name }).to_string(),
            }),
            Err(Error::Auth(message)) => {
                patchbay_sdk::client::refused(format!("Telegram refused the bot token: {message}"))
            }
            Err(other) => Err(other),
        }
    }
}

impl Messaging for Telegram {
    fn send(message: OutboundMessage) -> Result<DeliveryReport> {
        send_one(&message)
    }

    /// One report per message; a message Telegram refuses (a blocked bot, a
    /// chat that does not exist) is `rejected` or `failed` in its report and
    /// the others still go. A refused token stops the batch.
    fn send_bulk(messages: Vec<OutboundMessage>) -> Result<Vec<DeliveryReport>> {
        patchbay_sdk::delivery::send_each(&messages, send_one)
    }

    fn reply(to: InboundMessage, body: String) -> Result<DeliveryReport> {
        let chat = chat_id(&to.conversation_id)?;
        let message_id = to
            .message_id
            .rsplit(':')
            .next()
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or_else(|| Error::Validation(format!("{:?} is not a Telegram message id", to.message_id)))?;
        let message = OutboundMessage {
            message_id: String::new(),
            channel: Channel::Chat,
            to: vec![to.conversation_id.clone()],
            reply_to: None,
            subject: None,
            body,
            html_body: None,
            template_id: None,
            template_vars: Vec::new(),
            attachments: Vec::new(),
        };
        Ok(report(&[(label(&chat), send_to(&chat, &message, Some(message_id))?)]))
    }
}

impl Webhooks for Telegram {
    fn verify(headers: Vec<Header>, _body: Vec<u8>) -> Result<()> {
        updates::verify(&headers)
    }

    fn parse(_headers: Vec<Header>, body: Vec<u8>) -> Result<Vec<WebhookEvent>> {
        updates::parse(&body)
    }

    fn register(url: String, events: Vec<String>) -> Result<Registration> {
        updates::register(url, events)
    }

    fn list_registrations() -> Result<Vec<Registration>> {
        updates::list_registrations()
    }

    fn unregister(id: String) -> Result<()> {
        updates::unregister(id)
    }
}

impl Actions for Telegram {
    fn list_actions() -> Vec<ActionSpec> {
        vec![ActionSpec {
            name: "get-updates".into(),
            description: "Receives updates by long polling (getUpdates), for a bot without a webhook: the messages \
                          since the last call, each as the webhook would deliver it; the offset that confirms them \
                          is kept by the connection."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "timeout": { "type": "integer", "minimum": 0, "maximum": 50, "description": "Seconds Telegram may wait for an update (0 answers at once)." },
                    "limit": { "type": "integer", "minimum": 1, "maximum": 100 },
                    "keep": { "type": "boolean", "description": "Whether to keep the next offset (default true); false reads the same updates again next time." },
                },
                "additionalProperties": false,
            })
            .to_string(),
            output_schema: json!({
                "type": "object",
                "properties": {
                    "updates": { "type": "array", "items": { "type": "object" } },
                    "offset": { "type": ["integer", "null"] },
                },
            })
            .to_string(),
        }]
    }

    fn execute(name: String, input: Json) -> Result<Json> {
        if name != "get-updates" {
            return Err(Error::Unsupported(format!(
                "{name:?} is not an action of telegram (get-updates)"
            )));
        }
        let input: Value = if input.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&input).map_err(|e| Error::Validation(format!("input: not valid JSON: {e}")))?
        };
        let object = input
            .as_object()
            .ok_or_else(|| Error::Validation("input: expected a JSON object".into()))?;
        if let Some(unknown) = object
            .keys()
            .find(|k| !["timeout", "limit", "keep"].contains(&k.as_str()))
        {
            return Err(Error::Validation(format!(
                "input.{unknown}: not an input of get-updates"
            )));
        }
        let number = |name: &str, default: u32, max: u32| match object.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => value
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v <= max)
                .ok_or_else(|| Error::Validation(format!("input.{name}: expected a whole number up to {max}"))),
        };
        let keep = match object.get("keep") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(keep)) => *keep,
            Some(_) => return Err(Error::Validation("input.keep: expected true or false".into())),
        };
        Ok(updates::poll(number("timeout", 0, 50)?, number("limit", 100, 100)?, keep)?.to_string())
    }
}

patchbay_sdk::export!(Telegram: messaging, webhooks, actions);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_ids_or_channel_names() {
        assert_eq!(chat_id("-1001234567890").unwrap(), json!(-1_001_234_567_890_i64));
        assert_eq!(chat_id("@patchbay_news").unwrap(), json!("@patchbay_news"));
        assert!(chat_id("someone@example.com").is_err());
    }
}
