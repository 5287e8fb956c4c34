//! A mock Discord REST API v10 (`/api/v10`), serving what the real one
//! serves: `Authorization: Bot <token>`, message objects with snowflake ids,
//! JSON and `multipart/form-data` (`payload_json` + `files[n]`) creates,
//! `enforce_nonce` (the same nonce returns the message already created),
//! Discord's error bodies `{"code": 10003, "message": "Unknown Channel"}`,
//! form errors (`50035` with nested `_errors`), and 429s with `retry_after`
//! in the body plus `X-RateLimit-*` and `Retry-After` headers.
//!
//! And the interactions side: the application (`GET|PATCH
//! /applications/@me`, whose `verify_key` is the public key), an
//! Interactions Endpoint URL that is checked as Discord checks it before
//! accepting it (a signed PING must get a PONG, a badly signed one a 401),
//! interactions sent as Discord sends them (Ed25519 over timestamp + body,
//! `X-Signature-Ed25519`, `X-Signature-Timestamp`), and edits of an
//! interaction's original response (`PATCH
//! /webhooks/{application}/{token}/messages/@original`).

// Handlers return ready responses as their early-exit errors, as axum does.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};

use crate::mock::RunningServer;

/// The bot token the mock accepts.
pub const BOT_TOKEN: &str = "MTk4NjIyNDgzNDcxOTI1MjQ4.Gm3X1a.mock-bot-token";
/// A channel the bot may post in.
pub const CHANNEL: &str = "1100000000000000001";
/// A second channel the bot may post in.
pub const OTHER_CHANNEL: &str = "1100000000000000002";
/// A channel id that does not exist (`10003 Unknown Channel`).
pub const UNKNOWN_CHANNEL: &str = "1199999999999999999";
/// A channel whose route bucket is exhausted: every create gets a 429.
pub const LIMITED_CHANNEL: &str = "1100000000000000429";

/// The application's id (the bot's application).
pub const APPLICATION_ID: &str = "1098765432101234567";
/// The seed of the application's Ed25519 key (its public key is the
/// application's `verify_key`).
const APPLICATION_SEED: [u8; 32] = [0x5a; 32];

fn application_key() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&APPLICATION_SEED).expect("a 32-byte seed")
}

/// The application's public key, hex, as the developer portal shows it.
pub fn public_key_hex() -> String {
    hex::encode(application_key().public_key().as_ref())
}

/// The signature Discord sends for `timestamp` and `body`, hex.
pub fn sign(timestamp: &str, body: &[u8]) -> String {
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    hex::encode(application_key().sign(&message).as_ref())
}

/// The headers of an interaction request, as Discord sends them.
pub fn interaction_headers(timestamp: &str, signature: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        (
            "user-agent".into(),
            "Discord-Interactions/1.0 (+https://discord.com)".into(),
        ),
        ("x-signature-ed25519".into(), signature.into()),
        ("x-signature-timestamp".into(), timestamp.into()),
    ]
}

/// Now, in Unix seconds, as `X-Signature-Timestamp` carries it.
pub fn now_seconds() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        .to_string()
}

/// A slash command interaction (type 2) in a guild channel, as Discord
/// sends one: `/name` with string options, by a member.
pub fn command_interaction(id: &str, name: &str, options: &[(&str, &str)]) -> Value {
    json!({
        "id": id,
        "application_id": APPLICATION_ID,
        "type": 2,
        "data": {
            "id": "1150000000000000001",
            "name": name,
            "type": 1,
            "options": options.iter().map(|(n, v)| json!({"name": n, "type": 3, "value": v})).collect::<Vec<_>>(),
        },
        "guild_id": "1090000000000000001",
        "channel_id": CHANNEL,
        "channel": { "id": CHANNEL, "type": 0, "name": "general" },
        "member": {
            "user": { "id": "1080000000000000042", "username": "ada", "global_name": "Ada", "discriminator": "0" },
            "roles": [], "permissions": "2248473465835073", "joined_at": "2026-01-02T03:04:05.000000+00:00",
        },
        "token": format!("aW50ZXJhY3Rpb246{id}:mock-interaction-token"),
        "version": 1,
        "app_permissions": "2248473465835073",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": { "0": "1090000000000000001" },
        "context": 0,
    })
}

