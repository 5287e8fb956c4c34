//! E-mail: messages written as RFC 5322 / MIME (text and HTML alternatives,
//! attachments) and sent through the host's SMTP door, which connects,
//! secures and logs in with credential fields the plugin names but never
//! reads.
//!
//! ```no_run
//! use patchbay_sdk::mail::{Login, Mail, Message, Security};
//! # fn demo() -> patchbay_sdk::Result<()> {
//! let message = Message::new("Shop <shop@example.com>", "Your order 1001")
//!     .to("ada@example.org")
//!     .text("It shipped.")
//!     .html("<p>It <b>shipped</b>.</p>");
//! let reply = Mail::new("smtp://mail.example.com:587", Security::Starttls)
//!     .login(Login { user_field: "username".into(), password_field: "password".into() })
//!     .send(&message)?;
//! println!("{} {}", reply.code, reply.message);
//! # Ok(()) }
//! ```

use crate::bindings::imports::patchbay::connector::smtp as wit;
use crate::{Error, Result};

pub use wit::{Login, Security, ServerReply, SmtpError};

/// The server and how to reach it.
#[derive(Debug, Clone)]
pub struct Mail {
    server: String,
    security: Security,
    login: Option<Login>,
}

impl Mail {
    /// A server, `smtp://host:port`, and how the session is secured.
    pub fn new(server: impl Into<String>, security: Security) -> Self {
        Self {
            server: server.into(),
            security,
            login: None,
        }
    }

    /// Logs in with these credential fields (filled in by the host).
    pub fn login(mut self, login: Login) -> Self {
        self.login = Some(login);
        self
    }

    /// Connects, secures the session and logs in, sending nothing: the
    /// connection check.
    pub fn check(&self) -> Result<()> {
        wit::check(&self.server, self.security, self.login.as_ref()).map_err(from_smtp_error)
    }

    /// Sends `message` to its recipients (To, Cc and Bcc), from its sender.
    pub fn send(&self, message: &Message) -> Result<ServerReply> {
        let recipients = message.recipients();
        if recipients.is_empty() {
            return Err(Error::Validation("the message has no recipient".into()));
        }
        let mail = wit::Mail {
            server: self.server.clone(),
            security: self.security,
            login: self.login.clone(),
            envelope_from: bare_address(&message.from).to_string(),
            envelope_to: recipients,
            message: message.to_bytes(),
        };
        wit::send(&mail).map_err(from_smtp_error)
    }
}

/// Maps why a message was not sent to the plugin's error: a refused login
/// is `auth`; a 5xx refusal `permanent` (a 550 unknown mailbox `not-found`
/// is not assumed: servers use 550 for policy too), a 4xx `provider`.
pub fn from_smtp_error(error: SmtpError) -> Error {
    match error {
        SmtpError::Denied(why) => Error::permanent(format!("denied by host policy: {why}")),
        SmtpError::Timeout(why) => Error::provider(format!("timed out: {why}")),
        SmtpError::Connection(why) => Error::provider(format!("connection failed: {why}")),
        SmtpError::Tls(why) => Error::provider(format!("TLS failed: {why}")),
        SmtpError::Auth(reply) => Error::Auth(format!(
            "the mail server refused the login: {} {}",
            reply.code, reply.message
        )),
        SmtpError::Refused(reply) if reply.code >= 500 => Error::permanent(format!(
            "the mail server refused the message: {} {}",
            reply.code, reply.message
        )),
        SmtpError::Refused(reply) => Error::provider(format!(
            "the mail server deferred the message: {} {}",
            reply.code, reply.message
        )),
        SmtpError::RateLimited(after) => Error::RateLimited(after),
        SmtpError::CircuitOpen(why) => Error::provider(format!("circuit open: {why}")),
        SmtpError::InvalidRequest(why) => Error::Validation(why),
    }
}

/// The address part of `Name <address>`.
pub fn bare_address(mailbox: &str) -> &str {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(open), Some(close)) if open < close => mailbox[open + 1..close].trim(),
        _ => mailbox.trim(),
    }
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct Part {
    filename: String,
    content_type: String,
    data: Vec<u8>,
}

