//! Receiving by `/sync` (<https://spec.matrix.org/v1.16/client-server-api/#syncing>):
//! the `since` token kept in `kv`, rooms the account is invited to joined
//! when the connection says so, and each `m.room.message` of the joined
//! rooms' timelines (not the account's own) as an inbound message.

use patchbay_sdk::prelude::*;
use patchbay_sdk::time::rfc3339;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::{authorized, segment, user_id};

/// Where the `since` token of the next sync is kept.
pub const SINCE_KEY: &str = "sync.since";
/// Events a room's timeline holds on the first sync.
const FIRST_SYNC_LIMIT: u32 = 50;
/// The longest a sync may wait for news.
pub const MAX_WAIT_MS: u32 = 25_000;

#[derive(Deserialize, Default)]
struct Sync {
    next_batch: String,
    #[serde(default)]
    rooms: Rooms,
}

#[derive(Deserialize, Default)]
struct Rooms {
    #[serde(default)]
    join: Map<String, Value>,
    #[serde(default)]
    invite: Map<String, Value>,
}

/// What a sync found.
pub struct Received {
    /// Messages of others, oldest first.
    pub messages: Vec<InboundMessage>,
    /// Rooms joined on invitation.
    pub joined: Vec<String>,
    /// Rooms the account was invited to and did not join.
    pub invited: Vec<String>,
    /// The token the next sync starts from.
    pub next_batch: String,
    /// Whether some room's timeline was cut (`limited`): older messages
    /// were left out by the homeserver.
    pub gaps: Vec<String>,
}

/// One event of a room's timeline as an inbound message; `None` for
/// events that are not messages, and for the account's own.
pub fn inbound(room: &str, event: &Value, own: &str) -> Option<InboundMessage> {
    if event.get("type")?.as_str()? != "m.room.message" {
        return None;
    }
    let sender = event.get("sender")?.as_str()?;
    if sender == own {
        return None;
    }
    let content = event.get("content")?;
    let body = content.get("body").and_then(Value::as_str).unwrap_or_default();
    let mut extra = Map::new();
    for field in ["msgtype", "format", "formatted_body", "url", "info", "m.relates_to"] {
        if let Some(value) = content.get(field) {
            extra.insert(field.to_string(), value.clone());
        }
    }
    Some(InboundMessage {
        message_id: event.get("event_id")?.as_str()?.to_string(),
        channel: Channel::Chat,
        sender: sender.to_string(),
        sender_name: String::new(),
        conversation_id: room.to_string(),
        body: body.to_string(),
        received_at: event
            .get("origin_server_ts")
            .and_then(Value::as_i64)
            .map(|ms| rfc3339(ms.div_euclid(1000))),
        attachments: Vec::new(),
        extra: Value::Object(extra).to_string(),
        provider_meta: ProviderMeta {
            provider: "matrix".into(),
            raw_id: event.get("event_id")?.as_str()?.to_string(),
            raw_payload: event.to_string(),
        },
    })
}

/// Syncs once: from `since` (or the kept token), waiting up to `wait_ms`
/// for news; keeps the new token unless `keep` is false.
pub fn sync(since: Option<String>, wait_ms: u32, keep: bool) -> Result<Received> {
    let since = match since {
        Some(since) => Some(since),
        None => kv::get_string(SINCE_KEY)?,
    };
    let filter = json!({
        "room": {
            "timeline": { "limit": FIRST_SYNC_LIMIT, "types": ["m.room.message"] },
            "state": { "lazy_load_members": true },
            "ephemeral": { "not_types": ["*"] },
        },
        "presence": { "not_types": ["*"] },
        "account_data": { "not_types": ["*"] },
    })
    .to_string();
    let wait = wait_ms.min(MAX_WAIT_MS);
    let sync: Sync = authorized(|| {
        Ok(crate::api::client()?
            .get("sync")
            .query("filter", &filter)
            .query_opt("since", since.as_deref())
            .query("timeout", wait.to_string())
            // The homeserver may hold the request for `wait` ms.
            .timeout_ms(wait + 15_000))
    })?
    .json()?;
    let own = user_id()?;
    let auto_join = config::get_or("auto_join", "true")? != "false";
    let mut joined = Vec::new();
    let mut invited = Vec::new();
    for room in sync.rooms.invite.keys() {
        if auto_join {
            authorized(|| {
                crate::api::client()?
                    .post(&format!("rooms/{}/join", segment(room)))
                    .body_json(&json!({}))
            })?;
            joined.push(room.clone());
        } else {
            invited.push(room.clone());
        }
    }
    let mut messages = Vec::new();
    let mut gaps = Vec::new();
    for (room, state) in &sync.rooms.join {
        let timeline = state.get("timeline");
        if timeline.and_then(|t| t.get("limited")).and_then(Value::as_bool) == Some(true) && since.is_some() {
            gaps.push(room.clone());
        }
        let events = timeline.and_then(|t| t.get("events")).and_then(Value::as_array);
        messages.extend(
            events
                .into_iter()
                .flatten()
                .filter_map(|event| inbound(room, event, &own)),
        );
    }
    messages.sort_by(|a, b| a.received_at.cmp(&b.received_at));
    if keep && !sync.next_batch.is_empty() {
        kv::set(SINCE_KEY, sync.next_batch.as_bytes(), None)?;
    }
    Ok(Received {
        messages,
        joined,
        invited,
        next_batch: sync.next_batch,
        gaps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_messages_of_others_become_inbound_messages() {
        let event = json!({
            "type": "m.room.message", "event_id": "$ev1", "sender": "@reader:localhost",
            "origin_server_ts": 1_796_119_200_123_i64,
            "content": {"msgtype": "m.text", "body": "hello bot", "format": "org.matrix.custom.html", "formatted_body": "<b>hello</b> bot"}
        });
        let message = inbound("!room:localhost", &event, "@bot:localhost").unwrap();
        assert_eq!(message.message_id, "$ev1");
        assert_eq!(message.conversation_id, "!room:localhost");
        assert_eq!(message.body, "hello bot");
        assert_eq!(message.received_at.as_deref(), Some("2026-12-01T10:00:00Z"));
        let extra: Value = serde_json::from_str(&message.extra).unwrap();
        assert_eq!(extra["formatted_body"], "<b>hello</b> bot");
        assert!(
            inbound("!r", &event, "@reader:localhost").is_none(),
            "not the account's own"
        );
        let member = json!({"type": "m.room.member", "event_id": "$m", "sender": "@x:y", "content": {}});
        assert!(inbound("!r", &member, "@bot:localhost").is_none());
    }
}
