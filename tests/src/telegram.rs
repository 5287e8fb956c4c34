//! A Telegram Bot API mock, written from the Bot API docs
//! (<https://core.telegram.org/bots/api>):
//!
//! - `/bot{token}/{method}`, parameters as JSON, a query string, or
//!   `multipart/form-data` (uploads); every answer `{"ok": true, "result"}`
//!   or `{"ok": false, "error_code", "description", "parameters":
//!   {"retry_after"}}` — a wrong token is 401 `Unauthorized`, an unknown
//!   chat 400 `Bad Request: chat not found`, a text over 4096 characters 400
//!   `Bad Request: message is too long`, a blocked bot 403, flood control 429
//!   with `retry_after` in the body.
//! - `getMe`, `sendMessage`, `sendPhoto`, `sendDocument` (multipart; the
//!   caption at most 1024 characters), `setWebhook` (`url`, `secret_token`,
//!   `allowed_updates`), `getWebhookInfo`, `deleteWebhook`.
//! - Updates delivered to the webhook as Telegram delivers them: a POST of
//!   the `Update` with `X-Telegram-Bot-Api-Secret-Token` set to the
//!   `secret_token` the bot gave `setWebhook`.

// Handlers return ready responses as their early-exit errors, as axum does.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

use crate::mock::RunningServer;

/// The bot's token.
pub const TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";
/// A private chat with a user.
pub const USER_CHAT: i64 = 1_111_111;
/// A group.
pub const GROUP_CHAT: i64 = -1_001_234_567_890;
/// A user who blocked the bot.
pub const BLOCKED_CHAT: i64 = 2_222_222;
/// A public channel, by its name.
pub const CHANNEL: &str = "@patchbay_news";

/// One message the bot sent, as the mock keeps it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// The method that sent it.
    pub method: String,
    /// Its parameters (text fields of an upload).
    pub params: Value,
    /// An upload's file: field, filename, content type, bytes.
    pub file: Option<(String, String, String, Vec<u8>)>,
}

#[derive(Default)]
struct Inner {
    sent: Vec<SentMessage>,
    next_message: i64,
    webhook: Option<(String, String, Value)>,
    throttle: u32,
    /// Updates waiting for `getUpdates`, oldest first.
    pending: Vec<Value>,
    next_update: i64,
    /// The offsets `getUpdates` was asked with.
    offsets: Vec<Option<i64>>,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Inner>>);

/// A running Bot API mock.
pub struct MockTelegram {
    server: RunningServer,
    shared: Shared,
}