/// A message being written: headers, text and HTML alternatives, files.
#[derive(Debug, Clone)]
pub struct Message {
    from: String,
    subject: String,
    to: Vec<String>,
    cc: Vec<String>,
    bcc: Vec<String>,
    reply_to: Option<String>,
    in_reply_to: Option<String>,
    message_id: Option<String>,
    date: Option<i64>,
    headers: Vec<(String, String)>,
    text: Option<String>,
    html: Option<String>,
    files: Vec<Part>,
}

impl Message {
    /// A message from `from` (`address` or `Name <address>`) about `subject`.
    pub fn new(from: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            from: from.into(),
            subject: subject.into(),
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            reply_to: None,
            in_reply_to: None,
            message_id: None,
            date: None,
            headers: Vec::new(),
            text: None,
            html: None,
            files: Vec::new(),
        }
    }

    /// Adds a `To` recipient.
    pub fn to(mut self, mailbox: impl Into<String>) -> Self {
        self.to.push(mailbox.into());
        self
    }

    /// Adds a `Cc` recipient.
    pub fn cc(mut self, mailbox: impl Into<String>) -> Self {
        self.cc.push(mailbox.into());
        self
    }

    /// Adds a `Bcc` recipient: in the envelope, not in the headers.
    pub fn bcc(mut self, mailbox: impl Into<String>) -> Self {
        self.bcc.push(mailbox.into());
        self
    }

    /// Sets `Reply-To`.
    pub fn reply_to(mut self, mailbox: impl Into<String>) -> Self {
        self.reply_to = Some(mailbox.into());
        self
    }

    /// Sets `In-Reply-To` and `References` (a reply in a thread).
    pub fn in_reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.in_reply_to = Some(message_id.into());
        self
    }

    /// Sets `Message-ID` (`<id@domain>`; one from the sender's domain is
    /// made otherwise).
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    /// Sets `Date` (Unix seconds; now otherwise).
    pub fn date(mut self, unix_seconds: i64) -> Self {
        self.date = Some(unix_seconds);
        self
    }

    /// Adds another header (its value encoded when not ASCII).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The plain-text body.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The HTML body (sent beside the text as `multipart/alternative`).
    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Attaches a file.
    pub fn attach(mut self, filename: impl Into<String>, content_type: impl Into<String>, data: Vec<u8>) -> Self {
        self.files.push(Part {
            filename: filename.into(),
            content_type: content_type.into(),
            data,
        });
        self
    }

    /// Every envelope recipient: To, Cc and Bcc, bare addresses.
    pub fn recipients(&self) -> Vec<String> {
        self.to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .map(|m| bare_address(m).to_string())
            .collect()
    }

    /// The message as RFC 5322 bytes, lines ending in CRLF.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        let mut header = |name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        };
        header("From", &mailbox_header(&self.from));
        if !self.to.is_empty() {
            header(
                "To",
                &self.to.iter().map(|m| mailbox_header(m)).collect::<Vec<_>>().join(", "),
            );
        }
        if !self.cc.is_empty() {
            header(
                "Cc",
                &self.cc.iter().map(|m| mailbox_header(m)).collect::<Vec<_>>().join(", "),
            );
        }
        if let Some(reply_to) = &self.reply_to {
            header("Reply-To", &mailbox_header(reply_to));
        }
        header("Subject", &encode_word(&self.subject));
        header("Date", &rfc2822(self.date.unwrap_or_else(crate::time::now)));
        let id = self.message_id.clone().unwrap_or_else(|| {
            let domain = bare_address(&self.from)
                .rsplit_once('@')
                .map_or("patchbay.invalid", |(_, d)| d);
            format!("<{}@{domain}>", random_token())
        });
        header("Message-ID", &id);
        if let Some(parent) = &self.in_reply_to {
            header("In-Reply-To", parent);
            header("References", parent);
        }
        for (name, value) in &self.headers {
            header(name, &encode_word(value));
        }
        header("MIME-Version", "1.0");
        let body = self.body();
        out.push_str(&body);
        out.into_bytes()
    }

    /// The body part: its headers and content.
    fn body(&self) -> String {
        let text = self.text.clone().unwrap_or_default();
        let alternative = match &self.html {
            Some(html) => {
                let boundary = format!("alt-{}", random_token());
                let mut part = format!("Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n");
                part.push_str(&format!("--{boundary}\r\n{}", text_part("text/plain", &text)));
                part.push_str(&format!("--{boundary}\r\n{}", text_part("text/html", html)));
                part.push_str(&format!("--{boundary}--\r\n"));
                part
            }
            None => text_part("text/plain", &text),
        };
        if self.files.is_empty() {
            return alternative;
        }
        let boundary = format!("mixed-{}", random_token());
        let mut part = format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n");
        part.push_str(&format!("--{boundary}\r\n{alternative}"));
        for file in &self.files {
            let name = encode_parameter(&file.filename);
            part.push_str(&format!(
                "--{boundary}\r\nContent-Type: {}; name={name}\r\nContent-Disposition: attachment; filename={name}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
                file.content_type,
                base64_lines(&file.data)
            ));
        }
        part.push_str(&format!("--{boundary}--\r\n"));
        part
    }
}