/// A PING (type 1), as Discord sends one to check an endpoint.
pub fn ping_interaction() -> Value {
    json!({ "id": "1160000000000000001", "application_id": APPLICATION_ID, "type": 1, "version": 1,
            "token": "aW50ZXJhY3Rpb246cGluZw:mock-ping-token" })
}

/// Sends an interaction to `url` signed as Discord signs it (or with
/// `signature` in its place); the status and body of the answer.
pub async fn send_interaction(url: &str, body: &[u8], timestamp: &str, signature: Option<&str>) -> (u16, Vec<u8>) {
    let signature = signature.map_or_else(|| sign(timestamp, body), str::to_string);
    let mut request = reqwest::Client::new().post(url).body(body.to_vec());
    for (name, value) in interaction_headers(timestamp, &signature) {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
        }
        Err(_) => (0, Vec::new()),
    }
}

/// A message the mock created.
#[derive(Debug, Clone)]
pub struct Created {
    /// Its snowflake.
    pub id: String,
    /// The channel.
    pub channel_id: String,
    /// The create body (`payload_json` for uploads).
    pub payload: Value,
    /// Uploaded files: (field name, filename, content type, bytes).
    pub files: Vec<(String, String, String, Vec<u8>)>,
}

#[derive(Default)]
struct Inner {
    created: Vec<Created>,
    /// Creates seen per channel, retried ones included.
    attempts: HashMap<String, u32>,
    next_id: u64,
    /// The application's Interactions Endpoint URL.
    endpoint: Option<String>,
    /// Edits of interactions' original responses: (token, body).
    edits: Vec<(String, Value)>,
}

type Shared = Arc<Mutex<Inner>>;

/// A running mock Discord API.
pub struct MockDiscord {
    server: RunningServer,
    state: Shared,
}

impl MockDiscord {
    /// Starts the mock on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let state: Shared = Arc::default();
        let router = Router::new()
            .route("/api/v10/users/@me", get(me))
            .route("/api/v10/channels/{channel}/messages", post(create_message))
            .route("/api/v10/applications/@me", get(application).patch(edit_application))
            .route(
                "/api/v10/webhooks/{application}/{token}/messages/@original",
                patch(edit_original),
            )
            .with_state(Arc::clone(&state));
        Ok(Self {
            server: RunningServer::start(router, 0).await?,
            state,
        })
    }

    /// The `api_base` setting for the adapter: `http://127.0.0.1:PORT/api/v10`.
    pub fn api_base(&self) -> String {
        format!("{}/api/v10", self.server.url())
    }

    /// Messages created so far, in order.
    pub fn created(&self) -> Vec<Created> {
        self.state.lock().expect("mock state").created.clone()
    }

    /// The application's Interactions Endpoint URL, once one was accepted.
    pub fn interactions_endpoint(&self) -> Option<String> {
        self.state.lock().expect("mock state").endpoint.clone()
    }

    /// Edits of interactions' original responses: (interaction token, body).
    pub fn edits(&self) -> Vec<(String, Value)> {
        self.state.lock().expect("mock state").edits.clone()
    }

    /// Create requests seen for `channel`, retries included.
    pub fn attempts(&self, channel: &str) -> u32 {
        self.state
            .lock()
            .expect("mock state")
            .attempts
            .get(channel)
            .copied()
            .unwrap_or(0)
    }
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, axum::Json(json!({ "code": code, "message": message }))).into_response()
}

fn authorize(headers: &HeaderMap) -> Result<(), Response> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if given == format!("Bot {BOT_TOKEN}") {
        Ok(())
    } else {
        Err(error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized"))
    }
}

