//! The WhatsApp plugin through the host, against a Cloud API mock written
//! from Meta's docs: text, templates, media uploads, replies in context,
//! Graph's error codes, and webhooks as Meta sends them — the
//! `hub.challenge` check answered by the plugin's handshake, deliveries
//! signed with the app secret — directly and through `patchbay serve`.

use patchbay::types::{Attachment, Channel, ConnectorError, DeliveryStatus, Header, TemplateVar};
use patchbay::{CallError, ConnectOptions, Connection, Credentials, Host, Settings};
use patchbay_tests::whatsapp::{
    ACCESS_TOKEN, APP_SECRET, CUSTOMER, MockWhatsApp, PHONE_NUMBER_ID, SILENT_CUSTOMER, TEMPLATE, WABA_ID, delivery,
    signature,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{host, outbound};

const VERIFY_TOKEN: &str = "patchbay-verify-42";

fn settings(mock: &MockWhatsApp) -> Value {
    json!({"api_base": mock.url(), "phone_number_id": PHONE_NUMBER_ID, "business_account_id": WABA_ID})
}

async fn whatsapp(mock: &MockWhatsApp, token: &str) -> (Host, Connection) {
    let host = host().await;
    let settings: Settings = serde_json::from_value(settings(mock)).unwrap();
    let connection = host
        .connect_with(
            "messaging/whatsapp",
            Credentials::from([
                ("access_token", token),
                ("app_secret", APP_SECRET),
                ("verify_token", VERIFY_TOKEN),
            ]),
            settings,
            ConnectOptions {
                signing_fields: vec!["app_secret".into(), "verify_token".into()],
                ..ConnectOptions::default()
            },
        )
        .unwrap();
    (host, connection)
}

fn message(to: &str, body: &str) -> patchbay::types::OutboundMessage {
    let mut message = outbound("m-1", &[to], body);
    message.channel = Channel::Whatsapp;
    message
}

#[tokio::test]
async fn texts_templates_media_and_replies_are_sent() {
    let mock = MockWhatsApp::start().await.unwrap();
    let (_host, conn) = whatsapp(&mock, ACCESS_TOKEN).await;
    let test = conn.test().await.unwrap();
    assert!(
        test.success && test.message == "Connected as Acme Knits (+1 555-078-3881)",
        "{test:?}"
    );
    let (_host2, wrong) = whatsapp(&mock, "EAAGwrong").await;
    let refused = wrong.test().await.unwrap();
    assert!(!refused.success && refused.message.contains("code 190"), "{refused:?}");

    let messaging = conn.messaging().unwrap();
    let report = messaging
        .send(&message(
            "+1 650-555-1234",
            "Your order shipped: https://acme.example/track",
        ))
        .await
        .unwrap();
    assert_eq!(
        report.status,
        DeliveryStatus::Queued,
        "accepted; delivery comes by webhook"
    );
    assert!(report.message_id.starts_with("wamid."));
    let sent = mock.sent();
    assert_eq!(sent[0].body["to"], CUSTOMER);
    assert_eq!(sent[0].body["recipient_type"], "individual");
    assert_eq!(sent[0].body["text"]["preview_url"], true);

    // A template, with its language and a named parameter.
    let mut template = message(SILENT_CUSTOMER, "");
    template.template_id = Some(TEMPLATE.into());
    template.template_vars = vec![TemplateVar {
        name: "order_number".into(),
        value: "1001".into(),
    }];
    messaging.send(&template).await.unwrap();
    let sent = mock.sent();
    let body = &sent[1].body;
    assert_eq!(
        (body["type"].as_str(), body["template"]["language"]["code"].as_str()),
        (Some("template"), Some("en_US"))
    );
    assert_eq!(
        body["template"]["components"][0]["parameters"][0],
        json!({"type": "text", "text": "1001", "parameter_name": "order_number"})
    );

    // An image with the text as its caption, then a document.
    let mut media = message(CUSTOMER, "Your invoice and the parcel");
    media.attachments = vec![
        Attachment {
            filename: "parcel.jpg".into(),
            content_type: "image/jpeg".into(),
            data: vec![0xff, 0xd8, 0xff, 1, 2],
        },
        Attachment {
            filename: "invoice 1001.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 invoice".to_vec(),
        },
    ];
    messaging.send(&media).await.unwrap();
    let uploaded = mock.media();
    assert_eq!(
        (uploaded[0].1.as_str(), uploaded[0].3.as_slice()),
        ("image/jpeg", &[0xff, 0xd8, 0xff, 1, 2][..])
    );
    assert_eq!(
        (uploaded[1].2.as_str(), uploaded[1].3.as_slice()),
        ("invoice 1001.pdf", &b"%PDF-1.4 invoice"[..])
    );
    let sent = mock.sent();
    assert_eq!(
        sent[2].body["image"],
        json!({"id": uploaded[0].0, "caption": "Your invoice and the parcel"})
    );
    assert_eq!(
        sent[3].body["document"],
        json!({"id": uploaded[1].0, "filename": "invoice 1001.pdf"})
    );

    // A reply in context, to the message a delivery brought.
    let hooks = conn.webhooks().unwrap();
    let incoming = delivery("wamid.IN1", "Where is my order?", None)
        .to_string()
        .into_bytes();
    let event = &hooks.parse(&[], &incoming).await.unwrap()[0];
    let to: Value = serde_json::from_str(&event.payload_json).unwrap();
    conn.call_json("messaging.reply", &json!({"to": to, "body": "On its way"}))
        .await
        .unwrap();
    let reply = mock.sent().pop().unwrap();
    assert_eq!(reply.body["context"]["message_id"], "wamid.IN1");
    assert_eq!(reply.body["to"], CUSTOMER);
    assert_eq!(reply.body["text"]["body"], "On its way");
}

#[tokio::test]
async fn graph_errors_map_to_connector_errors_and_bulk_reports_each() {
    let mock = MockWhatsApp::start().await.unwrap();
    let (_host, conn) = whatsapp(&mock, ACCESS_TOKEN).await;
    let messaging = conn.messaging().unwrap();
    let window = messaging.send(&message(SILENT_CUSTOMER, "hello again")).await;
    assert!(
        matches!(window, Err(CallError::Connector(ConnectorError::Permanent(ref f))) if f.message.contains("24 hours")),
        "{window:?}"
    );
    let mut unknown = message(CUSTOMER, "");
    unknown.template_id = Some("no_such_template".into());
    let unknown = messaging.send(&unknown).await;
    assert!(
        matches!(unknown, Err(CallError::Connector(ConnectorError::Validation(_)))),
        "{unknown:?}"
    );
    let number = messaging.send(&message("0722", "hi")).await;
    assert!(
        matches!(number, Err(CallError::Connector(ConnectorError::Validation(_)))),
        "{number:?}"
    );
    mock.throttle(1);
    let slow = messaging.send(&message(CUSTOMER, "hi")).await;
    assert!(
        matches!(slow, Err(CallError::Connector(ConnectorError::RateLimited(_)))),
        "{slow:?}"
    );

    let reports = messaging
        .send_bulk(&[
            message(CUSTOMER, "one"),
            message(SILENT_CUSTOMER, "two"),
            message(CUSTOMER, "three"),
        ])
        .await
        .unwrap();
    let statuses: Vec<DeliveryStatus> = reports.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [DeliveryStatus::Queued, DeliveryStatus::Rejected, DeliveryStatus::Queued]
    );
    assert!(reports[1].error.as_deref().unwrap().contains("131047"));
}

