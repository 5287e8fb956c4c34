//! A WhatsApp Cloud API mock, written from Meta's docs
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api>):
//!
//! - `GET /{version}/{phone-number-id}` (the number's fields), `POST
//!   /{version}/{phone-number-id}/messages` (`text`, `template`, `image`,
//!   `document`, with `context` for replies; answers `{messaging_product,
//!   contacts: [{input, wa_id}], messages: [{id: "wamid…"}]}`), `POST
//!   /{version}/{phone-number-id}/media` (multipart: `messaging_product`,
//!   `type`, `file`; answers `{id}`), and `/{version}/{waba-id}/subscribed_apps`
//!   (POST with `override_callback_uri` and `verify_token` — Meta checks the
//!   callback with a `hub.challenge` GET first —, GET, DELETE).
//! - Graph's error object `{"error": {"message", "type", "code",
//!   "error_data": {"details"}, "fbtrace_id"}}`: 190 for a bad token, 131047
//!   outside the 24-hour window, 132001 for an unknown template, 100 for a
//!   bad parameter, 130429 when throttled.
//! - Deliveries signed as Meta signs them: `X-Hub-Signature-256:
//!   sha256=<hex HMAC-SHA256 of the body with the app secret>`.

// Handlers return ready responses as their early-exit errors, as axum does.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

use crate::mock::RunningServer;

/// The system user's token the mock accepts.
pub const ACCESS_TOKEN: &str = "EAAGmockSystemUserToken0042";
/// The app secret deliveries are signed with.
pub const APP_SECRET: &str = "mock-app-secret-0042";
/// The business phone number's ID.
pub const PHONE_NUMBER_ID: &str = "106540352242922";
/// The WhatsApp Business Account's ID.
pub const WABA_ID: &str = "102290129340398";
/// A customer who wrote within 24 hours.
pub const CUSTOMER: &str = "16505551234";
/// A customer silent for more than 24 hours: only templates reach them.
pub const SILENT_CUSTOMER: &str = "16505559999";
/// The approved template (one body parameter, `order_number`).
pub const TEMPLATE: &str = "order_shipped";

/// One thing the business sent, as the mock keeps it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The message object as posted.
    pub body: Value,
    /// Its wamid.
    pub id: String,
}

#[derive(Default)]
struct Inner {
    sent: Vec<Sent>,
    media: Vec<(String, String, String, Vec<u8>)>,
    subscription: Option<(String, String)>,
    next: u64,
    throttle: u32,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Inner>>);

/// A running Cloud API mock.
pub struct MockWhatsApp {
    server: RunningServer,
    shared: Shared,
}

impl MockWhatsApp {
    /// Starts the mock on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let shared = Shared::default();
        let router = Router::new()
            .route("/{version}/{object}", get(number))
            .route("/{version}/{object}/messages", post(messages))
            .route("/{version}/{object}/media", post(media))
            .route("/{version}/{object}/subscribed_apps", any(subscribed_apps))
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

    /// What the business sent, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.0.lock().expect("mock state").sent.clone()
    }

    /// Media uploaded: id, type, filename, bytes.
    pub fn media(&self) -> Vec<(String, String, String, Vec<u8>)> {
        self.shared.0.lock().expect("mock state").media.clone()
    }

    /// The subscription: callback URL and verify token.
    pub fn subscription(&self) -> Option<(String, String)> {
        self.shared.0.lock().expect("mock state").subscription.clone()
    }

    /// The next `n` sends are throttled (130429).
    pub fn throttle(&self, n: u32) {
        self.shared.0.lock().expect("mock state").throttle = n;
    }

    /// Delivers a webhook payload to the callback URL, signed as Meta signs
    /// it with `secret`; the status.
    pub async fn deliver(&self, payload: &Value, secret: &str) -> u16 {
        let (url, _) = self.subscription().expect("a subscription");
        let body = payload.to_string();
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature(secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

/// `X-Hub-Signature-256` of `body` with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery carrying one customer message and one status of a sent one.
pub fn delivery(message_id: &str, text: &str, status_of: Option<(&str, &str)>) -> Value {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER}],
        "messages": [{"from": CUSTOMER, "id": message_id, "timestamp": "1764496800", "type": "text", "text": {"body": text}}],
    });
    if let Some((id, status)) = status_of {
        value["statuses"] = json!([{"id": id, "status": status, "timestamp": "1764496900", "recipient_id": CUSTOMER,
            "conversation": {"id": "conv-1", "origin": {"type": "service"}}, "pricing": {"billable": true, "category": "service"}}]);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}]})
}

