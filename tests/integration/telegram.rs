//! The Telegram plugin through the host, against a Bot API mock written
//! from the Bot API docs: the token in the path (filled in by the host),
//! text, HTML and long texts, photos and documents, replies, every refusal,
//! and updates by webhook with the secret token — directly and through
//! `patchbay serve`.

use patchbay::types::{Attachment, ConnectorError, DeliveryStatus, Header, OutboundMessage};
use patchbay::{CallError, ConnectOptions, Connection, Credentials, Host, Settings};
use patchbay_tests::telegram::{BLOCKED_CHAT, CHANNEL, GROUP_CHAT, MockTelegram, TOKEN, USER_CHAT, param, text_update};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{host, outbound};

const SECRET: &str = "patchbay-webhook_Secret-42";

async fn telegram(mock: &MockTelegram, token: &str) -> (Host, Connection) {
    let host = host().await;
    let connection = host
        .connect_with(
            "messaging/telegram",
            Credentials::from([("bot_token", token), ("webhook_secret", SECRET)]),
            Settings::from([("api_base".to_string(), mock.url())]),
            ConnectOptions {
                signing_fields: vec!["webhook_secret".into()],
                ..ConnectOptions::default()
            },
        )
        .unwrap();
    (host, connection)
}

/// A message with id `m-1` to `to`.
fn message(to: &[String], body: &str) -> OutboundMessage {
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    outbound("m-1", &to, body)
}

#[tokio::test]
async fn messages_media_and_replies_are_sent_as_the_bot_api_takes_them() {
    let mock = MockTelegram::start().await.unwrap();
    let (_host, conn) = telegram(&mock, TOKEN).await;
    let test = conn.test().await.unwrap();
    assert!(test.success && test.message == "Connected as @patchbay_bot", "{test:?}");
    let (_host2, wrong) = telegram(&mock, "123456:wrong").await;
    let refused = wrong.test().await.unwrap();
    assert!(
        !refused.success && refused.message.contains("Unauthorized"),
        "{refused:?}"
    );

    let messaging = conn.messaging().unwrap();
    let report = messaging
        .send(&message(&[USER_CHAT.to_string(), CHANNEL.into()], "Your order shipped"))
        .await
        .unwrap();
    assert_eq!(report.status, DeliveryStatus::Sent);
    assert_eq!(report.message_id, format!("{USER_CHAT}:1,{CHANNEL}:2"));
    assert!(report.delivered_at.as_deref().is_some_and(|t| t.ends_with('Z')));
    let sent = mock.sent();
    assert_eq!(
        param(&sent[0], "chat_id"),
        Some(&json!(USER_CHAT)),
        "a number, as Telegram takes it"
    );
    assert_eq!(param(&sent[1], "chat_id"), Some(&json!(CHANNEL)));
    assert_eq!(param(&sent[0], "parse_mode"), None);

    // HTML, and a text longer than Telegram takes: several messages.
    let mut html = message(&[GROUP_CHAT.to_string()], "plain");
    html.html_body = Some("<b>Order 1001</b> shipped".into());
    messaging.send(&html).await.unwrap();
    let long = format!("{}\n{}", "a".repeat(4000), "b".repeat(4000));
    let report = messaging.send(&message(&[USER_CHAT.to_string()], &long)).await.unwrap();
    assert_eq!(report.message_id.split(',').count(), 2, "{report:?}");
    let sent = mock.sent();
    assert_eq!(param(&sent[2], "parse_mode"), Some(&json!("HTML")));
    assert_eq!(param(&sent[2], "text"), Some(&json!("<b>Order 1001</b> shipped")));
    assert_eq!(param(&sent[3], "text").unwrap().as_str().unwrap().len(), 4000);

    // A photo with the text as its caption, then a document.
    let mut media = message(&[USER_CHAT.to_string()], "Your invoice and the parcel");
    media.attachments = vec![
        Attachment {
            filename: "parcel.jpg".into(),
            content_type: "image/jpeg".into(),
            data: vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3],
        },
        Attachment {
            filename: "factură 1001.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 invoice".to_vec(),
        },
    ];
    let report = messaging.send(&media).await.unwrap();
    assert_eq!(report.message_id.split(',').count(), 2);
    let sent = mock.sent();
    let (photo, document) = (&sent[5], &sent[6]);
    assert_eq!(photo.method, "sendPhoto");
    assert_eq!(param(photo, "caption"), Some(&json!("Your invoice and the parcel")));
    assert_eq!(photo.file.as_ref().unwrap().3, vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    assert_eq!(document.method, "sendDocument");
    let (field, filename, content_type, bytes) = document.file.clone().unwrap();
    assert_eq!(
        (field.as_str(), filename.as_str(), content_type.as_str()),
        ("document", "factură 1001.pdf", "application/pdf")
    );
    assert_eq!(bytes, b"%PDF-1.4 invoice");
    assert_eq!(param(document, "caption"), None, "the caption went with the first");

    // A reply in the received message's chat.
    let hooks = conn.webhooks().unwrap();
    let update = serde_json::to_vec(&text_update(1, 77, "Where is my order?")).unwrap();
    let event = &hooks.parse(&[], &update).await.unwrap()[0];
    // The event's payload is the inbound message `messaging.reply` takes.
    let to: Value = serde_json::from_str(&event.payload_json).unwrap();
    conn.call_json("messaging.reply", &json!({"to": to, "body": "On its way"}))
        .await
        .unwrap();
    let reply = mock.sent().pop().unwrap();
    assert_eq!(param(&reply, "chat_id"), Some(&json!(USER_CHAT)));
    assert_eq!(param(&reply, "reply_parameters").unwrap()["message_id"], 77);
    assert_eq!(param(&reply, "text"), Some(&json!("On its way")));
}

