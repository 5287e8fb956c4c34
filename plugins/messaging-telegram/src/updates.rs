//! Updates by webhook: `setWebhook` with a `secret_token` (the connection's
//! `webhook_secret`, filled in by the host), which Telegram sends back in
//! `X-Telegram-Bot-Api-Secret-Token` with every update; each update is one
//! event, its message as an inbound message (the shape `messaging.reply`
//! takes). <https://core.telegram.org/bots/api#setwebhook>,
//! <https://core.telegram.org/bots/api#update>

use patchbay_sdk::crypto;
use patchbay_sdk::http::header_value;
use patchbay_sdk::prelude::*;
use patchbay_sdk::time::rfc3339;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{call, client};

/// The credential holding the secret token.
const SECRET: &str = "webhook_secret";

/// Update types Telegram delivers when none are named.
const DEFAULT_UPDATES: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
];

/// Update types a bot may ask for.
const UPDATE_TYPES: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "message_reaction",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
];

/// Checks `X-Telegram-Bot-Api-Secret-Token` against the secret, in
/// constant time (through `crypto`).
pub fn verify(headers: &[Header]) -> Result<()> {
    let token = header_value(headers, "x-telegram-bot-api-secret-token")
        .ok_or_else(|| Error::WebhookVerification("no X-Telegram-Bot-Api-Secret-Token header".into()))?;
    if crypto::verify_secret(SECRET, token)? {
        Ok(())
    } else {
        Err(Error::WebhookVerification(
            "X-Telegram-Bot-Api-Secret-Token is not the connection's secret".into(),
        ))
    }
}

#[derive(Deserialize, Default)]
struct User {
    #[serde(default)]
    id: i64,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize, Default)]
struct Chat {
    id: i64,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    #[serde(default)]
    from: Option<User>,
    chat: Chat,
    #[serde(default)]
    date: Option<i64>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    photo: Vec<Value>,
    #[serde(default)]
    document: Option<Value>,
}

#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    data: Option<String>,
}

fn name(user: &User) -> String {
    match (&user.last_name, &user.username) {
        (Some(last), _) => format!("{} {last}", user.first_name),
        (None, _) if !user.first_name.is_empty() => user.first_name.clone(),
        (None, Some(username)) => username.clone(),
        (None, None) => String::new(),
    }
}

/// A message as the contract's inbound message (kebab-case JSON, as the
/// host's JSON bridge reads it).
fn inbound(message: &Message, raw: &str, body_override: Option<&str>, sender: Option<&User>) -> Value {
    let sender = sender.or(message.from.as_ref());
    let sender_name = match sender {
        Some(user) => name(user),
        None => message.chat.title.clone().unwrap_or_default(),
    };
    let largest_photo = message.photo.last();
    json!({
        "message-id": format!("{}:{}", message.chat.id, message.message_id),
        "channel": "chat",
        "sender": sender.map_or_else(|| message.chat.id.to_string(), |u| u.id.to_string()),
        "sender-name": sender_name,
        "conversation-id": message.chat.id.to_string(),
        "body": body_override.map(str::to_string).or_else(|| message.text.clone()).or_else(|| message.caption.clone()).unwrap_or_default(),
        "received-at": message.date.map(rfc3339),
        "attachments": [],
        "extra": json!({
            "chat-type": message.chat.kind,
            "chat-username": message.chat.username,
            "username": sender.and_then(|u| u.username.clone()),
            "photo-file-id": largest_photo.and_then(|p| p.get("file_id")),
            "document": message.document,
        }).to_string(),
        "provider-meta": { "provider": "telegram", "raw-id": message.message_id.to_string(), "raw-payload": raw },
    })
}

