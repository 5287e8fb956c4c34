//! The e-mail plugin through the host's SMTP door, against aiosmtpd (PyPI,
//! started by `tests/with-smtp-server.sh` with STARTTLS and AUTH required):
//! the login filled in by the host (the password never enters the
//! sandbox), the message read back by Python's own `email` parser (headers,
//! text and HTML alternatives, attachments), replies in the thread, a
//! refused recipient, a refused login, and a certificate the host does not
//! trust.

use patchbay::types::{Attachment, ConnectorError, DeliveryStatus};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use serde_json::{Value, json};

use crate::support::{builder, outbound, plugins_dir, workspace};

const USER: &str = "mailer@example.com";
const PASSWORD: &str = "smtp-password-0123";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `just test` (tests/with-smtp-server.sh starts aiosmtpd)")
    })
}

/// A host that trusts the test server's CA, when `trust` says so.
async fn mailer(password: &str, trust: bool) -> (Host, Connection) {
    let mut host = builder().plugins_dir(plugins_dir());
    if trust {
        host = host.door_root_certificate(std::fs::read(env("PATCHBAY_SMTP_CA")).unwrap());
    }
    let host = host.build().await.unwrap();
    let connection = host
        .connect(
            "messaging/smtp",
            Credentials::from([("username", USER), ("password", password)]),
            Settings::from([
                ("server".to_string(), env("PATCHBAY_SMTP_SERVER")),
                ("from".to_string(), "Patchbay Shop <shop@example.com>".to_string()),
            ]),
        )
        .unwrap();
    (host, connection)
}

/// The received message whose `Message-ID` is `id`, as Python's `email`
/// parser reads it, and its envelope.
fn received(id: &str) -> Option<(Value, Value)> {
    let inbox = std::path::PathBuf::from(env("PATCHBAY_SMTP_INBOX"));
    let mut files: Vec<_> = std::fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    for file in files {
        let output = std::process::Command::new("python3")
            .arg(workspace().join("tests/smtp-read.py"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
        if parsed["headers"]["Message-ID"] == json!(id) {
            let envelope: Value =
                serde_json::from_str(&std::fs::read_to_string(file.with_extension("json")).unwrap()).unwrap();
            return Some((parsed, envelope));
        }
    }
    None
}

#[tokio::test]
async fn mail_goes_out_through_the_smtp_door_and_reads_back_as_written() {
    let (_host, conn) = mailer(PASSWORD, true).await;
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    let (_host2, wrong) = mailer("not-the-password", true).await;
    let refused = wrong.test().await.unwrap();
    assert!(!refused.success && refused.message.contains("535"), "{refused:?}");

    let messaging = conn.messaging().unwrap();
    let mut message = outbound(
        "order-1001-shipped",
        &["Ada Lovelace <ada@example.org>", "ops@example.com"],
        "Your order 1001 has shipped.\nThank you!",
    );
    message.channel = patchbay::types::Channel::Email;
    message.subject = Some("Commande 1001 expédiée ✓".into());
    message.html_body = Some("<p>Your order <b>1001</b> has shipped.</p>".into());
    let pdf: Vec<u8> = (0..3000u32).map(|i| (i % 256) as u8).collect();
    message.attachments.push(Attachment {
        filename: "facture-1001.pdf".into(),
        content_type: "application/pdf".into(),
        data: pdf.clone(),
    });
    let report = messaging.send(&message).await.unwrap();
    assert_eq!(report.status, DeliveryStatus::Sent);
    assert_eq!(report.message_id, "<patchbay.order-1001-shipped@example.com>");
    let (mail, envelope) = received(&report.message_id).expect("the server received it");
    assert_eq!(envelope["from"], "shop@example.com");
    assert_eq!(envelope["to"], json!(["ada@example.org", "ops@example.com"]));
    assert_eq!(envelope["authenticated"], true, "the host logged in");
    assert_eq!(envelope["encrypted"], true, "after STARTTLS");
    assert_eq!(mail["defects"], json!([]), "{mail}");
    let headers = &mail["headers"];
    assert_eq!(headers["From"], "Patchbay Shop <shop@example.com>");
    assert_eq!(headers["To"], "Ada Lovelace <ada@example.org>, ops@example.com");
    assert_eq!(headers["Subject"], "Commande 1001 expédiée ✓");
    assert_eq!(mail["content-type"], "multipart/mixed");
    assert_eq!(mail["text"], "Your order 1001 has shipped.\nThank you!");
    assert_eq!(mail["html"], "<p>Your order <b>1001</b> has shipped.</p>");
    let attachment = &mail["attachments"][0];
    assert_eq!(attachment["filename"], "facture-1001.pdf");
    assert_eq!(attachment["content-type"], "application/pdf");
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(attachment["data"].as_str().unwrap())
            .unwrap(),
        pdf
    );

    // A reply in the thread, to the sender of a received mail.
    let reply = conn
        .call_json(
            "messaging.reply",
            &json!({
                "to": {
                    "message-id": "<question-7@example.org>", "channel": "email",
                    "sender": "ada@example.org", "sender-name": "Ada", "conversation-id": "",
                    "body": "Where is my order?", "received-at": null, "attachments": [],
                    "extra": r#"{"subject": "Order 1001"}"#,
                    "provider-meta": {"provider": "smtp", "raw-id": "", "raw-payload": "{}"},
                },
                "body": "It shipped this morning.",
            }),
        )
        .await
        .unwrap();
    let (mail, envelope) = received(reply["message-id"].as_str().unwrap()).unwrap();
    assert_eq!(envelope["to"], json!(["ada@example.org"]));
    assert_eq!(mail["headers"]["In-Reply-To"], "<question-7@example.org>");
    assert_eq!(mail["headers"]["Subject"], "Re: Order 1001");

    // A recipient the server refuses: nothing is delivered, and the
    // refusal is permanent.
    let error = messaging
        .send(&outbound("m-refused", &["nobody@refused.example"], "hello"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CallError::Connector(ConnectorError::Permanent(f)) if f.message.contains("550")),
        "{error:?}"
    );
    assert!(received("<patchbay.m-refused@example.com>").is_none());
    let error = messaging
        .send(&outbound("m-bad", &["not an address"], "hello"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::Connector(ConnectorError::Validation(_))),
        "{error:?}"
    );
}

/// A server whose certificate the host does not trust gets nothing: not
/// the login, not the message.
#[tokio::test]
async fn an_untrusted_certificate_ends_the_session_before_the_login() {
    let (_host, conn) = mailer(PASSWORD, false).await;
    let error = conn.test().await.unwrap_err();
    assert!(error.to_string().contains("TLS"), "{error}");
    let error = conn
        .messaging()
        .unwrap()
        .send(&outbound("m-untrusted", &["ada@example.org"], "hello"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("TLS"), "{error}");
    assert!(received("<patchbay.m-untrusted@example.com>").is_none());
}