#[tokio::test]
async fn deliveries_verify_and_parse_into_messages_and_reports() {
    let mock = MockWhatsApp::start().await.unwrap();
    let (_host, conn) = whatsapp(&mock, ACCESS_TOKEN).await;
    let hooks = conn.webhooks().unwrap();
    let body = delivery("wamid.IN2", "hi", Some(("wamid.OUT1", "read")))
        .to_string()
        .into_bytes();
    let signed = |secret: &str, body: &[u8]| {
        vec![Header {
            name: "X-Hub-Signature-256".into(),
            value: signature(secret, body),
        }]
    };
    hooks.verify(&signed(APP_SECRET, &body), &body).await.unwrap();
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    for (headers, body) in [
        (signed(APP_SECRET, &body), tampered.as_slice()),
        (signed("another-secret", &body), body.as_slice()),
        (Vec::new(), body.as_slice()),
    ] {
        let refused = hooks.verify(&headers, body).await;
        assert!(
            matches!(
                refused,
                Err(CallError::Connector(ConnectorError::WebhookVerification(_)))
            ),
            "{refused:?}"
        );
    }
    let events = hooks.parse(&[], &body).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["message.received", "message.read"]);
    let message: Value = serde_json::from_str(&events[0].payload_json).unwrap();
    assert_eq!(
        (message["sender"].as_str(), message["sender-name"].as_str()),
        (Some(CUSTOMER), Some("Sheena Nelson"))
    );
    let report: Value = serde_json::from_str(&events[1].payload_json).unwrap();
    assert_eq!(
        (report["message-id"].as_str(), report["status"].as_str()),
        (Some("wamid.OUT1"), Some("delivered"))
    );
    assert_eq!(events[1].idempotency_key, "status:wamid.OUT1:read");
}

