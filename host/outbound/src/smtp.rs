//! The SMTP door: mail sent under the policy of the HTTP pipeline. The
//! server must be in the grant (`smtp://host:port`), its addresses pass the
//! same check after DNS (the session goes to the checked address, the
//! certificate is verified for the host name), the login's credential
//! fields are filled in here and never reach the plugin, a login never goes
//! out in clear, and the connection's circuit breaker, rate limit, the
//! host's timeouts and the call's deadline apply. A message is sent once:
//! the host does not repeat it, since a lost answer may mean a delivered
//! mail.

use std::str::FromStr as _;
use std::time::{Duration, Instant};

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::{Credentials as SmtpCredentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use url::Url;

use super::RequestContext;
use super::circuit::Outcome;
use super::door::Unadmitted;
use super::network;
use super::pipeline::Pipeline;

/// How a mail session is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSecurity {
    /// STARTTLS after the greeting, required.
    StartTls,
    /// TLS from the first byte.
    ImplicitTls,
    /// None: only without a login.
    None,
}

/// An SMTP login from two credential fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLogin {
    /// The field holding the user name.
    pub user_field: String,
    /// The field holding the password.
    pub password_field: String,
}

/// One message for the SMTP door.
#[derive(Debug, Clone)]
pub struct OutboundMail {
    /// `smtp://host:port`.
    pub server: Url,
    /// How the session is secured.
    pub security: MailSecurity,
    /// The login, if any.
    pub login: Option<MailLogin>,
    /// `MAIL FROM`.
    pub envelope_from: String,
    /// `RCPT TO`, at least one.
    pub envelope_to: Vec<String>,
    /// The RFC 5322 message.
    pub message: Vec<u8>,
}

/// A server's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailReply {
    /// The three-digit code.
    pub code: u16,
    /// Its text.
    pub message: String,
}

/// Why a message was not sent; each variant reaches the guest as the
/// matching `smtp-error` case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Refused by policy; nothing was sent.
    #[error("denied: {0}")]
    Denied(String),
    /// A timeout or the call's deadline.
    #[error("timeout: {0}")]
    Timeout(String),
    /// The connection failed.
    #[error("connection failed: {0}")]
    Connection(String),
    /// TLS failed.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The server refused the login.
    #[error("login refused: {} {}", .0.code, .0.message)]
    Auth(MailReply),
    /// The server refused the message or a recipient.
    #[error("refused: {} {}", .0.code, .0.message)]
    Refused(MailReply),
    /// The rate limiter could not admit it within the deadline.
    #[error("rate limited")]
    RateLimited(Option<u32>),
    /// The circuit breaker is open.
    #[error("circuit open: {0}")]
    CircuitOpen(String),
    /// A malformed request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl MailError {
    /// The label of the attempt in the metrics.
    fn label(&self) -> String {
        match self {
            Self::Denied(_) => "smtp-denied".into(),
            Self::Timeout(_) => "smtp-timeout".into(),
            Self::Connection(_) => "smtp-connection".into(),
            Self::Tls(_) => "smtp-tls".into(),
            Self::Auth(reply) | Self::Refused(reply) => format!("smtp-{}", reply.code),
            Self::RateLimited(_) => "smtp-rate-limited".into(),
            Self::CircuitOpen(_) => "smtp-circuit-open".into(),
            Self::InvalidRequest(_) => "smtp-invalid-request".into(),
        }
    }
}

fn address(text: &str, place: &str) -> Result<Address, MailError> {
    Address::from_str(text.trim())
        .map_err(|e| MailError::InvalidRequest(format!("{place}: {text:?} is not an e-mail address ({e})")))
}

/// The text of a server reply in a lettre error: its code and message.
fn reply_of(error: &lettre::transport::smtp::Error, scrub: &dyn Fn(&str) -> String) -> MailReply {
    let code = error.status().map(u16::from).unwrap_or(0);
    let text = scrub(&error.to_string());
    MailReply { code, message: text }
}

