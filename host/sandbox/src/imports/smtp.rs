//! `smtp`: the guest's door to mail servers, through the host's SMTP door
//! (`patchbay_outbound::smtp`) under the call's grant and request limit.

use patchbay_contract::bindings::patchbay::connector::smtp::{self as wit, Mail, Security, ServerReply, SmtpError};
use patchbay_outbound::{MailError, MailLogin, MailReply, MailSecurity, OutboundMail};
use url::Url;
use wasmtime::component::HasData;

use super::HttpDoor;

/// What `smtp` sees of a call: its door, shared with `http`.
pub(crate) struct SmtpView<'a> {
    pub door: &'a HttpDoor,
}

/// Links `smtp` to an [`SmtpView`].
pub(crate) struct Smtp;

impl HasData for Smtp {
    type Data<'a> = SmtpView<'a>;
}

fn reply(r: MailReply) -> ServerReply {
    ServerReply {
        code: r.code,
        message: r.message,
    }
}

fn guest_error(error: MailError) -> SmtpError {
    match error {
        MailError::Denied(m) => SmtpError::Denied(m),
        MailError::Timeout(m) => SmtpError::Timeout(m),
        MailError::Connection(m) => SmtpError::Connection(m),
        MailError::Tls(m) => SmtpError::Tls(m),
        MailError::Auth(r) => SmtpError::Auth(reply(r)),
        MailError::Refused(r) => SmtpError::Refused(reply(r)),
        MailError::RateLimited(s) => SmtpError::RateLimited(s),
        MailError::CircuitOpen(m) => SmtpError::CircuitOpen(m),
        MailError::InvalidRequest(m) => SmtpError::InvalidRequest(m),
    }
}

/// The guest's mail, checked where it can be without policy.
fn outbound_mail(mail: Mail) -> Result<OutboundMail, SmtpError> {
    let server = server_url(&mail.server)?;
    Ok(OutboundMail {
        server,
        security: security(mail.security),
        login: mail.login.map(login),
        envelope_from: mail.envelope_from,
        envelope_to: mail.envelope_to,
        message: mail.message,
    })
}

fn security(security: Security) -> MailSecurity {
    match security {
        Security::Starttls => MailSecurity::StartTls,
        Security::ImplicitTls => MailSecurity::ImplicitTls,
        Security::None => MailSecurity::None,
    }
}

fn login(l: wit::Login) -> MailLogin {
    MailLogin {
        user_field: l.user_field,
        password_field: l.password_field,
    }
}

/// `smtp://host:port`, nothing more.
fn server_url(text: &str) -> Result<Url, SmtpError> {
    let server =
        Url::parse(text).map_err(|e| SmtpError::InvalidRequest(format!("{text:?} is not an smtp:// URL: {e}")))?;
    if server.scheme() != "smtp" || server.host_str().is_none_or(str::is_empty) {
        return Err(SmtpError::InvalidRequest(format!(
            "{text:?} is not an smtp://host:port URL"
        )));
    }
    if !matches!(server.path(), "" | "/") || server.query().is_some() || !server.username().is_empty() {
        return Err(SmtpError::InvalidRequest(format!(
            "{text:?}: the server is smtp://host:port, without a path, a query or user information"
        )));
    }
    Ok(server)
}

impl wit::Host for SmtpView<'_> {
    async fn send(&mut self, mail: Mail) -> wasmtime::Result<Result<ServerReply, SmtpError>> {
        let mail = match outbound_mail(mail) {
            Ok(mail) => mail,
            Err(error) => return Ok(Err(error)),
        };
        Ok(self.door.send_mail(mail).await.map(reply).map_err(guest_error))
    }

    async fn check(
        &mut self,
        server: String,
        security_: Security,
        login_: Option<wit::Login>,
    ) -> wasmtime::Result<Result<(), SmtpError>> {
        let server = match server_url(&server) {
            Ok(server) => server,
            Err(error) => return Ok(Err(error)),
        };
        let mail = OutboundMail {
            server,
            security: security(security_),
            login: login_.map(login),
            envelope_from: String::new(),
            envelope_to: Vec::new(),
            message: Vec::new(),
        };
        Ok(self.door.check_mail(mail).await.map_err(guest_error))
    }
}