#[tokio::test]
async fn refusals_map_to_connector_errors_and_bulk_reports_each() {
    let mock = MockTelegram::start().await.unwrap();
    let (_host, conn) = telegram(&mock, TOKEN).await;
    let messaging = conn.messaging().unwrap();
    let unknown = messaging.send(&message(&["424242".into()], "hi")).await;
    assert!(
        matches!(unknown, Err(CallError::Connector(ConnectorError::NotFound(ref m))) if m.contains("chat not found")),
        "{unknown:?}"
    );
    let blocked = messaging.send(&message(&[BLOCKED_CHAT.to_string()], "hi")).await;
    assert!(
        matches!(blocked, Err(CallError::Connector(ConnectorError::Permanent(ref f))) if f.message.contains("blocked")),
        "{blocked:?}"
    );
    let mut broken = message(&[USER_CHAT.to_string()], "");
    broken.html_body = Some("<b>unclosed".into());
    let entities = messaging.send(&broken).await;
    assert!(
        matches!(entities, Err(CallError::Connector(ConnectorError::Validation(ref m))) if m.contains("can't parse entities")),
        "{entities:?}"
    );
    let nobody = messaging.send(&message(&["someone@example.com".into()], "hi")).await;
    assert!(
        matches!(nobody, Err(CallError::Connector(ConnectorError::Validation(_)))),
        "{nobody:?}"
    );
    let empty = messaging.send(&message(&[USER_CHAT.to_string()], "")).await;
    assert!(
        matches!(empty, Err(CallError::Connector(ConnectorError::Validation(_)))),
        "{empty:?}"
    );

    // Flood control: the wait is in the body; the message was not sent.
    mock.throttle(1);
    let slow = messaging.send(&message(&[USER_CHAT.to_string()], "hi")).await;
    assert!(
        matches!(slow, Err(CallError::Connector(ConnectorError::RateLimited(Some(1))))),
        "{slow:?}"
    );

    let reports = messaging
        .send_bulk(&[
            message(&[USER_CHAT.to_string()], "one"),
            message(&[BLOCKED_CHAT.to_string()], "two"),
            message(&[GROUP_CHAT.to_string()], "three"),
        ])
        .await
        .unwrap();
    let statuses: Vec<DeliveryStatus> = reports.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [DeliveryStatus::Sent, DeliveryStatus::Rejected, DeliveryStatus::Sent]
    );
    assert!(reports[1].error.as_deref().unwrap().contains("blocked"));
    assert_eq!(reports[1].message_id, "m-1");
}

