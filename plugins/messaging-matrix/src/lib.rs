//! Patchbay plugin for Matrix (<https://spec.matrix.org/v1.16/client-server-api/>),
//! on any homeserver: text and HTML messages, files and images, replies,
//! and messages received by `/sync` (the `actions` capability: `sync`,
//! `join`). The account logs in with a password the host fills into the
//! login request; the plugin never reads it. The manifest is `patchbay.toml`.

/// The client-server API, the login, Matrix's errors.
pub mod api;
/// Receiving by `/sync`.
pub mod sync;

use patchbay_sdk::delivery::send_each;
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authorized, segment};

/// The Matrix adapter.
pub struct Matrix;

#[derive(Deserialize)]
struct Sent {
    event_id: String,
}

#[derive(Deserialize)]
struct Resolved {
    room_id: String,
}

#[derive(Deserialize)]
struct Uploaded {
    content_uri: String,
}

/// A room id (`!opaque:server`, or `!opaque` from room version 12 on) as it
/// is, an alias (`#name:server`) resolved through the directory.
fn room_id(to: &str) -> Result<String> {
    let to = to.trim();
    match to.chars().next() {
        Some('!') if to.len() > 1 && !to.contains(char::is_whitespace) => Ok(to.to_string()),
        Some('#') if to.contains(':') => {
            let resolved: Resolved =
                authorized(|| Ok(api::client()?.get(&format!("directory/room/{}", segment(to)))))?.json()?;
            Ok(resolved.room_id)
        }
        _ => Err(Error::Validation(format!(
            "{to:?} is not a Matrix room: a room id (!id) or an alias (#name:server)"
        ))),
    }
}