impl MockTelegram {
    /// Starts the mock on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let shared = Shared::default();
        let router = Router::new()
            .route("/{bot}/{method}", any(method))
            .with_state(shared.clone());
        Ok(Self {
            server: RunningServer::start(router, 0).await?,
            shared,
        })
    }

    /// The `api_base` setting.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// What the bot sent, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.0.lock().expect("mock state").sent.clone()
    }

    /// A user writes `text` to the bot in `chat`: an update for `getUpdates`.
    pub fn incoming(&self, chat: i64, text: &str) {
        let mut inner = self.shared.0.lock().expect("mock state");
        inner.next_update += 1;
        inner.next_message += 1;
        let update = json!({
            "update_id": 1000 + inner.next_update,
            "message": {
                "message_id": inner.next_message,
                "from": {"id": chat, "is_bot": false, "first_name": "Ada", "username": "ada"},
                "chat": {"id": chat, "type": "private", "username": "ada"},
                "date": chrono::Utc::now().timestamp(),
                "text": text,
            },
        });
        inner.pending.push(update);
    }

    /// The offsets `getUpdates` was asked with, in order.
    pub fn offsets(&self) -> Vec<Option<i64>> {
        self.shared.0.lock().expect("mock state").offsets.clone()
    }

    /// The webhook: URL, secret token, allowed updates.
    pub fn webhook(&self) -> Option<(String, String, Value)> {
        self.shared.0.lock().expect("mock state").webhook.clone()
    }

    /// The next `n` sends hit flood control.
    pub fn throttle(&self, n: u32) {
        self.shared.0.lock().expect("mock state").throttle = n;
    }

    /// Delivers an update to the webhook as Telegram does; the status.
    pub async fn deliver(&self, update: &Value) -> u16 {
        let (url, secret, _) = self.webhook().expect("a webhook is set");
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("x-telegram-bot-api-secret-token", secret)
            .body(update.to_string())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

fn ok(result: Value) -> Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn refuse(status: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({ "ok": false, "error_code": status, "description": description });
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
    (StatusCode::from_u16(status).expect("a status"), axum::Json(body)).into_response()
}

/// A method's parameters and an upload's file, from any of the three
/// encodings.
async fn params(
    query: Option<String>,
    request: Request,
) -> Result<(Value, Option<(String, String, String, Vec<u8>)>), String> {
    let mut params = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned() {
        params.insert(k, json!(v));
    }
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut file = None;
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, &()).await.map_err(|e| e.body_text())?;
        while let Some(field) = form.next_field().await.map_err(|e| e.to_string())? {
            let name = field.name().unwrap_or_default().to_string();
            let filename = field.file_name().map(str::to_string);
            let part_type = field.content_type().unwrap_or_default().to_string();
            let data = field.bytes().await.map_err(|e| e.to_string())?;
            match filename {
                Some(filename) => file = Some((name, filename, part_type, data.to_vec())),
                None => {
                    params.insert(name, json!(String::from_utf8_lossy(&data)));
                }
            }
        }
    } else {
        let body = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .map_err(|e| e.to_string())?;
        if !body.is_empty() {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(map)) => params.extend(map),
                _ => return Err("Bad Request: can't parse JSON object".into()),
            }
        }
    }
    Ok((Value::Object(params), file))
}

fn chat(params: &Value) -> Result<Value, Response> {
    let chat = match &params["chat_id"] {
        Value::Number(n) => n.as_i64().map(Value::from),
        Value::String(s) if s.starts_with('@') => Some(json!(s)),
        Value::String(s) => s.parse::<i64>().ok().map(Value::from),
        _ => None,
    };
    match chat {
        Some(chat) if chat == BLOCKED_CHAT => Err(refuse(403, "Forbidden: bot was blocked by the user", None)),
        Some(chat) if chat == USER_CHAT || chat == GROUP_CHAT || chat == CHANNEL => Ok(chat),
        Some(_) => Err(refuse(400, "Bad Request: chat not found", None)),
        None => Err(refuse(400, "Bad Request: chat_id is empty", None)),
    }
}