impl Pipeline {
    /// Sends one message through the SMTP door (see the module); with
    /// `send` false, only connects, secures and logs in (a check).
    pub(crate) async fn deliver_mail(
        &self,
        ctx: &RequestContext,
        mail: OutboundMail,
        send: bool,
    ) -> Result<MailReply, MailError> {
        if mail.server.scheme() != "smtp" {
            return Err(MailError::InvalidRequest(format!(
                "the server must be an smtp:// URL, not {:?}",
                mail.server.scheme()
            )));
        }
        let host = mail
            .server
            .host_str()
            .ok_or_else(|| MailError::InvalidRequest("the server URL has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = mail.server.port().unwrap_or(587);
        ctx.grant.check(&mail.server).map_err(MailError::Denied)?;
        if mail.login.is_some() && mail.security == MailSecurity::None {
            return Err(MailError::Denied(
                "a login is never sent in clear: use STARTTLS or implicit TLS".into(),
            ));
        }
        let envelope = if send {
            let from = address(&mail.envelope_from, "envelope-from")?;
            if mail.envelope_to.is_empty() {
                return Err(MailError::InvalidRequest(
                    "envelope-to: at least one recipient is needed".into(),
                ));
            }
            let to = mail
                .envelope_to
                .iter()
                .enumerate()
                .map(|(i, a)| address(a, &format!("envelope-to[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Some(Envelope::new(Some(from), to).map_err(|e| MailError::InvalidRequest(e.to_string()))?)
        } else {
            None
        };
        let credentials = match &mail.login {
            Some(login) => {
                let field = |name: &str| ctx.credential_field(name).map_err(MailError::Denied);
                Some(SmtpCredentials::new(
                    field(&login.user_field)?,
                    field(&login.password_field)?,
                ))
            }
            None => None,
        };
        let total = self.admit_door(ctx).await.map_err(|refused| match refused {
            Unadmitted::CircuitOpen(why) => MailError::CircuitOpen(why),
            Unadmitted::RateLimited(after) => MailError::RateLimited(Some(after)),
        })?;
        let started = Instant::now();
        let result = tokio::time::timeout(total, self.session(ctx, &host, port, &mail, envelope, credentials))
            .await
            .unwrap_or_else(|_| {
                Err(MailError::Timeout(format!(
                    "total timeout: the message was not through within {} ms",
                    total.as_millis()
                )))
            });
        let outcome = match &result {
            Ok(_) | Err(MailError::Refused(_)) => Some(Outcome::Success),
            Err(MailError::Auth(_)) => Some(Outcome::AuthFailure),
            Err(MailError::Timeout(_) | MailError::Connection(_) | MailError::Tls(_)) => Some(Outcome::Failure),
            Err(_) => None,
        };
        let label = match &result {
            Ok(reply) => format!("smtp-{}", reply.code),
            Err(error) => error.label(),
        };
        self.record_door(ctx, outcome, label, started).await;
        result
    }

    /// One SMTP session: resolve and check the server's address, connect,
    /// secure, log in, send.
    async fn session(
        &self,
        ctx: &RequestContext,
        host: &str,
        port: u16,
        mail: &OutboundMail,
        envelope: Option<Envelope>,
        credentials: Option<SmtpCredentials>,
    ) -> Result<MailReply, MailError> {
        let limits = self.limits();
        let scrub = |text: &str| ctx.reflections.scrub_str(text);
        let ip = network::checked_address(host, port, limits.connect_timeout, limits.allow_private_network)
            .await
            .map_err(|unreachable| match unreachable {
                network::Unreachable::Timeout(m) => MailError::Timeout(m),
                network::Unreachable::Unresolved(m) => MailError::Connection(m),
                network::Unreachable::Blocked(m) => MailError::Denied(m),
            })?;
        let tls = |host: &str| -> Result<TlsParameters, MailError> {
            let mut builder = TlsParameters::builder(host.to_string());
            for pem in &limits.door_root_certificates {
                let certificate = Certificate::from_pem(pem)
                    .map_err(|e| MailError::Tls(format!("a configured mail root certificate is unusable: {e}")))?;
                builder = builder.add_root_certificate(certificate);
            }
            builder.build_rustls().map_err(|e| MailError::Tls(e.to_string()))
        };
        let security = match mail.security {
            MailSecurity::StartTls => Tls::Required(tls(host)?),
            MailSecurity::ImplicitTls => Tls::Wrapper(tls(host)?),
            MailSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ip.to_string())
            .port(port)
            .tls(security)
            .timeout(Some(
                limits
                    .first_byte_timeout
                    .min(limits.idle_timeout.max(Duration::from_secs(1))),
            ));
        if let Some(credentials) = credentials {
            builder = builder
                .credentials(credentials)
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        let transport = builder.build();
        let Some(envelope) = envelope else {
            // A check: connect, secure, log in (lettre does all three for
            // a new connection), then quit.
            return match transport.test_connection().await {
                Ok(true) => Ok(MailReply {
                    code: 250,
                    message: "connected".into(),
                }),
                Ok(false) => Err(MailError::Connection("the server did not answer NOOP".into())),
                Err(error) => Err(map_error(&error, &scrub)),
            };
        };
        match transport.send_raw(&envelope, &mail.message).await {
            Ok(response) => Ok(MailReply {
                code: u16::from(response.code()),
                message: scrub(&response.message().collect::<Vec<_>>().join("\n")),
            }),
            Err(error) => Err(map_error(&error, &scrub)),
        }
    }
}

/// Maps lettre's error: a refused login (530, 534, 535, 538) is `auth`, a
/// 4xx or 5xx reply `refused`, TLS and timeouts their own, the rest the
/// connection's.
fn map_error(error: &lettre::transport::smtp::Error, scrub: &dyn Fn(&str) -> String) -> MailError {
    let code = error.status().map(u16::from);
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    // A failed handshake comes as a connection error naming the certificate.
    if error.is_tls() || lower.contains("certificate") || lower.contains("handshake") {
        return MailError::Tls(scrub(text.trim_start_matches("Connection error: ")));
    }
    if error.is_timeout() {
        return MailError::Timeout(format!("smtp timeout: {}", scrub(&error.to_string())));
    }
    // 535 is a refused login; 454, 530, 534 and 538 are when they say so.
    let login_refused = code == Some(535) || (matches!(code, Some(454 | 530 | 534 | 538)) && lower.contains("auth"));
    if login_refused {
        return MailError::Auth(reply_of(error, scrub));
    }
    if error.is_transient() || error.is_permanent() {
        return MailError::Refused(reply_of(error, scrub));
    }
    if error.is_client() {
        return MailError::InvalidRequest(scrub(&error.to_string()));
    }
    MailError::Connection(scrub(&error.to_string()))
}