#[tokio::test]
async fn updates_arrive_by_webhook_with_the_secret_token() {
    let mock = MockTelegram::start().await.unwrap();
    let (_host, conn) = telegram(&mock, TOKEN).await;
    let hooks = conn.webhooks().unwrap();
    let registration = hooks
        .register(
            "https://patchbay.example.com/v1/webhooks/whk_t",
            &["message".into(), "callback_query".into()],
        )
        .await
        .unwrap();
    let (url, secret, allowed) = mock.webhook().unwrap();
    assert_eq!(url, "https://patchbay.example.com/v1/webhooks/whk_t");
    assert_eq!(secret, SECRET, "the host filled the secret in; the plugin never had it");
    assert_eq!(allowed, json!(["message", "callback_query"]));
    let listed = hooks.list_registrations().await.unwrap();
    assert_eq!(listed[0].url, registration.url);
    assert_eq!(listed[0].events, ["message", "callback_query"]);
    assert!(matches!(
        hooks.register("https://x.example", &["carts".into()]).await,
        Err(CallError::Connector(ConnectorError::Validation(_)))
    ));

    let token = |value: &str| {
        vec![Header {
            name: "X-Telegram-Bot-Api-Secret-Token".into(),
            value: value.into(),
        }]
    };
    let body = serde_json::to_vec(&text_update(5, 9, "hi")).unwrap();
    hooks.verify(&token(SECRET), &body).await.unwrap();
    for bad in [token("not-the-secret"), Vec::new()] {
        let refused = hooks.verify(&bad, &body).await;
        assert!(
            matches!(
                refused,
                Err(CallError::Connector(ConnectorError::WebhookVerification(_)))
            ),
            "{refused:?}"
        );
    }
    let events = hooks.parse(&token(SECRET), &body).await.unwrap();
    assert_eq!(
        (events[0].event_type.as_str(), events[0].idempotency_key.as_str()),
        ("message.received", "update:5")
    );
    let payload: Value = serde_json::from_str(&events[0].payload_json).unwrap();
    assert_eq!(payload["conversation-id"], USER_CHAT.to_string());
    assert_eq!(payload["sender-name"], "Ana Pop");

    hooks.unregister(&registration.id).await.unwrap();
    assert!(mock.webhook().is_none());
    assert!(matches!(
        hooks.unregister(&registration.id).await,
        Err(CallError::Connector(ConnectorError::NotFound(_)))
    ));
}

/// Through `patchbay serve`: registered for the connection's ingress URL,
/// updates delivered by the mock as Telegram delivers them are stored once
/// per `update_id`; a wrong secret token is refused with 401.
#[tokio::test]
async fn updates_reach_the_service_once_per_update_id() {
    let mock = MockTelegram::start().await.unwrap();
    let service = crate::serve::Service::start_with(patchbay_serve::Settings::default(), &["messaging-telegram"]).await;
    let acme = service.key("acme", false).await;
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            &acme,
            Some(json!({
                "provider": "messaging/telegram",
                "credentials": {"bot_token": TOKEN, "webhook_secret": SECRET},
                "settings": {"api_base": mock.url()},
                "signing_fields": ["webhook_secret"],
            })),
        )
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    let id = created.1["id"].as_str().unwrap();
    let registered = service
        .send(
            Method::POST,
            &format!("/v1/connections/{id}/webhook/registrations"),
            &acme,
            Some(json!({})),
        )
        .await;
    assert_eq!(registered.0.as_u16(), 201, "{}", registered.1);
    let update = text_update(100, 1, "hello");
    assert_eq!(mock.deliver(&update).await, 200);
    assert_eq!(
        mock.deliver(&update).await,
        200,
        "a redelivery: acknowledged, stored once"
    );
    let (url, _, _) = mock.webhook().unwrap();
    let forged = service
        .http
        .post(&url)
        .header("x-telegram-bot-api-secret-token", "guess")
        .body(update.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    let events = service
        .send(Method::GET, "/v1/events?after=0&wait=5", &acme, None)
        .await;
    let list = events.1["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{}", events.1);
    assert_eq!(list[0]["message"]["type"], "message.received", "{}", events.1);
}