/// A text part: UTF-8, base64 (safe for any text and line length).
fn text_part(content_type: &str, text: &str) -> String {
    format!(
        "Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64_lines(text.as_bytes())
    )
}

fn base64_lines(data: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// A header value: as it is when printable ASCII, else an RFC 2047
/// encoded word (UTF-8, base64).
pub fn encode_word(value: &str) -> String {
    let value = value.replace(['\r', '\n'], " ");
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return value;
    }
    use base64::Engine as _;
    // Encoded words are at most 75 characters: 45 bytes of UTF-8 a word,
    // cut at character boundaries.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(w)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A mailbox for a header: the display name encoded when needed.
fn mailbox_header(mailbox: &str) -> String {
    let address = bare_address(mailbox);
    match mailbox.rfind('<') {
        Some(open) if mailbox.trim_end().ends_with('>') => {
            let name = mailbox[..open].trim().trim_matches('"');
            if name.is_empty() {
                format!("<{address}>")
            } else if name.bytes().all(|b| b.is_ascii_alphanumeric() || b" .-_'".contains(&b)) {
                format!("{name} <{address}>")
            } else if name.is_ascii() {
                format!("\"{}\" <{address}>", name.replace(['\\', '"'], ""))
            } else {
                format!("{} <{address}>", encode_word(name))
            }
        }
        _ => address.to_string(),
    }
}

/// A MIME parameter value: quoted ASCII, or RFC 2047 encoded (what mail
/// clients read for file names).
fn encode_parameter(value: &str) -> String {
    let clean = value.replace(['\r', '\n', '"', '\\'], "_");
    if clean.is_ascii() {
        format!("\"{clean}\"")
    } else {
        format!("\"{}\"", encode_word(&clean))
    }
}

/// An RFC 5322 date, in UTC.
fn rfc2822(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let stamp = crate::time::rfc3339(unix);
    // 2026-12-01T10:00:00Z
    let (y, m, d) = (&stamp[0..4], &stamp[5..7], &stamp[8..10]);
    let month: usize = m.parse().unwrap_or(1);
    let weekday = DAYS[unix.div_euclid(86_400).rem_euclid(7) as usize];
    format!("{weekday}, {d} {} {y} {} +0000", MONTHS[month - 1], &stamp[11..19])
}

/// 128 random bits as hex (wasi:random, through std's RandomState).
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("{:016x}{:016x}", word(), word())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_well_formed_mime() {
        let message = Message::new("Shop Ünïcode <shop@example.com>", "Order 1001 — shipped")
            .to("Ada Lovelace <ada@example.org>")
            .cc("ops@example.com")
            .bcc("audit@example.com")
            .date(1_796_119_200)
            .message_id("<m1@example.com>")
            .text("It shipped.")
            .html("<p>It shipped.</p>")
            .attach("facture été.pdf", "application/pdf", b"%PDF".to_vec());
        assert_eq!(
            message.recipients(),
            ["ada@example.org", "ops@example.com", "audit@example.com"]
        );
        let text = String::from_utf8(message.to_bytes()).unwrap();
        assert!(text.contains("From: =?utf-8?b?"), "{text}");
        assert!(text.contains("To: Ada Lovelace <ada@example.org>\r\n"));
        assert!(text.contains("Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"), "{text}");
        assert!(text.contains("Subject: =?utf-8?b?"));
        assert!(!text.contains("audit@example.com"), "Bcc stays out of the headers");
        assert!(text.contains("multipart/mixed") && text.contains("multipart/alternative"));
        assert!(text.lines().all(|l| l.len() <= 998));
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF line ends only");
        assert_eq!(bare_address("  x@y.z "), "x@y.z");
        assert_eq!(encode_word("plain"), "plain");
    }
}
