//! Patchbay plugin for e-mail over SMTP, through the host's SMTP door
//! (`smtp` in the contract): the plugin writes the message (MIME: text and
//! HTML alternatives, attachments, threading headers); the host connects,
//! secures the session (STARTTLS or implicit TLS, the certificate verified),
//! logs in with the `username` and `password` credential fields — which
//! never enter the sandbox — and sends it. The manifest is `patchbay.toml`.

use patchbay_sdk::delivery::send_each;
use patchbay_sdk::mail::{Login, Mail, Message, Security, bare_address};
use patchbay_sdk::prelude::*;
use serde_json::Value;

/// The SMTP adapter.
pub struct Smtp;

/// The connection's server, security and login.
fn server() -> Result<Mail> {
    let server = config::require("server")?;
    let security = match config::get_or("security", "starttls")?.as_str() {
        "starttls" => Security::Starttls,
        "implicit-tls" => Security::ImplicitTls,
        other => {
            return Err(Error::Config(format!(
                "the setting security is {other:?}: starttls or implicit-tls"
            )));
        }
    };
    Ok(Mail::new(server, security).login(Login {
        user_field: "username".into(),
        password_field: "password".into(),
    }))
}

/// The sender, checked to hold an address.
fn sender() -> Result<String> {
    let from = config::require("from")?;
    if !bare_address(&from).contains('@') {
        return Err(Error::Config(format!(
            "the setting from is {from:?}: an address, or Name <address>"
        )));
    }
    Ok(from)
}

/// A `Message-ID` from the caller's message id, so that the same message
/// sent again carries the same id (receivers and archives can tell).
fn message_id(id: &str, from: &str) -> String {
    let local: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let domain = bare_address(from)
        .rsplit_once('@')
        .map_or("patchbay.invalid", |(_, d)| d);
    format!("<patchbay.{local}@{domain}>")
}

/// A recipient, checked.
fn recipient(index: usize, to: &str) -> Result<String> {
    let address = bare_address(to);
    let valid = address
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') || domain == "localhost")
        && !address.contains(char::is_whitespace);
    if valid {
        Ok(to.trim().to_string())
    } else {
        Err(Error::Validation(format!(
            "to[{index}]: {to:?} is not an e-mail address"
        )))
    }
}

/// The message as the port describes it, written as MIME.
fn compose(message: &OutboundMessage) -> Result<(Message, String)> {
    if message.to.is_empty() {
        return Err(Error::Validation("to: at least one address is needed".into()));
    }
    let from = sender()?;
    let id = message_id(&message.message_id, &from);
    let subject = message.subject.clone().unwrap_or_default();
    let mut mail = Message::new(from, subject).message_id(id.clone()).text(&message.body);
    for (i, to) in message.to.iter().enumerate() {
        mail = mail.to(recipient(i, to)?);
    }
    if let Some(html) = message.html_body.as_deref().filter(|h| !h.trim().is_empty()) {
        mail = mail.html(html);
    }
    if let Some(parent) = message.reply_to.as_deref().filter(|p| !p.trim().is_empty()) {
        mail = mail.in_reply_to(angle(parent));
    }
    for attachment in &message.attachments {
        let content_type = if attachment.content_type.trim().is_empty() {
            "application/octet-stream"
        } else {
            attachment.content_type.as_str()
        };
        mail = mail.attach(&attachment.filename, content_type, attachment.data.clone());
    }
    Ok((mail, id))
}

/// A message id in angle brackets, as `In-Reply-To` holds it.
fn angle(id: &str) -> String {
    let id = id.trim();
    if id.starts_with('<') {
        id.to_string()
    } else {
        format!("<{id}>")
    }
}

fn sent(id: String) -> DeliveryReport {
    DeliveryReport {
        message_id: id,
        status: DeliveryStatus::Sent,
        error: None,
        delivered_at: Some(patchbay_sdk::time::rfc3339(patchbay_sdk::time::now())),
    }
}

impl Connector for Smtp {
    fn test_connection() -> Result<ConnectionTest> {
        match server()?.check() {
            Ok(()) => patchbay_sdk::client::connected("Logged in to the SMTP server"),
            Err(Error::Auth(why)) => patchbay_sdk::client::refused(why),
            Err(other) => Err(other),
        }
    }
}

impl Messaging for Smtp {
    fn send(message: OutboundMessage) -> Result<DeliveryReport> {
        let (mail, id) = compose(&message)?;
        server()?.send(&mail)?;
        Ok(sent(id))
    }

    fn send_bulk(messages: Vec<OutboundMessage>) -> Result<Vec<DeliveryReport>> {
        send_each(&messages, |message| <Smtp as Messaging>::send(message.clone()))
    }

    /// Replies to the sender, in the thread (`In-Reply-To`), with `Re:` and
    /// the original subject when the received message's `extra` has one.
    fn reply(to: InboundMessage, body: String) -> Result<DeliveryReport> {
        let extra: Value = serde_json::from_str(&to.extra).unwrap_or(Value::Null);
        let subject = extra
            .get("subject")
            .and_then(Value::as_str)
            .map(|s| {
                if s.to_ascii_lowercase().starts_with("re:") {
                    s.to_string()
                } else {
                    format!("Re: {s}")
                }
            })
            .unwrap_or_else(|| "Re:".into());
        let message = OutboundMessage {
            message_id: format!("reply-{}", to.message_id),
            channel: Channel::Email,
            to: vec![to.sender.clone()],
            reply_to: Some(to.message_id.clone()),
            subject: Some(subject),
            body,
            html_body: None,
            template_id: None,
            template_vars: Vec::new(),
            attachments: Vec::new(),
        };
        <Smtp as Messaging>::send(message)
    }
}

patchbay_sdk::export!(Smtp: messaging);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_and_recipients() {
        assert_eq!(
            message_id("order 1001/ship", "Shop <shop@example.com>"),
            "<patchbay.order_1001_ship@example.com>"
        );
        assert!(recipient(0, "Ada <ada@example.org>").is_ok());
        assert!(recipient(0, "ada@localhost").is_ok());
        let error = recipient(2, "not an address").unwrap_err();
        assert!(
            matches!(&error, Error::Validation(m) if m.starts_with("to[2]")),
            "{error:?}"
        );
        assert_eq!(angle("m1@x"), "<m1@x>");
    }
}
