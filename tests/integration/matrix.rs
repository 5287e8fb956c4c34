//! The Matrix plugin through the host, against a real Synapse homeserver
//! (PyPI `matrix-synapse`, started by `tests/with-synapse.sh` with two
//! users): the password login (the password filled into the login request
//! by the host, never read by the plugin), messages, HTML, files and
//! replies in a room a person created, idempotent sends by transaction id,
//! and receiving by `/sync` with the `since` token kept between calls.

use patchbay::types::{Attachment, ConnectorError};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use serde_json::{Value, json};

use crate::support::{host, outbound};

/// The users `tests/with-synapse.sh` registers.
const BOT: (&str, &str) = ("patchbay-bot", "bot-password-0123");
const READER: (&str, &str) = ("reader", "reader-password-0123");

fn homeserver() -> String {
    std::env::var("PATCHBAY_SYNAPSE_SERVER").expect(
        "PATCHBAY_SYNAPSE_SERVER is not set: run the tests through `just test` \
         (tests/with-synapse.sh starts Synapse)",
    )
}

async fn matrix(password: &str) -> (Host, Connection) {
    let host = host().await;
    let connection = host
        .connect(
            "messaging/matrix",
            Credentials::from([("password", password)]),
            Settings::from([
                ("homeserver".to_string(), homeserver()),
                ("user".to_string(), BOT.0.to_string()),
            ]),
        )
        .unwrap();
    (host, connection)
}

/// A person on the homeserver, talking to it directly.
struct Person {
    http: reqwest::Client,
    token: String,
}