async fn me(headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&headers) {
        return refused;
    }
    axum::Json(json!({
        "id": "1098765432101234567",
        "username": "patchbay-bot",
        "discriminator": "0",
        "global_name": null,
        "avatar": null,
        "bot": true,
        "verified": true,
        "flags": 0,
    }))
    .into_response()
}

fn application_object(endpoint: Option<&str>) -> Value {
    json!({
        "id": APPLICATION_ID,
        "name": "Patchbay",
        "icon": null,
        "description": "",
        "bot_public": true,
        "bot_require_code_grant": false,
        "verify_key": public_key_hex(),
        "flags": 0,
        "interactions_endpoint_url": endpoint,
        "bot": { "id": APPLICATION_ID, "username": "patchbay-bot", "bot": true },
    })
}

async fn application(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&headers) {
        return refused;
    }
    let endpoint = state.lock().expect("mock state").endpoint.clone();
    axum::Json(application_object(endpoint.as_deref())).into_response()
}

/// Discord accepts an Interactions Endpoint URL only after checking it: a
/// PING signed by the application must be answered `{"type": 1}`, and one
/// with a bad signature refused with 401.
async fn edit_application(State(state): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(refused) = authorize(&headers) {
        return refused;
    }
    let Ok(edit) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        );
    };
    if let Some(url) = edit.get("interactions_endpoint_url") {
        let url = url.as_str().map(str::to_string);
        if let Some(url) = &url {
            let ping = serde_json::to_vec(&ping_interaction()).expect("JSON serializes");
            let timestamp = now_seconds();
            let (status, answer) = send_interaction(url, &ping, &timestamp, None).await;
            let pong = serde_json::from_slice::<Value>(&answer).is_ok_and(|a| a["type"] == 1);
            let forged = sign(&timestamp, b"something else");
            let (refused, _) = send_interaction(url, &ping, &timestamp, Some(&forged)).await;
            if status != 200 || !pong || refused != 401 {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({
                        "code": 50035,
                        "message": "Invalid Form Body",
                        "errors": { "interactions_endpoint_url": { "_errors": [{
                            "code": "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID",
                            "message": "The specified interactions endpoint url could not be verified."
                        }] } }
                    })),
                )
                    .into_response();
            }
        }
        state.lock().expect("mock state").endpoint = url;
    }
    let endpoint = state.lock().expect("mock state").endpoint.clone();
    axum::Json(application_object(endpoint.as_deref())).into_response()
}

/// Edits an interaction's original response (no bot token needed: the
/// interaction's token is the credential).
async fn edit_original(
    State(state): State<Shared>,
    Path((application, token)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if application != APPLICATION_ID {
        return error(StatusCode::NOT_FOUND, 10002, "Unknown Application");
    }
    if !token.ends_with(":mock-interaction-token") {
        return error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
    }
    let Ok(edit) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        );
    };
    let mut inner = state.lock().expect("mock state");
    inner.next_id += 1;
    let created = Created {
        id: format!("{}", 1_200_000_000_000_000_000u64 + inner.next_id),
        channel_id: CHANNEL.into(),
        payload: edit.clone(),
        files: Vec::new(),
    };
    inner.edits.push((token, edit));
    axum::Json(message_object(&created)).into_response()
}