/// The emulator's URL (`tests/with-telegram-server.sh`).
fn emulator() -> String {
    std::env::var("PATCHBAY_TELEGRAM_SERVER").expect(
        "PATCHBAY_TELEGRAM_SERVER is not set: run the tests through `just test` \
         (tests/with-telegram-server.sh starts telegram-test-api)",
    )
}

/// Against telegram-test-api, a Bot API emulator from npm: what it
/// implements (getMe, sendMessage, setWebhook) takes the plugin's requests
/// as the Bot API does, and the messages reach the chat as sent.
#[tokio::test]
async fn against_telegram_test_api_messages_reach_the_chat() {
    let base = emulator();
    let host = host().await;
    let conn = host
        .connect_with(
            "messaging/telegram",
            Credentials::from([("bot_token", TOKEN), ("webhook_secret", SECRET)]),
            Settings::from([("api_base".to_string(), base.clone())]),
            ConnectOptions {
                signing_fields: vec!["webhook_secret".into()],
                ..ConnectOptions::default()
            },
        )
        .unwrap();
    let test = conn.test().await.unwrap();
    assert!(test.success && test.message == "Connected as @TestNameBot", "{test:?}");

    let messaging = conn.messaging().unwrap();
    let chat = "424201";
    messaging
        .send(&message(&[chat.into()], "Your order shipped"))
        .await
        .unwrap();
    let mut html = message(&[chat.into()], "plain");
    html.html_body = Some("<b>Order 1001</b> shipped".into());
    messaging.send(&html).await.unwrap();
    let update = json!({
        "update_id": 1,
        "message": {"message_id": 9, "from": {"id": 424201, "first_name": "TestName", "is_bot": false},
            "chat": {"id": 424201, "type": "private"}, "date": 1_764_496_800, "text": "thanks"},
    });
    let event = &conn
        .webhooks()
        .unwrap()
        .parse(&[], &serde_json::to_vec(&update).unwrap())
        .await
        .unwrap()[0];
    let to: Value = serde_json::from_str(&event.payload_json).unwrap();
    conn.call_json("messaging.reply", &json!({"to": to, "body": "You're welcome"}))
        .await
        .unwrap();

    // What the chat received, through the emulator's client API.
    let received: Value = reqwest::Client::new()
        .post(format!("{base}/getUpdates"))
        .json(&json!({"token": TOKEN, "chatId": chat}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let messages: Vec<Value> = received["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message"].clone())
        .collect();
    assert_eq!(messages.len(), 3, "{received}");
    assert_eq!(messages[0]["text"], "Your order shipped");
    assert_eq!(messages[1]["parse_mode"], "HTML");
    assert_eq!(messages[1]["text"], "<b>Order 1001</b> shipped");
    assert_eq!(messages[2]["text"], "You're welcome");
    assert_eq!(messages[2]["reply_parameters"]["message_id"], 9);

    let registration = conn
        .webhooks()
        .unwrap()
        .register("https://patchbay.example.com/v1/webhooks/whk_e", &[])
        .await
        .unwrap();
    assert_eq!(registration.url, "https://patchbay.example.com/v1/webhooks/whk_e");
}

/// Long polling for a bot without a webhook: `get-updates` returns the
/// updates as the webhook would deliver them and keeps the offset that
/// confirms them, so the next call gets only what is new; `keep: false`
/// reads the same again; with a webhook set, Telegram's 409 says why.
#[tokio::test]
async fn updates_are_received_by_long_polling_with_the_offset_kept() {
    let mock = MockTelegram::start().await.unwrap();
    let (_host, conn) = telegram(&mock, TOKEN).await;
    let actions = conn.actions().unwrap();
    let poll = |input: Value| {
        let actions = conn.actions().unwrap();
        async move {
            let output = actions.execute("get-updates", &input.to_string()).await.unwrap();
            serde_json::from_str::<Value>(&output).unwrap()
        }
    };
    assert_eq!(actions.list_actions().await.unwrap()[0].name, "get-updates");
    mock.incoming(USER_CHAT, "where is order 1001?");
    mock.incoming(USER_CHAT, "and 1002?");
    let first = poll(json!({})).await;
    let updates = first["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2, "{first}");
    assert_eq!(updates[0]["event-type"], "message.received");
    assert_eq!(updates[0]["payload"]["body"], "where is order 1001?");
    assert_eq!(updates[1]["payload"]["conversation-id"], USER_CHAT.to_string());
    // What a poll returns is what `reply` takes.
    conn.call_json(
        "messaging.reply",
        &json!({"to": updates[1]["payload"], "body": "It shipped."}),
    )
    .await
    .unwrap();
    assert_eq!(param(&mock.sent()[0], "text"), Some(&json!("It shipped.")));

    assert!(
        poll(json!({})).await["updates"].as_array().unwrap().is_empty(),
        "confirmed by the offset"
    );
    mock.incoming(USER_CHAT, "thanks");
    let peek = poll(json!({"keep": false, "limit": 10})).await;
    assert_eq!(peek["updates"].as_array().unwrap().len(), 1);
    let again = poll(json!({})).await;
    assert_eq!(again["updates"][0]["payload"]["body"], "thanks", "not kept: read again");
    let offsets = mock.offsets();
    assert_eq!(offsets[0], None, "the first poll starts from Telegram's oldest");
    assert_eq!(offsets[1], Some(1003), "one past the last update received");

    let bad = actions
        .execute("get-updates", &json!({"timeout": 90}).to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(bad, CallError::Connector(ConnectorError::Validation(_))),
        "{bad:?}"
    );
    conn.webhooks()
        .unwrap()
        .register("https://patchbay.example.com/v1/webhooks/whk_1", &[])
        .await
        .unwrap();
    let conflict = actions.execute("get-updates", &"{}".to_string()).await.unwrap_err();
    assert!(conflict.to_string().contains("webhook is active"), "{conflict}");
}

/// Against telegram-test-api: a user's message, sent through the
/// emulator's client API, reaches the bot by long polling.
#[tokio::test]
async fn against_telegram_test_api_a_users_message_arrives_by_polling() {
    let base = emulator();
    let host = host().await;
    let conn = host
        .connect(
            "messaging/telegram",
            Credentials::from([("bot_token", TOKEN)]),
            Settings::from([("api_base".to_string(), base.clone())]),
        )
        .unwrap();
    let chat = 424_299;
    let sent: Value = reqwest::Client::new()
        .post(format!("{base}/sendMessage"))
        .json(&json!({
            "botToken": TOKEN,
            "date": 1_764_496_800,
            "from": {"id": chat, "first_name": "Grace", "username": "grace", "is_bot": false},
            "chat": {"id": chat, "first_name": "Grace", "username": "grace", "type": "private"},
            "text": "polling works?",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["ok"], true, "{sent}");
    let output = conn
        .actions()
        .unwrap()
        .execute("get-updates", &"{}".to_string())
        .await
        .unwrap();
    let polled: Value = serde_json::from_str(&output).unwrap();
    let mine: Vec<&Value> = polled["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["payload"]["conversation-id"] == json!(chat.to_string()))
        .collect();
    assert_eq!(mine.len(), 1, "{polled}");
    assert_eq!(mine[0]["payload"]["body"], "polling works?");
    assert_eq!(mine[0]["payload"]["sender-name"], "Grace");
}