/// The transaction id of one event of a message: the same message (by its
/// id) gives the same transaction, so the homeserver answers a repeat —
/// the host's retry, or the caller's — with the first event, not a second.
pub fn transaction_id(message_id: &str, room: &str, part: usize) -> String {
    // FNV-1a over the three: stable across builds, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in message_id
        .bytes()
        .chain([0])
        .chain(room.bytes())
        .chain([0])
        .chain(part.to_le_bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let id: String = message_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    format!("patchbay.{id}.{part}.{hash:016x}")
}

/// Puts one event into a room under its transaction id.
fn put_event(room: &str, txn: &str, event_type: &str, content: &Value) -> Result<String> {
    let sent: Sent = authorized(|| {
        api::client()?
            .put(&format!(
                "rooms/{}/send/{}/{}",
                segment(room),
                segment(event_type),
                segment(txn)
            ))
            .body_json(content)
    })?
    .json()?;
    Ok(sent.event_id)
}

/// Uploads a file; its `mxc://` URI.
fn upload(attachment: &Attachment) -> Result<String> {
    let uploaded: Uploaded = authorized(|| {
        Ok(api::media()?
            .post("upload")
            .query("filename", &attachment.filename)
            .header("Content-Type", attachment.content_type.as_str())
            .body(attachment.data.clone())
            // An upload creates a new file each time: never repeated blindly.
            .no_retry())
    })?
    .json()?;
    Ok(uploaded.content_uri)
}

/// The content of a text message, HTML when there is some, in reply to an
/// event when asked.
fn text_content(body: &str, html: Option<&str>, reply_to: Option<&str>) -> Value {
    let mut content = json!({ "msgtype": "m.text", "body": body });
    if let Some(html) = html.filter(|h| !h.trim().is_empty()) {
        content["format"] = json!("org.matrix.custom.html");
        content["formatted_body"] = json!(html);
    }
    if let Some(event) = reply_to.filter(|e| e.starts_with('$')) {
        content["m.relates_to"] = json!({ "m.in_reply_to": { "event_id": event } });
    }
    content
}

/// Sends `message` into one room: its files first (images as `m.image`,
/// the rest as `m.file`), then its text; the event ids.
fn send_to_room(room: &str, message: &OutboundMessage, reply_to: Option<&str>) -> Result<Vec<String>> {
    let mut events = Vec::new();
    let mut part = 0;
    for attachment in &message.attachments {
        let uri = upload(attachment)?;
        let msgtype = if attachment.content_type.starts_with("image/") {
            "m.image"
        } else {
            "m.file"
        };
        let content = json!({
            "msgtype": msgtype,
            "body": attachment.filename,
            "url": uri,
            "info": { "mimetype": attachment.content_type, "size": attachment.data.len() },
        });
        events.push(put_event(
            room,
            &transaction_id(&message.message_id, room, part),
            "m.room.message",
            &content,
        )?);
        part += 1;
    }
    let text = message.body.trim();
    if !text.is_empty() || message.html_body.is_some() || message.attachments.is_empty() {
        if text.is_empty() && message.html_body.as_deref().is_none_or(|h| h.trim().is_empty()) {
            return Err(Error::Validation("the message has no text and no attachment".into()));
        }
        let content = text_content(&message.body, message.html_body.as_deref(), reply_to);
        events.push(put_event(
            room,
            &transaction_id(&message.message_id, room, part),
            "m.room.message",
            &content,
        )?);
    }
    Ok(events)
}

fn report(events: Vec<String>) -> DeliveryReport {
    DeliveryReport {
        message_id: events.join(","),
        status: DeliveryStatus::Sent,
        error: None,
        delivered_at: Some(patchbay_sdk::time::rfc3339(patchbay_sdk::time::now())),
    }
}

impl Connector for Matrix {
    fn test_connection() -> Result<ConnectionTest> {
        #[derive(Deserialize)]
        struct WhoAmI {
            user_id: String,
        }
        match authorized(|| Ok(api::client()?.get("account/whoami"))) {
            Ok(response) => {
                let who: WhoAmI = response.json()?;
                patchbay_sdk::client::connected(format!("Logged in as {}", who.user_id))
            }
            Err(Error::Auth(why)) => patchbay_sdk::client::refused(format!("the homeserver refused the login: {why}")),
            Err(other) => Err(other),
        }
    }
}

impl Messaging for Matrix {
    fn send(message: OutboundMessage) -> Result<DeliveryReport> {
        if message.to.is_empty() {
            return Err(Error::Validation("to: at least one room is needed".into()));
        }
        let mut events = Vec::new();
        for to in &message.to {
            let room = room_id(to)?;
            events.extend(send_to_room(&room, &message, message.reply_to.as_deref())?);
        }
        Ok(report(events))
    }

    fn send_bulk(messages: Vec<OutboundMessage>) -> Result<Vec<DeliveryReport>> {
        send_each(&messages, |message| <Matrix as Messaging>::send(message.clone()))
    }

    fn reply(to: InboundMessage, body: String) -> Result<DeliveryReport> {
        if to.conversation_id.is_empty() {
            return Err(Error::Validation("the received message names no room".into()));
        }
        let room = room_id(&to.conversation_id)?;
        let content = text_content(&body, None, Some(&to.message_id));
        let event = put_event(
            &room,
            &transaction_id(&format!("reply-{}-{body}", to.message_id), &room, 0),
            "m.room.message",
            &content,
        )?;
        Ok(report(vec![event]))
    }
}

impl Actions for Matrix {
    fn list_actions() -> Vec<ActionSpec> {
        vec![
            ActionSpec {
                name: "sync".into(),
                description: "Receives what happened since the last sync: the messages of others in joined rooms \
                              (inbound messages, oldest first), and rooms joined on invitation. The next sync \
                              starts where this one ended (kept by the connection) unless `since` is given."
                    .into(),
                input_schema: json!({
                    "type": "object",
                    "properties": {
                        "since": { "type": "string", "description": "A next-batch token to sync from instead of the kept one." },
                        "wait-ms": { "type": "integer", "minimum": 0, "maximum": sync::MAX_WAIT_MS, "description": "How long the homeserver may wait for news (long polling); 0 answers at once." },
                        "keep": { "type": "boolean", "description": "Whether to keep the new token for the next sync (default true)." },
                    },
                    "additionalProperties": false,
                })
                .to_string(),
                output_schema: json!({
                    "type": "object",
                    "properties": {
                        "messages": { "type": "array", "items": { "type": "object" } },
                        "joined": { "type": "array", "items": { "type": "string" } },
                        "invited": { "type": "array", "items": { "type": "string" } },
                        "gaps": { "type": "array", "items": { "type": "string" } },
                        "next-batch": { "type": "string" },
                    },
                })
                .to_string(),
            },
            ActionSpec {
                name: "join".into(),
                description: "Joins a room by id or alias.".into(),
                input_schema: json!({
                    "type": "object",
                    "properties": { "room": { "type": "string" } },
                    "required": ["room"],
                    "additionalProperties": false,
                })
                .to_string(),
                output_schema: json!({ "type": "object", "properties": { "room-id": { "type": "string" } } })
                    .to_string(),
            },
        ]
    }

    fn execute(name: String, input: Json) -> Result<Json> {
        let input: Value = if input.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&input).map_err(|e| Error::Validation(format!("input: not valid JSON: {e}")))?
        };
        let object = input
            .as_object()
            .ok_or_else(|| Error::Validation("input: expected a JSON object".into()))?;
        match name.as_str() {
            "sync" => {
                if let Some(unknown) = object
                    .keys()
                    .find(|k| !["since", "wait-ms", "keep"].contains(&k.as_str()))
                {
                    return Err(Error::Validation(format!("input.{unknown}: not an input of sync")));
                }
                let since = match object.get("since") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(_) => return Err(Error::Validation("input.since: expected a string".into())),
                };
                let wait = match object.get("wait-ms") {
                    None | Some(Value::Null) => 0,
                    Some(v) => v.as_u64().and_then(|v| u32::try_from(v).ok()).ok_or_else(|| {
                        Error::Validation("input.wait-ms: expected a whole number of milliseconds".into())
                    })?,
                };
                let keep = match object.get("keep") {
                    None | Some(Value::Null) => true,
                    Some(Value::Bool(keep)) => *keep,
                    Some(_) => return Err(Error::Validation("input.keep: expected true or false".into())),
                };
                let received = sync::sync(since, wait, keep)?;
                let messages: Vec<Value> = received.messages.iter().map(inbound_json).collect();
                Ok(json!({
                    "messages": messages,
                    "joined": received.joined,
                    "invited": received.invited,
                    "gaps": received.gaps,
                    "next-batch": received.next_batch,
                })
                .to_string())
            }
            "join" => {
                let room = object
                    .get("room")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Error::Validation("input.room: required, a room id or alias".into()))?;
                #[derive(Deserialize)]
                struct Joined {
                    room_id: String,
                }
                let joined: Joined = authorized(|| {
                    api::client()?
                        .post(&format!("join/{}", segment(room)))
                        .body_json(&json!({}))
                })?
                .json()?;
                Ok(json!({ "room-id": joined.room_id }).to_string())
            }
            other => Err(Error::Unsupported(format!(
                "{other:?} is not an action of matrix (sync, join)"
            ))),
        }
    }
}