/// Through `patchbay serve`: registering subscribes the app with the
/// connection's ingress URL, which Meta checks with a `hub.challenge` GET
/// (answered by the plugin's handshake with the host-filled verify token);
/// a wrong token gets 403; signed deliveries are stored once per message;
/// a tampered one is refused.
#[tokio::test]
async fn meta_checks_the_callback_then_delivers_through_the_service() {
    let mock = MockWhatsApp::start().await.unwrap();
    let service = crate::serve::Service::start_with(patchbay_serve::Settings::default(), &["messaging-whatsapp"]).await;
    let acme = service.key("acme", false).await;
    let created = service
        .send(
            Method::POST,
            "/v1/connections",
            &acme,
            Some(json!({
                "provider": "messaging/whatsapp",
                "credentials": {"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
                "settings": settings(&mock),
                "signing_fields": ["app_secret", "verify_token"],
            })),
        )
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    let id = created.1["id"].as_str().unwrap();
    let path = format!("/v1/connections/{id}/webhook/registrations");
    let registered = service.send(Method::POST, &path, &acme, Some(json!({}))).await;
    assert_eq!(registered.0.as_u16(), 201, "{}", registered.1);
    let (url, token) = mock.subscription().unwrap();
    assert_eq!(token, VERIFY_TOKEN, "the host filled the verify token in");
    let listed = service.send(Method::GET, &path, &acme, None).await;
    assert_eq!(listed.1[0]["url"], url, "{}", listed.1);

    let forged = service
        .http
        .get(&url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", "5"),
            ("hub.verify_token", "guess"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);

    let payload = delivery("wamid.IN3", "hello", None);
    assert_eq!(mock.deliver(&payload, APP_SECRET).await, 200);
    assert_eq!(
        mock.deliver(&payload, APP_SECRET).await,
        200,
        "Meta's retry: stored once"
    );
    assert_eq!(mock.deliver(&payload, "another-secret").await, 401);
    let events = service
        .send(Method::GET, "/v1/events?after=0&wait=5", &acme, None)
        .await;
    let list = events.1["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{}", events.1);
    assert_eq!(list[0]["message"]["type"], "message.received", "{}", events.1);

    let removed = service
        .send(Method::DELETE, &format!("{path}/{WABA_ID}"), &acme, None)
        .await;
    assert_eq!(removed.0.as_u16(), 204, "{}", removed.1);
    assert!(mock.subscription().is_none());
}