fn refuse(status: u16, code: i64, message: &str, details: Option<&str>) -> Response {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AmockTrace42"});
    if let Some(details) = details {
        error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
    }
    (
        StatusCode::from_u16(status).expect("a status"),
        axum::Json(json!({ "error": error })),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap) -> Result<(), Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer == Some(ACCESS_TOKEN) {
        Ok(())
    } else {
        Err(refuse(
            401,
            190,
            "Invalid OAuth access token - Cannot parse access token",
            None,
        ))
    }
}

async fn number(headers: HeaderMap, Path((_, object)): Path<(String, String)>) -> Response {
    if let Err(refused) = authorized(&headers) {
        return refused;
    }
    if object != PHONE_NUMBER_ID {
        return refuse(
            400,
            100,
            &format!("Unsupported get request. Object with ID '{object}' does not exist"),
            None,
        );
    }
    axum::Json(json!({"verified_name": "Acme Knits", "display_phone_number": "+1 555-078-3881", "quality_rating": "GREEN", "id": PHONE_NUMBER_ID}))
        .into_response()
}

async fn messages(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((_, object)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = authorized(&headers) {
        return refused;
    }
    if object != PHONE_NUMBER_ID {
        return refuse(400, 100, "Invalid parameter", Some("unknown phone number id"));
    }
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return refuse(400, 100, "Invalid parameter", Some("the body is not JSON"));
    };
    let mut inner = shared.0.lock().expect("mock state");
    if inner.throttle > 0 {
        inner.throttle -= 1;
        return refuse(
            429,
            130429,
            "Rate limit hit",
            Some("Cloud API message throughput has been reached."),
        );
    }
    if message["messaging_product"] != "whatsapp" {
        return refuse(
            400,
            100,
            "Invalid parameter",
            Some("messaging_product must be whatsapp"),
        );
    }
    let to = message["to"].as_str().unwrap_or_default().to_string();
    if to.is_empty() || !to.bytes().all(|b| b.is_ascii_digit()) {
        return refuse(400, 100, "Invalid parameter", Some("Parameter 'to' is invalid"));
    }
    let kind = message["type"].as_str().unwrap_or_default();
    match kind {
        "template" => {
            let template = &message["template"];
            if template["name"] != TEMPLATE || template["language"]["code"] != "en_US" {
                return refuse(
                    404,
                    132001,
                    "Template name does not exist in the translation",
                    Some("template name (x) does not exist in en_US"),
                );
            }
            let parameters = template["components"][0]["parameters"].as_array().map_or(0, Vec::len);
            if parameters != 1 {
                return refuse(
                    400,
                    132000,
                    "Number of parameters does not match the expected number of params",
                    None,
                );
            }
        }
        "text" | "image" | "document" => {
            if to == SILENT_CUSTOMER {
                return refuse(
                    400,
                    131047,
                    "Re-engagement message",
                    Some(
                        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
                    ),
                );
            }
            if kind == "text"
                && message["text"]["body"]
                    .as_str()
                    .is_none_or(|b| b.is_empty() || b.chars().count() > 4096)
            {
                return refuse(
                    400,
                    100,
                    "Invalid parameter",
                    Some("Parameter 'text.body' must be 1-4096 characters"),
                );
            }
            if kind != "text" {
                let id = message[kind]["id"].as_str().unwrap_or_default();
                if !inner.media.iter().any(|(m, ..)| m == id) {
                    return refuse(400, 131053, "Media upload error", Some("unknown media id"));
                }
            }
        }
        other => {
            return refuse(
                400,
                100,
                "Invalid parameter",
                Some(&format!("unsupported type {other}")),
            );
        }
    }
    inner.next += 1;
    let id = format!("wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI{:08}", inner.next);
    inner.sent.push(Sent {
        body: message,
        id: id.clone(),
    });
    axum::Json(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": id}]}),
    )
    .into_response()
}