/// An inbound message in the contract's JSON shape, as `messaging.reply`
/// takes it back.
fn inbound_json(message: &InboundMessage) -> Value {
    json!({
        "message-id": message.message_id,
        "channel": "chat",
        "sender": message.sender,
        "sender-name": message.sender_name,
        "conversation-id": message.conversation_id,
        "body": message.body,
        "received-at": message.received_at,
        "attachments": [],
        "extra": message.extra,
        "provider-meta": {
            "provider": message.provider_meta.provider,
            "raw-id": message.provider_meta.raw_id,
            "raw-payload": message.provider_meta.raw_payload,
        },
    })
}

patchbay_sdk::export!(Matrix: messaging, actions);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_are_stable_per_message_room_and_part() {
        let a = transaction_id("order-1001", "!room:localhost", 0);
        assert_eq!(a, transaction_id("order-1001", "!room:localhost", 0));
        assert_ne!(a, transaction_id("order-1001", "!room:localhost", 1));
        assert_ne!(a, transaction_id("order-1001", "!other:localhost", 0));
        assert!(a.starts_with("patchbay.order-1001.0."));
        let odd = transaction_id("a/b c", "!r:l", 0);
        assert!(
            odd.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
            "{odd}"
        );
    }

    #[test]
    fn text_replies_and_html() {
        let content = text_content("hi", Some("<b>hi</b>"), Some("$ev"));
        assert_eq!(content["format"], "org.matrix.custom.html");
        assert_eq!(content["m.relates_to"]["m.in_reply_to"]["event_id"], "$ev");
        assert!(text_content("hi", None, None).get("m.relates_to").is_none());
    }
}