impl Person {
    async fn login((user, password): (&str, &str)) -> Self {
        let http = reqwest::Client::new();
        let answer: Value = http
            .post(format!("{}/_matrix/client/v3/login", homeserver()))
            .json(&json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            http,
            token: answer["access_token"].as_str().unwrap().to_string(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/_matrix/client/v3/{path}", homeserver()))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// A new private room with the bot invited.
    async fn room_with_bot(&self) -> String {
        let created = self
            .call(
                reqwest::Method::POST,
                "createRoom",
                Some(json!({"preset": "private_chat", "invite": ["@patchbay-bot:localhost"]})),
            )
            .await;
        created["room_id"].as_str().unwrap().to_string()
    }

    async fn say(&self, room: &str, text: &str) -> String {
        let txn = format!("t{}", rand_suffix());
        let sent = self
            .call(
                reqwest::Method::PUT,
                &format!("rooms/{}/send/m.room.message/{txn}", encode(room)),
                Some(json!({"msgtype": "m.text", "body": text})),
            )
            .await;
        sent["event_id"].as_str().unwrap().to_string()
    }

    /// The room's messages, oldest first.
    async fn messages(&self, room: &str) -> Vec<Value> {
        let page = self
            .call(
                reqwest::Method::GET,
                &format!("rooms/{}/messages?dir=b&limit=100", encode(room)),
                None,
            )
            .await;
        let mut events: Vec<Value> = page["chunk"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "m.room.message")
            .cloned()
            .collect();
        events.reverse();
        events
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

/// Runs the plugin's `sync` action.
async fn sync(conn: &Connection, input: Value) -> Value {
    let output = conn
        .actions()
        .unwrap()
        .execute("sync", &input.to_string())
        .await
        .unwrap();
    serde_json::from_str(&output).unwrap()
}

#[tokio::test]
async fn a_bot_joins_receives_replies_and_sends_files_on_synapse() {
    let (_host, bot) = matrix(BOT.1).await;
    let test = bot.test().await.unwrap();
    assert!(
        test.success && test.message == "Logged in as @patchbay-bot:localhost",
        "{test:?}"
    );
    let (_host2, wrong) = matrix("not-the-password").await;
    let refused = wrong.test().await.unwrap();
    assert!(
        !refused.success && refused.message.contains("M_FORBIDDEN"),
        "{refused:?}"
    );

    let reader = Person::login(READER).await;
    let room = reader.room_with_bot().await;
    // The first sync joins the room the bot was invited to.
    let first = sync(&bot, json!({})).await;
    assert!(
        first["joined"].as_array().unwrap().iter().any(|r| r == &json!(room)),
        "{first}"
    );

    let asked = reader.say(&room, "hello bot, where is order 1001?").await;
    let received = sync(&bot, json!({"wait-ms": 5000})).await;
    let messages = received["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "only what is new since the kept token: {received}");
    let message = &messages[0];
    assert_eq!(message["message-id"], json!(asked));
    assert_eq!(message["sender"], "@reader:localhost");
    assert_eq!(message["conversation-id"], json!(room));
    assert_eq!(message["body"], "hello bot, where is order 1001?");
    assert!(message["received-at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let quiet = sync(&bot, json!({})).await;
    assert!(quiet["messages"].as_array().unwrap().is_empty(), "{quiet}");
    // An explicit `since` replays from there, and `keep: false` leaves the kept token.
    let replay = sync(&bot, json!({"since": first["next-batch"], "keep": false})).await;
    assert_eq!(replay["messages"].as_array().unwrap().len(), 1);

    // The received message, as the sync gave it, is what `reply` takes.
    let replied = bot
        .call_json(
            "messaging.reply",
            &json!({"to": message, "body": "It shipped this morning."}),
        )
        .await
        .unwrap();
    assert_eq!(replied["status"], "sent");
    let seen = reader.messages(&room).await;
    let reply = seen.iter().find(|e| e["event_id"] == replied["message-id"]).unwrap();
    assert_eq!(reply["content"]["body"], "It shipped this morning.");
    assert_eq!(
        reply["content"]["m.relates_to"]["m.in_reply_to"]["event_id"],
        json!(asked)
    );
    assert_eq!(reply["sender"], "@patchbay-bot:localhost");

    let messaging = bot.messaging().unwrap();
    // HTML and a file.
    let mut note = outbound("invoice-1001", &[&room], "Invoice 1001 attached");
    note.html_body = Some("<b>Invoice 1001</b> attached".into());
    note.attachments.push(Attachment {
        filename: "invoice-1001.pdf".into(),
        content_type: "application/pdf".into(),
        data: b"%PDF-1.4 invoice".to_vec(),
    });
    let report = messaging.send(&note).await.unwrap();
    let events: Vec<&str> = report.message_id.split(',').collect();
    assert_eq!(events.len(), 2, "{report:?}");
    let seen = reader.messages(&room).await;
    let file = seen.iter().find(|e| e["event_id"] == json!(events[0])).unwrap();
    assert_eq!(file["content"]["msgtype"], "m.file");
    assert_eq!(file["content"]["body"], "invoice-1001.pdf");
    assert!(file["content"]["url"].as_str().unwrap().starts_with("mxc://localhost/"));
    let text = seen.iter().find(|e| e["event_id"] == json!(events[1])).unwrap();
    assert_eq!(text["content"]["formatted_body"], "<b>Invoice 1001</b> attached");

    // The same message again: the same transaction, the same event — no
    // second message in the room (a retry is safe).
    let mut again = outbound("order-1001-shipped", &[&room], "Order 1001 shipped");
    let first_send = messaging.send(&again).await.unwrap();
    again.body = "Order 1001 shipped".into();
    let second_send = messaging.send(&again).await.unwrap();
    assert_eq!(first_send.message_id, second_send.message_id);
    let shipped = reader
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| e["content"]["body"] == "Order 1001 shipped")
        .count();
    assert_eq!(shipped, 1);

    // Refusals: a room the bot is not in; something that is no room.
    let outsider_room = reader
        .call(
            reqwest::Method::POST,
            "createRoom",
            Some(json!({"preset": "private_chat"})),
        )
        .await["room_id"]
        .as_str()
        .unwrap()
        .to_string();
    let error = messaging
        .send(&outbound("m-2", &[&outsider_room], "hello?"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::Connector(ConnectorError::Permanent(_))),
        "{error:?}"
    );
    let error = messaging
        .send(&outbound("m-3", &["general"], "hello?"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::Connector(ConnectorError::Validation(_))),
        "{error:?}"
    );
    let error = messaging
        .send(&outbound("m-4", &["#nowhere:localhost"], "hello?"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::Connector(ConnectorError::NotFound(_))),
        "{error:?}"
    );
}

/// Between the plugin and Synapse, a proxy loses the homeserver's answer to
/// the first message it forwards (502 after Synapse stored the event): the
/// host retries the PUT with the same transaction id, Synapse answers with
/// the event it already has, and the room holds the message once.
#[tokio::test]
async fn a_retried_send_reuses_its_transaction_and_is_not_duplicated() {
    use axum::extract::{Request, State};
    use axum::response::IntoResponse;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Clone)]
    struct Proxy {
        upstream: String,
        lost: Arc<AtomicU32>,
        sends: Arc<std::sync::Mutex<Vec<String>>>,
    }
    async fn forward(State(proxy): State<Proxy>, request: Request) -> axum::response::Response {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let path = parts.uri.path_and_query().unwrap().to_string();
        let mut upstream = reqwest::Client::new().request(parts.method.clone(), format!("{}{path}", proxy.upstream));
        for (name, value) in &parts.headers {
            if name != "host" {
                upstream = upstream.header(name, value);
            }
        }
        let answer = upstream.body(body).send().await.unwrap();
        let status = answer.status();
        let bytes = answer.bytes().await.unwrap();
        if parts.method == reqwest::Method::PUT && path.contains("/send/") {
            proxy.sends.lock().unwrap().push(path.clone());
            if proxy.lost.fetch_add(1, Ordering::SeqCst) == 0 {
                return (axum::http::StatusCode::BAD_GATEWAY, "upstream answer lost").into_response();
            }
        }
        (status, bytes).into_response()
    }
    let proxy = Proxy {
        upstream: homeserver(),
        lost: Arc::default(),
        sends: Arc::default(),
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let host = host().await;
    let bot = host
        .connect(
            "messaging/matrix",
            Credentials::from([("password", BOT.1)]),
            Settings::from([("homeserver".to_string(), url), ("user".to_string(), BOT.0.to_string())]),
        )
        .unwrap();
    let reader = Person::login(READER).await;
    let room = reader.room_with_bot().await;
    bot.actions()
        .unwrap()
        .execute("join", &json!({"room": room}).to_string())
        .await
        .unwrap();
    let report = bot
        .messaging()
        .unwrap()
        .send(&outbound("retry-1", &[&room], "Sent once, answered twice"))
        .await
        .unwrap();
    let sends = proxy.sends.lock().unwrap().clone();
    assert_eq!(sends.len(), 2, "the first answer was lost, the host retried: {sends:?}");
    assert_eq!(sends[0], sends[1], "with the same transaction id");
    let copies: Vec<Value> = reader
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| e["content"]["body"] == "Sent once, answered twice")
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0]["event_id"], json!(report.message_id));
}