async fn media(State(shared): State<Shared>, Path((_, object)): Path<(String, String)>, request: Request) -> Response {
    if let Err(refused) = authorized(request.headers()) {
        return refused;
    }
    if object != PHONE_NUMBER_ID {
        return refuse(400, 100, "Invalid parameter", None);
    }
    let Ok(mut form) = Multipart::from_request(request, &()).await else {
        return refuse(400, 100, "Invalid parameter", Some("not multipart/form-data"));
    };
    let (mut product, mut kind, mut file) = (String::new(), String::new(), None);
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let data = field.bytes().await.unwrap_or_default();
        match (name.as_str(), filename) {
            ("file", Some(filename)) => file = Some((filename, data.to_vec())),
            ("messaging_product", _) => product = String::from_utf8_lossy(&data).into_owned(),
            ("type", _) => kind = String::from_utf8_lossy(&data).into_owned(),
            _ => {}
        }
    }
    let Some((filename, data)) = file.filter(|_| product == "whatsapp" && !kind.is_empty()) else {
        return refuse(
            400,
            100,
            "Invalid parameter",
            Some("messaging_product, type and file are required"),
        );
    };
    let mut inner = shared.0.lock().expect("mock state");
    inner.next += 1;
    let id = format!("{}", 1_000_000 + inner.next);
    inner.media.push((id.clone(), kind, filename, data));
    axum::Json(json!({ "id": id })).into_response()
}

async fn subscribed_apps(
    State(shared): State<Shared>,
    method: Method,
    headers: HeaderMap,
    Path((_, object)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(refused) = authorized(&headers) {
        return refused;
    }
    if object != WABA_ID {
        return refuse(400, 100, "Invalid parameter", Some("unknown WhatsApp Business Account"));
    }
    match method {
        Method::POST => {
            let params: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            let (Some(uri), Some(token)) = (params.get("override_callback_uri"), params.get("verify_token")) else {
                return refuse(
                    400,
                    100,
                    "Invalid parameter",
                    Some("override_callback_uri needs verify_token"),
                );
            };
            // Meta checks the callback before it keeps it.
            let challenge = "1158201444";
            let check = reqwest::Client::new()
                .get(uri)
                .query(&[
                    ("hub.mode", "subscribe"),
                    ("hub.challenge", challenge),
                    ("hub.verify_token", token),
                ])
                .send()
                .await;
            let answered = match check {
                Ok(response) if response.status().is_success() => response.text().await.unwrap_or_default(),
                _ => String::new(),
            };
            if answered != challenge {
                return refuse(
                    400,
                    2200,
                    "Callback verification failed with the following errors: HTTP Status Code = 403",
                    None,
                );
            }
            shared.0.lock().expect("mock state").subscription = Some((uri.clone(), token.clone()));
            axum::Json(json!({ "success": true })).into_response()
        }
        Method::GET => {
            let data: Vec<Value> = shared
                .0
                .lock()
                .expect("mock state")
                .subscription
                .iter()
                .map(|(uri, _)| json!({"whatsapp_business_api_data": {"id": "554504077654851", "name": "Patchbay"}, "override_callback_uri": uri}))
                .collect();
            axum::Json(json!({ "data": data })).into_response()
        }
        Method::DELETE => {
            shared.0.lock().expect("mock state").subscription = None;
            axum::Json(json!({ "success": true })).into_response()
        }
        _ => refuse(400, 100, "Unsupported request", None),
    }
}
