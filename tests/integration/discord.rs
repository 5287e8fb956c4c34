//! The Discord plugin (TypeScript, componentize-js) through the host against
//! the mock Discord API.

use patchbay::types::{Attachment, Channel, ConnectorError, DeliveryStatus, InboundMessage, ProviderMeta};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use patchbay_tests::discord::{BOT_TOKEN, CHANNEL, LIMITED_CHANNEL, MockDiscord, OTHER_CHANNEL, UNKNOWN_CHANNEL};

use crate::support::{host, outbound};

async fn discord(mock: &MockDiscord, token: &str) -> (Host, Connection) {
    let host = host().await;
    let conn = host
        .connect(
            "messaging/discord",
            Credentials::from([("bot_token", token)]),
            Settings::from([("api_base".to_string(), mock.api_base())]),
        )
        .unwrap();
    (host, conn)
}

#[tokio::test]
async fn the_manifest_and_a_connection_test() {
    let mock = MockDiscord::start().await.unwrap();
    let (host, conn) = discord(&mock, BOT_TOKEN).await;
    let plugin = host.provider("messaging/discord").expect("the TypeScript plugin loads");
    assert_eq!(plugin.manifest().display_name, "Discord");
    assert!(
        plugin
            .imports()
            .iter()
            .any(|i| i.starts_with("wasi:http/outgoing-handler"))
    );

    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    assert_eq!(test.message, "Connected as patchbay-bot");

    let (_, refused) = discord(&mock, "wrong-token").await;
    let test = refused.test().await.unwrap();
    assert!(!test.success);
    assert!(test.message.contains("401: Unauthorized"), "{}", test.message);
}

#[tokio::test]
async fn sends_with_a_nonce_so_a_resend_posts_nothing_twice() {
    let mock = MockDiscord::start().await.unwrap();
    let (_host, conn) = discord(&mock, BOT_TOKEN).await;
    let messaging = conn.messaging().unwrap();
    let mut hello = outbound("order-1042-shipped", &[CHANNEL], "Order #1042 has shipped.");
    hello.subject = Some("Shipping update".into());

    let report = messaging.send(&hello).await.unwrap();
    assert_eq!(report.status, DeliveryStatus::Sent);
    let created = mock.created();
    assert_eq!(created.len(), 1);
    assert_eq!(report.message_id, created[0].id);
    let payload = &created[0].payload;
    assert_eq!(payload["content"], "**Shipping update**\nOrder #1042 has shipped.");
    assert_eq!(payload["nonce"], "order-1042-shipped");
    assert_eq!(payload["enforce_nonce"], true);
    assert_eq!(
        payload["allowed_mentions"]["parse"].as_array().unwrap().len(),
        0,
        "no pings"
    );

    let again = messaging.send(&hello).await.unwrap();
    assert_eq!(
        again.message_id, report.message_id,
        "Discord returns the message it made"
    );
    assert_eq!(mock.created().len(), 1);

    let long_id = "x".repeat(40);
    messaging
        .send(&outbound(&long_id, &[CHANNEL], "hashed nonce"))
        .await
        .unwrap();
    let nonce = mock.created()[1].payload["nonce"].as_str().unwrap().to_string();
    assert!(nonce.len() <= 25 && nonce.starts_with("pb-"), "{nonce}");
}