/// One event per update: messages and channel posts are
/// `message.received`, their edits `message.updated`, a button press
/// (`callback_query`) `message.received` with the button's data as the body;
/// other updates keep their type (`unknown`). Keyed by `update_id`, which
/// Telegram repeats when it redelivers.
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>> {
    let raw = std::str::from_utf8(body).map_err(|_| Error::Validation("the update is not UTF-8".into()))?;
    let update: serde_json::Map<String, Value> =
        serde_json::from_str(raw).map_err(|e| Error::Validation(format!("the body is not a Telegram update: {e}")))?;
    let update_id = update
        .get("update_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::Validation("the update has no update_id".into()))?;
    let (kind, value) = update
        .iter()
        .find(|(k, _)| *k != "update_id")
        .ok_or_else(|| Error::Validation("the update carries nothing".into()))?;
    let read = |value: &Value| {
        serde_json::from_value::<Message>(value.clone())
            .map_err(|e| Error::Validation(format!("{kind} is not a Telegram message: {e}")))
    };
    let (event_type, payload, occurred) = match kind.as_str() {
        "message" | "channel_post" | "business_message" => {
            let message = read(value)?;
            ("message.received", inbound(&message, raw, None, None), message.date)
        }
        "edited_message" | "edited_channel_post" | "edited_business_message" => {
            let message = read(value)?;
            ("message.updated", inbound(&message, raw, None, None), message.date)
        }
        "callback_query" => {
            let query: CallbackQuery = serde_json::from_value(value.clone())
                .map_err(|e| Error::Validation(format!("callback_query does not read: {e}")))?;
            match &query.message {
                Some(message) => {
                    let mut payload = inbound(message, raw, query.data.as_deref(), Some(&query.from));
                    payload["extra"] = json!(
                        json!({"callback-query-id": query.id, "data": query.data, "chat-type": message.chat.kind})
                            .to_string()
                    );
                    ("message.received", payload, message.date)
                }
                None => ("unknown", value.clone(), None),
            }
        }
        _ => ("unknown", value.clone(), None),
    };
    Ok(vec![WebhookEvent {
        event_id: update_id.to_string(),
        event_type: event_type.into(),
        provider_event_type: kind.clone(),
        payload_json: payload.to_string(),
        idempotency_key: format!("update:{update_id}"),
        occurred_at: occurred.map(rfc3339),
    }])
}

/// Where the offset of the next `getUpdates` is kept: one past the last
/// update received, which confirms it to Telegram.
pub const OFFSET_KEY: &str = "updates.offset";

/// `getUpdates` (long polling, for a bot without a webhook): from the kept
/// offset, waiting up to `timeout` seconds for news; each update as the
/// webhook would deliver it (`parse`). The next offset is kept unless `keep`
/// is false; Telegram forgets the updates before it once it is asked with it.
pub fn poll(timeout: u32, limit: u32, keep: bool) -> Result<Value> {
    let offset = match kv::get_string(OFFSET_KEY)? {
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| Error::provider(format!("the kept update offset is not a number: {text:?}")))?,
        ),
        None => None,
    };
    let timeout = timeout.min(50);
    let mut body = json!({ "timeout": timeout, "limit": limit.clamp(1, 100) });
    if let Some(offset) = offset {
        body["offset"] = json!(offset);
    }
    let updates: Vec<Value> = crate::api::client()?
        .post("getUpdates")
        .body_json(&body)?
        // Telegram holds the request for up to `timeout` seconds.
        .timeout_ms(timeout * 1000 + 15_000)
        .json::<Answer>()?
        .result;
    let mut next = offset;
    let mut events = Vec::new();
    for update in &updates {
        let id = update
            .get("update_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::provider("Telegram sent an update without update_id"))?;
        next = Some(next.map_or(id + 1, |n: i64| n.max(id + 1)));
        for event in parse(update.to_string().as_bytes())? {
            events.push(json!({
                "update-id": id,
                "event-type": event.event_type,
                "provider-event-type": event.provider_event_type,
                "payload": serde_json::from_str::<Value>(&event.payload_json).unwrap_or(Value::Null),
                "occurred-at": event.occurred_at,
            }));
        }
    }
    if keep && let Some(next) = next {
        kv::set(OFFSET_KEY, next.to_string().as_bytes(), None)?;
    }
    Ok(json!({ "updates": events, "offset": next }))
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    result: Vec<Value>,
}