async fn create_message(State(state): State<Shared>, Path(channel): Path<String>, request: Request) -> Response {
    let headers = request.headers().clone();
    *state
        .lock()
        .expect("mock state")
        .attempts
        .entry(channel.clone())
        .or_default() += 1;
    if let Err(refused) = authorize(&headers) {
        return refused;
    }
    if channel == LIMITED_CHANNEL {
        return rate_limited();
    }
    if channel != CHANNEL && channel != OTHER_CHANNEL {
        return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (payload, files) = if content_type.starts_with("multipart/form-data") {
        let form = match Multipart::from_request(request, &()).await {
            Ok(form) => form,
            Err(rejection) => return error(StatusCode::BAD_REQUEST, 50035, &rejection.body_text()),
        };
        match read_multipart(form).await {
            Ok(parsed) => parsed,
            Err(why) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    &format!("The request body contains invalid JSON. ({why})"),
                );
            }
        }
    } else if content_type.starts_with("application/json") {
        let body = axum::body::to_bytes(request.into_body(), 8 * 1024 * 1024)
            .await
            .unwrap_or_default();
        match serde_json::from_slice::<Value>(&body) {
            Ok(payload) => (payload, Vec::new()),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                );
            }
        }
    } else {
        return error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
    };
    let content = payload["content"].as_str().unwrap_or_default();
    if content.chars().count() > 2000 {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": { "content": { "_errors": [{
                    "code": "BASE_TYPE_MAX_LENGTH",
                    "message": "Must be 2000 or fewer in length."
                }] } }
            })),
        )
            .into_response();
    }
    if content.is_empty() && files.is_empty() {
        return error(StatusCode::BAD_REQUEST, 50006, "Cannot send an empty message");
    }
    let mut inner = state.lock().expect("mock state");
    let nonce = payload.get("nonce").cloned().filter(|n| !n.is_null());
    if payload["enforce_nonce"] == true
        && let Some(existing) = inner
            .created
            .iter()
            .find(|c| c.channel_id == channel && c.payload.get("nonce") == nonce.as_ref())
    {
        return axum::Json(message_object(existing)).into_response();
    }
    inner.next_id += 1;
    let created = Created {
        id: format!("{}", 1_200_000_000_000_000_000u64 + inner.next_id),
        channel_id: channel,
        payload,
        files,
    };
    let object = message_object(&created);
    inner.created.push(created);
    axum::Json(object).into_response()
}

fn message_object(created: &Created) -> Value {
    let attachments: Vec<Value> = created
        .files
        .iter()
        .enumerate()
        .map(|(i, (_, filename, content_type, data))| {
            json!({ "id": format!("{}", 1_300_000_000_000_000_000u64 + i as u64), "filename": filename,
                    "content_type": content_type, "size": data.len() })
        })
        .collect();
    json!({
        "id": created.id,
        "type": if created.payload.get("message_reference").is_some() { 19 } else { 0 },
        "channel_id": created.channel_id,
        "content": created.payload["content"],
        "author": { "id": "1098765432101234567", "username": "patchbay-bot", "bot": true },
        "attachments": attachments,
        "embeds": [],
        "mentions": [],
        "pinned": false,
        "tts": false,
        "timestamp": "2026-11-23T09:30:00.000000+00:00",
        "edited_timestamp": null,
        "nonce": created.payload.get("nonce"),
        "message_reference": created.payload.get("message_reference"),
    })
}

/// A per-route 429 as Discord sends it (shared scope: no bucket reset soon).
fn rate_limited() -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({ "message": "You are being rate limited.", "retry_after": 64.57, "global": false })),
    )
        .into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("retry-after", "65"),
        ("x-ratelimit-limit", "5"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset-after", "64.57"),
        ("x-ratelimit-bucket", "80c17d2f203122d936070c88c8d10f33"),
        ("x-ratelimit-scope", "shared"),
    ] {
        headers.insert(name, value.parse().expect("static header"));
    }
    response
}

type Files = Vec<(String, String, String, Vec<u8>)>;

/// Reads a `multipart/form-data` create: `payload_json` and `files[n]`.
async fn read_multipart(mut form: Multipart) -> Result<(Value, Files), String> {
    let mut payload = None;
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().unwrap_or_default().to_string();
        let content_type = field.content_type().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(|e| e.to_string())?;
        if name == "payload_json" {
            payload = Some(serde_json::from_slice(&data).map_err(|e| e.to_string())?);
        } else if name.starts_with("files[") {
            files.push((name, filename, content_type, data.to_vec()));
        }
    }
    Ok((payload.ok_or("no payload_json part")?, files))
}