#[tokio::test]
async fn several_channels_attachments_and_replies() {
    let mock = MockDiscord::start().await.unwrap();
    let (_host, conn) = discord(&mock, BOT_TOKEN).await;
    let messaging = conn.messaging().unwrap();

    let both = messaging
        .send(&outbound("m-2", &[CHANNEL, OTHER_CHANNEL], "to both"))
        .await
        .unwrap();
    let created = mock.created();
    assert_eq!(both.message_id, format!("{},{}", created[0].id, created[1].id));
    assert_eq!(
        (created[0].channel_id.as_str(), created[1].channel_id.as_str()),
        (CHANNEL, OTHER_CHANNEL)
    );

    let mut invoice = outbound("m-3", &[CHANNEL], "Your invoice");
    let pdf = b"%PDF-1.7\n\x00\x01binary".to_vec();
    invoice.attachments = vec![Attachment {
        filename: "invoice-1042.pdf".into(),
        content_type: "application/pdf".into(),
        data: pdf.clone(),
    }];
    messaging.send(&invoice).await.unwrap();
    let upload = mock.created().pop().unwrap();
    assert_eq!(upload.payload["content"], "Your invoice");
    assert_eq!(upload.payload["attachments"][0]["filename"], "invoice-1042.pdf");
    assert_eq!(upload.files.len(), 1);
    let (field, filename, content_type, data) = &upload.files[0];
    assert_eq!(
        (field.as_str(), filename.as_str(), content_type.as_str()),
        ("files[0]", "invoice-1042.pdf", "application/pdf")
    );
    assert_eq!(data, &pdf, "binary bytes arrive intact");

    let received = InboundMessage {
        message_id: "1200000000000000777".into(),
        channel: Channel::Chat,
        sender: "1011111111111111111".into(),
        sender_name: "alice".into(),
        conversation_id: CHANNEL.into(),
        body: "where is my parcel?".into(),
        received_at: None,
        attachments: Vec::new(),
        extra: "{}".into(),
        provider_meta: ProviderMeta {
            provider: "discord".into(),
            raw_id: "1200000000000000777".into(),
            raw_payload: "{}".into(),
        },
    };
    let reply = messaging.reply(&received, "On its way.").await.unwrap();
    let created = mock.created().pop().unwrap();
    assert_eq!(reply.message_id, created.id);
    assert_eq!(
        created.payload["message_reference"]["message_id"],
        "1200000000000000777"
    );
    assert_eq!(created.payload["content"], "On its way.");
}

#[tokio::test]
async fn discord_errors_become_typed_connector_errors() {
    let mock = MockDiscord::start().await.unwrap();
    let (_host, conn) = discord(&mock, BOT_TOKEN).await;
    let messaging = conn.messaging().unwrap();

    match messaging.send(&outbound("e-1", &[UNKNOWN_CHANNEL], "hi")).await {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert!(m.contains("Unknown Channel (code 10003)"), "{m}")
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    match messaging.send(&outbound("e-2", &[LIMITED_CHANNEL], "hi")).await {
        Err(CallError::Connector(ConnectorError::RateLimited(after))) => assert_eq!(after, Some(65)),
        other => panic!("expected rate-limited, got {other:?}"),
    }
    assert_eq!(
        mock.attempts(LIMITED_CHANNEL),
        1,
        "a 65 s Retry-After is not waited out by the host"
    );
    let too_long = "a".repeat(2001);
    match messaging.send(&outbound("e-3", &[CHANNEL], &too_long)).await {
        Err(CallError::Connector(ConnectorError::Validation(m))) => assert!(m.contains("2000"), "{m}"),
        other => panic!("expected validation, got {other:?}"),
    }
    match messaging.send(&outbound("e-4", &["#general"], "hi")).await {
        Err(CallError::Connector(ConnectorError::Validation(m))) => assert!(m.contains("snowflake"), "{m}"),
        other => panic!("expected validation, got {other:?}"),
    }
    let mut sms = outbound("e-5", &[CHANNEL], "hi");
    sms.channel = Channel::Sms;
    assert!(matches!(
        messaging.send(&sms).await,
        Err(CallError::Connector(ConnectorError::Validation(_)))
    ));
    assert_eq!(
        mock.attempts(CHANNEL),
        0,
        "invalid messages are refused before anything is sent"
    );

    let (_, refused) = discord(&mock, "wrong-token").await;
    match refused
        .messaging()
        .unwrap()
        .send(&outbound("e-6", &[CHANNEL], "hi"))
        .await
    {
        Err(CallError::Connector(ConnectorError::Auth(m))) => assert!(m.contains("401"), "{m}"),
        other => panic!("expected auth, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bulk_send_reports_each_message_and_goes_on_after_a_failure() {
    let mock = MockDiscord::start().await.unwrap();
    let (_host, conn) = discord(&mock, BOT_TOKEN).await;
    let reports = conn
        .messaging()
        .unwrap()
        .send_bulk(&[
            outbound("b-1", &[CHANNEL], "first"),
            outbound("b-2", &[UNKNOWN_CHANNEL], "lost"),
            outbound("b-3", &[OTHER_CHANNEL], "third"),
        ])
        .await
        .unwrap();
    let statuses: Vec<DeliveryStatus> = reports.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [DeliveryStatus::Sent, DeliveryStatus::Rejected, DeliveryStatus::Sent]
    );
    assert_eq!(reports[1].message_id, "b-2");
    assert!(reports[1].error.as_deref().unwrap().contains("Unknown Channel"));
    assert_eq!(mock.created().len(), 2);
}