/// `setWebhook`: Telegram keeps one URL per bot; the secret token goes in
/// the query as a placeholder the host fills in.
pub fn register(url: String, events: Vec<String>) -> Result<Registration> {
    // Deliveries could not be verified without the secret: say so first.
    if crypto::verify_secret(SECRET, "").is_err() {
        return Err(Error::Config(format!(
            "set the `{SECRET}` credential (1-256 of A-Z, a-z, 0-9, _ and -), and make it a signing field of the \
             connection, to receive updates"
        )));
    }
    let events: Vec<String> = if events.is_empty() {
        DEFAULT_UPDATES.iter().map(|e| e.to_string()).collect()
    } else {
        events
    };
    if let Some(unknown) = events.iter().find(|e| !UPDATE_TYPES.contains(&e.as_str())) {
        return Err(Error::Validation(format!(
            "{unknown:?} is not a Telegram update type ({})",
            UPDATE_TYPES.join(", ")
        )));
    }
    let answer: Value = client()?
        .post("setWebhook")
        .query("url", &url)
        .query("secret_token", format!("{{{{secret.{SECRET}}}}}"))
        .query("allowed_updates", json!(events).to_string())
        .json()?;
    if answer["ok"] != true {
        return Err(Error::provider(format!("Telegram did not set the webhook: {answer}")));
    }
    Ok(Registration {
        id: url.clone(),
        url,
        events,
        active: true,
    })
}

#[derive(Deserialize)]
struct WebhookInfo {
    #[serde(default)]
    url: String,
    #[serde(default)]
    allowed_updates: Option<Vec<String>>,
    #[serde(default)]
    last_error_message: Option<String>,
}

/// `getWebhookInfo`: the bot's one webhook, when it has one; failing while
/// Telegram reports a delivery error.
pub fn list_registrations() -> Result<Vec<Registration>> {
    let info: WebhookInfo = call("getWebhookInfo", &json!({}))?;
    if info.url.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Registration {
        id: info.url.clone(),
        url: info.url,
        events: info
            .allowed_updates
            .unwrap_or_else(|| DEFAULT_UPDATES.iter().map(|e| e.to_string()).collect()),
        active: info.last_error_message.is_none(),
    }])
}

/// `deleteWebhook`, when `id` is the bot's webhook URL.
pub fn unregister(id: String) -> Result<()> {
    let info: WebhookInfo = call("getWebhookInfo", &json!({}))?;
    if info.url.is_empty() || info.url != id {
        return Err(Error::NotFound(format!("the bot has no webhook {id:?}")));
    }
    let _: bool = call("deleteWebhook", &json!({}))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_become_events() {
        let body = br#"{"update_id": 10000, "message": {"message_id": 1365, "from": {"id": 1111111, "is_bot": false, "first_name": "Ana", "last_name": "Pop", "username": "ana"}, "chat": {"id": 1111111, "type": "private", "first_name": "Ana"}, "date": 1764496800, "text": "/start"}}"#;
        let events = parse(body).unwrap();
        assert_eq!(events[0].event_type, "message.received");
        assert_eq!(events[0].idempotency_key, "update:10000");
        assert_eq!(events[0].occurred_at.as_deref(), Some("2025-11-30T10:00:00Z"));
        let message: Value = serde_json::from_str(&events[0].payload_json).unwrap();
        assert_eq!(message["message-id"], "1111111:1365");
        assert_eq!(message["sender-name"], "Ana Pop");
        assert_eq!(message["body"], "/start");

        let click = br#"{"update_id": 10001, "callback_query": {"id": "4382bfdwdsb323b2d9", "from": {"id": 7, "first_name": "Ion"}, "message": {"message_id": 5, "chat": {"id": -100, "type": "group", "title": "Shop"}, "date": 1764496800, "text": "Pick"}, "data": "size:M"}}"#;
        let events = parse(click).unwrap();
        let message: Value = serde_json::from_str(&events[0].payload_json).unwrap();
        assert_eq!(
            (message["body"].as_str(), message["sender"].as_str()),
            (Some("size:M"), Some("7"))
        );

        let poll = br#"{"update_id": 10002, "poll": {"id": "1", "question": "?"}}"#;
        assert_eq!(parse(poll).unwrap()[0].event_type, "unknown");
        assert!(matches!(parse(b"{}"), Err(Error::Validation(_))));
        assert!(matches!(parse(br#"{"update_id": 1}"#), Err(Error::Validation(_))));
    }
}