async fn method(
    State(shared): State<Shared>,
    Path((bot, method)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return refuse(401, "Unauthorized", None);
    }
    let (params, file) = match params(query, request).await {
        Ok(parsed) => parsed,
        Err(why) => return refuse(400, &why, None),
    };
    let mut inner = shared.0.lock().expect("mock state");
    match method.as_str() {
        "getMe" => ok(json!({"id": 123456, "is_bot": true, "first_name": "Patchbay", "username": "patchbay_bot"})),
        "sendMessage" | "sendPhoto" | "sendDocument" => {
            if inner.throttle > 0 {
                inner.throttle -= 1;
                return refuse(429, "Too Many Requests: retry after 1", Some(json!({"retry_after": 1})));
            }
            let chat = match chat(&params) {
                Ok(chat) => chat,
                Err(refusal) => return refusal,
            };
            let text = params["text"].as_str().unwrap_or_default();
            let caption = params["caption"].as_str().unwrap_or_default();
            if method == "sendMessage" && text.is_empty() {
                return refuse(400, "Bad Request: message text is empty", None);
            }
            if text.chars().count() > 4096 {
                return refuse(400, "Bad Request: message is too long", None);
            }
            if caption.chars().count() > 1024 {
                return refuse(400, "Bad Request: message caption is too long", None);
            }
            let field = if method == "sendPhoto" { "photo" } else { "document" };
            if method != "sendMessage" && file.as_ref().is_none_or(|(name, ..)| name != field) {
                return refuse(400, &format!("Bad Request: there is no {field} in the request"), None);
            }
            if params["parse_mode"].as_str() == Some("HTML")
                && let Err(why) = html_entities(if text.is_empty() { caption } else { text })
            {
                return refuse(400, &format!("Bad Request: can't parse entities: {why}"), None);
            }
            inner.next_message += 1;
            let message_id = inner.next_message;
            inner.sent.push(SentMessage {
                method: method.clone(),
                params: params.clone(),
                file,
            });
            ok(json!({
                "message_id": message_id,
                "from": {"id": 123456, "is_bot": true, "first_name": "Patchbay", "username": "patchbay_bot"},
                "chat": {"id": chat, "type": if chat == USER_CHAT { "private" } else { "group" }},
                "date": chrono::Utc::now().timestamp(),
                "text": params["text"],
            }))
        }
        "setWebhook" => {
            let url = params["url"].as_str().unwrap_or_default().to_string();
            let secret = params["secret_token"].as_str().unwrap_or_default().to_string();
            if !url.starts_with("http") {
                return refuse(
                    400,
                    "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
                    None,
                );
            }
            if secret.is_empty()
                || secret.len() > 256
                || !secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return refuse(400, "Bad Request: secret token contains unallowed characters", None);
            }
            let allowed = params["allowed_updates"]
                .as_str()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_else(|| params["allowed_updates"].clone());
            inner.webhook = Some((url, secret, allowed));
            axum::Json(json!({"ok": true, "result": true, "description": "Webhook was set"})).into_response()
        }
        // https://core.telegram.org/bots/api#getupdates: an offset confirms
        // every update before it; while a webhook is set, 409.
        "getUpdates" => {
            if inner.webhook.is_some() {
                return refuse(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                    None,
                );
            }
            let offset = params["offset"].as_i64();
            inner.offsets.push(offset);
            if let Some(offset) = offset {
                inner
                    .pending
                    .retain(|u| u["update_id"].as_i64().unwrap_or_default() >= offset);
            }
            let limit = params["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
            ok(Value::Array(inner.pending.iter().take(limit).cloned().collect()))
        }
        "getWebhookInfo" => {
            let (url, _, allowed) = inner.webhook.clone().unwrap_or_default();
            let mut info = json!({"url": url, "has_custom_certificate": false, "pending_update_count": 0});
            if !allowed.is_null() {
                info["allowed_updates"] = allowed;
            }
            ok(info)
        }
        "deleteWebhook" => {
            inner.webhook = None;
            axum::Json(json!({"ok": true, "result": true, "description": "Webhook was deleted"})).into_response()
        }
        _ => refuse(404, "Not Found", None),
    }
}

/// Checks Telegram's HTML subset as its parser does: supported tags only,
/// each closed in order.
fn html_entities(text: &str) -> Result<(), String> {
    const TAGS: &[&str] = &[
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    ];
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            return Err("Unclosed start tag".into());
        };
        let tag = &rest[start + 1..start + end];
        let name = tag
            .trim_start_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        if !TAGS.contains(&name.as_str()) {
            return Err(format!("Unsupported start tag \"{name}\""));
        }
        if tag.starts_with('/') {
            if open.pop().as_deref() != Some(name.as_str()) {
                return Err(format!("Unmatched end tag \"{name}\""));
            }
        } else {
            open.push(name);
        }
        rest = &rest[start + end + 1..];
    }
    match open.pop() {
        Some(name) => Err(format!("Can't find end tag corresponding to start tag \"{name}\"")),
        None => Ok(()),
    }
}

/// An update carrying a user's text message in the private chat.
pub fn text_update(update_id: i64, message_id: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": USER_CHAT, "is_bot": false, "first_name": "Ana", "last_name": "Pop", "username": "ana", "language_code": "ro"},
            "chat": {"id": USER_CHAT, "first_name": "Ana", "last_name": "Pop", "username": "ana", "type": "private"},
            "date": 1_764_496_800,
            "text": text,
        }
    })
}

/// Parameters as the mock saw them, by name.
pub fn param<'a>(message: &'a SentMessage, name: &str) -> Option<&'a Value> {
    message.params.get(name).filter(|v| !v.is_null())
}
