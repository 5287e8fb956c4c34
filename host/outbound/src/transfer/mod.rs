//! The file-transfer door: SFTP and FTP/FTPS under the policy of the HTTP
//! pipeline. The server must be in the grant (`sftp://host:port`,
//! `ftp://host:port`, `ftps://host:port`), its address passes the same check
//! after DNS (the session, and FTP's passive data connections, go to the
//! checked address), the login's credential fields are filled in here and
//! never reach the plugin, an SSH host key must be pinned by the operator, a
//! password never goes out in clear, and the connection's circuit breaker,
//! rate limit (one unit per operation), the host's timeouts and the call's
//! deadline apply. Contents travel as blobs, in bounded memory.
//!
//! A call's sessions live in its [`TransferSessions`]: the second operation
//! on a server reuses the first one's login, and the sessions close when
//! the call ends.

mod ftp;
mod io;
mod sftp;

use std::collections::HashMap;
use std::time::Instant;

use url::Url;

use super::circuit::Outcome;
use super::door::Unadmitted;
use super::pipeline::Pipeline;
use super::{Blob, BlobWriter, HttpLimits, RequestBody, RequestContext, network};

/// The protocol of a file server and how it is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileProtocol {
    /// SFTP over SSH (`sftp://`).
    Sftp,
    /// FTP with `AUTH TLS` before the login (`ftp://`).
    FtpExplicitTls,
    /// FTP over TLS from the first byte (`ftps://`).
    FtpImplicitTls,
    /// Plain FTP (`ftp://`): anonymous only.
    Ftp,
}

impl FileProtocol {
    /// The URL scheme it is reached by.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Sftp => "sftp",
            Self::FtpExplicitTls | Self::Ftp => "ftp",
            Self::FtpImplicitTls => "ftps",
        }
    }

    /// The label of its attempts in the metrics.
    fn label(self) -> &'static str {
        match self {
            Self::Sftp => "sftp",
            _ => "ftp",
        }
    }
}

/// A login from credential fields the plugin names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileLogin {
    /// The field holding the user name.
    pub user_field: String,
    /// The field holding the password, if any.
    pub password_field: Option<String>,
    /// The field holding a private key (SFTP), if any.
    pub private_key_field: Option<String>,
}

/// How an SSH server's host key is trusted: by the value of a connection
/// setting the plugin names and the operator sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostKeyTrust {
    /// The plugin named no setting: every key is refused.
    Unnamed,
    /// The setting `name`, and its value on the connection when set: host
    /// keys (OpenSSH public key lines) or `SHA256:` fingerprints, one per
    /// line, or `accept-any`.
    Setting {
        /// The setting's name.
        name: String,
        /// Its value, when the connection has it.
        value: Option<String>,
    },
}

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileServer {
    /// `sftp://host:port`, `ftp://host:port` or `ftps://host:port`.
    pub url: Url,
    /// The protocol, agreeing with the scheme.
    pub protocol: FileProtocol,
    /// The login; anonymous FTP when none.
    pub login: Option<FileLogin>,
    /// How an SSH host key is trusted (SFTP).
    pub host_keys: HostKeyTrust,
}

impl FileServer {
    fn host(&self) -> &str {
        self.url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
    }

    /// Its port: the URL's, or its scheme's default (22, 21, 990).
    pub fn port(&self) -> u16 {
        self.url
            .port()
            .or_else(|| super::allowlist::default_port(self.url.scheme()))
            .unwrap_or(22)
    }
}

/// A file or folder on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The last segment of its path.
    pub name: String,
    /// Whether it is a folder.
    pub is_dir: bool,
    /// Its size in bytes, when the server says.
    pub size: Option<u64>,
    /// Its modification time in seconds since the Unix epoch, when the
    /// server says.
    pub modified: Option<u64>,
}

/// One operation on a file server; paths are absolute.
#[derive(Debug)]
pub enum TransferOp {
    /// What is at a path, or none.
    Stat(String),
    /// The entries of a folder.
    List(String),
    /// Writes a file from a blob range or bytes.
    Upload {
        /// Where.
        path: String,
        /// What.
        contents: RequestBody,
    },
    /// Reads `length` bytes (to the end when none) from `offset` into a blob.
    Download {
        /// Which file.
        path: String,
        /// From where.
        offset: u64,
        /// How much.
        length: Option<u64>,
        /// The blob to write.
        into: BlobWriter,
    },
    /// Removes a file.
    Remove(String),
    /// Makes a folder and its missing parents.
    MakeDirs(String),
    /// Removes an empty folder.
    RemoveDir(String),
    /// Renames a file or folder.
    Rename {
        /// The old path.
        from: String,
        /// The new path.
        to: String,
    },
}

impl TransferOp {
    /// Its name in logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Stat(_) => "stat",
            Self::List(_) => "list",
            Self::Upload { .. } => "upload",
            Self::Download { .. } => "download",
            Self::Remove(_) => "remove",
            Self::MakeDirs(_) => "make-dirs",
            Self::RemoveDir(_) => "remove-dir",
            Self::Rename { .. } => "rename",
        }
    }

    /// The paths it names.
    pub fn paths(&self) -> Vec<&str> {
        match self {
            Self::Stat(p) | Self::List(p) | Self::Remove(p) | Self::MakeDirs(p) | Self::RemoveDir(p) => vec![p],
            Self::Upload { path, .. } | Self::Download { path, .. } => vec![path],
            Self::Rename { from, to } => vec![from, to],
        }
    }
}

/// What an operation answers.
#[derive(Debug)]
pub enum TransferAnswer {
    /// [`TransferOp::Stat`].
    Entry(Option<FileEntry>),
    /// [`TransferOp::List`].
    Entries(Vec<FileEntry>),
    /// [`TransferOp::Upload`]: the bytes written.
    Written(u64),
    /// [`TransferOp::Download`].
    Blob(Blob),
    /// The rest.
    Done,
}

/// Why an operation failed; each variant reaches the guest as the matching
/// `transfer-error` case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
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
    #[error("login refused: {0}")]
    Auth(String),
    /// No such file or folder.
    #[error("not found: {0}")]
    NotFound(String),
    /// The server refused the operation.
    #[error("refused: {0}")]
    Refused(String),
    /// The rate limiter could not admit it within the deadline.
    #[error("rate limited")]
    RateLimited(Option<u32>),
    /// The circuit breaker is open.
    #[error("circuit open: {0}")]
    CircuitOpen(String),
    /// A malformed request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A download larger than the host's blob limit.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
}

impl TransferError {
    fn label(&self) -> &'static str {
        match self {
            Self::Denied(_) => "denied",
            Self::Timeout(_) => "timeout",
            Self::Connection(_) => "connection",
            Self::Tls(_) => "tls",
            Self::Auth(_) => "auth",
            Self::NotFound(_) => "not-found",
            Self::Refused(_) => "refused",
            Self::RateLimited(_) => "rate-limited",
            Self::CircuitOpen(_) => "circuit-open",
            Self::InvalidRequest(_) => "invalid-request",
            Self::TooLarge(_) => "too-large",
        }
    }

    /// Whether the session is no longer usable after it.
    fn breaks_session(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Connection(_) | Self::Tls(_))
    }

    /// The same error with its text passed through `f` (scrubbing).
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Self {
        match self {
            Self::Denied(m) => Self::Denied(f(&m)),
            Self::Timeout(m) => Self::Timeout(f(&m)),
            Self::Connection(m) => Self::Connection(f(&m)),
            Self::Tls(m) => Self::Tls(f(&m)),
            Self::Auth(m) => Self::Auth(f(&m)),
            Self::NotFound(m) => Self::NotFound(f(&m)),
            Self::Refused(m) => Self::Refused(f(&m)),
            Self::CircuitOpen(m) => Self::CircuitOpen(f(&m)),
            Self::InvalidRequest(m) => Self::InvalidRequest(f(&m)),
            other @ (Self::RateLimited(_) | Self::TooLarge(_)) => other,
        }
    }
}

/// The open sessions of one call, by server and login; closed when dropped.
#[derive(Default)]
pub struct TransferSessions {
    open: tokio::sync::Mutex<HashMap<FileServer, Session>>,
}

impl std::fmt::Debug for TransferSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferSessions")
    }
}

/// A logged-in session.
enum Session {
    Sftp(sftp::SftpSession),
    Ftp(Box<ftp::FtpSession>),
}

impl Session {
    async fn run(&mut self, op: TransferOp, limits: &HttpLimits) -> Result<TransferAnswer, TransferError> {
        match self {
            Self::Sftp(session) => session.run(op, limits).await,
            Self::Ftp(session) => session.run(op, limits).await,
        }
    }
}

/// What a session needs to connect: the checked address and the login's
/// secrets, read from the connection's credentials.
pub(crate) struct Connect<'a> {
    pub server: &'a FileServer,
    pub ip: std::net::IpAddr,
    pub user: Option<String>,
    pub password: Option<String>,
    pub private_key: Option<String>,
    pub limits: &'a HttpLimits,
}

/// A path the door accepts: absolute, without control characters (which
/// FTP would read as the end of a command).
fn checked_path(path: &str) -> Result<(), TransferError> {
    if !path.starts_with('/') {
        return Err(TransferError::InvalidRequest(format!(
            "{path:?} is not an absolute path (it must start with /)"
        )));
    }
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return Err(TransferError::InvalidRequest(format!(
            "{path:?} holds the control character {c:?}"
        )));
    }
    Ok(())
}

/// What servers and operators hand the door, parsed as the door parses
/// it: for the fuzz target `file_transfer` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    use super::FileEntry;

    /// A line of an FTP listing (`MLSD` facts when `machine`, else `LIST`).
    pub fn listing_line(line: &str, machine: bool) -> Result<Option<FileEntry>, String> {
        super::ftp::listing_line(line, machine)
    }

    /// A host key setting's value: how many keys and fingerprints it pins
    /// (none: `accept-any`).
    pub fn host_key_pins(value: &str) -> Result<usize, String> {
        Ok(match super::sftp::trust("host_key", value)? {
            super::sftp::Trust::AcceptAny => 0,
            super::sftp::Trust::Pinned(pins) => pins.len(),
        })
    }
}

/// Whether a name a server listed can be one segment of a path: not
/// empty, `.` or `..`, without a `/` or a control character. A hostile
/// server's other names are left out of listings.
pub(crate) fn one_segment(name: &str) -> bool {
    !matches!(name, "" | "." | "..") && !name.contains('/') && !name.chars().any(char::is_control)
}

/// The last segment of a path.
pub(crate) fn file_name(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The folders from the root down to `path` itself: `/a/b` → `/a`, `/a/b`.
pub(crate) fn ancestry(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        current.push('/');
        current.push_str(segment);
        out.push(current.clone());
    }
    out
}

impl Pipeline {
    /// Runs one operation through the file-transfer door (see the module).
    pub(crate) async fn transfer(
        &self,
        ctx: &RequestContext,
        sessions: &TransferSessions,
        server: FileServer,
        op: TransferOp,
    ) -> Result<TransferAnswer, TransferError> {
        let limits = self.limits();
        if server.url.scheme() != server.protocol.scheme() {
            return Err(TransferError::InvalidRequest(format!(
                "the protocol {:?} is reached by {}:// URLs, not {}://",
                server.protocol,
                server.protocol.scheme(),
                server.url.scheme()
            )));
        }
        if server.host().is_empty() {
            return Err(TransferError::InvalidRequest("the server URL has no host".into()));
        }
        for path in op.paths() {
            checked_path(path)?;
        }
        ctx.grant.check(&server.url).map_err(TransferError::Denied)?;
        let login = server.login.as_ref();
        // Any login, not only a password: a plugin could name the password
        // field as the user name.
        if server.protocol == FileProtocol::Ftp && login.is_some() {
            return Err(TransferError::Denied(
                "a login is never sent in clear: plain FTP is for anonymous servers; use explicit or implicit TLS"
                    .into(),
            ));
        }
        if server.protocol != FileProtocol::Sftp && login.is_some_and(|l| l.private_key_field.is_some()) {
            return Err(TransferError::InvalidRequest(
                "a private key logs in to SFTP only".into(),
            ));
        }
        let total = self.admit_door(ctx).await.map_err(|refused| match refused {
            Unadmitted::CircuitOpen(why) => TransferError::CircuitOpen(why),
            Unadmitted::RateLimited(after) => TransferError::RateLimited(Some(after)),
        })?;
        let started = Instant::now();
        let scrub = |text: &str| ctx.reflections.scrub_str(text);
        let mut open = sessions.open.lock().await;
        let protocol = server.protocol;
        let result = tokio::time::timeout(total, async {
            if !open.contains_key(&server) {
                let session = self.connect(ctx, &server).await?;
                open.insert(server.clone(), session);
            }
            let session = open.get_mut(&server).expect("inserted above");
            session.run(op, limits).await
        })
        .await
        .unwrap_or_else(|_| {
            Err(TransferError::Timeout(format!(
                "total timeout: the operation was not over within {} ms",
                total.as_millis()
            )))
        })
        .map_err(|error| error.map_text(scrub));
        if result.as_ref().is_err_and(TransferError::breaks_session) {
            open.remove(&server);
        }
        drop(open);
        let outcome = match &result {
            Ok(_) | Err(TransferError::NotFound(_) | TransferError::Refused(_) | TransferError::TooLarge(_)) => {
                Some(Outcome::Success)
            }
            Err(TransferError::Auth(_)) => Some(Outcome::AuthFailure),
            Err(TransferError::Timeout(_) | TransferError::Connection(_) | TransferError::Tls(_)) => {
                Some(Outcome::Failure)
            }
            Err(_) => None,
        };
        let label = match &result {
            Ok(_) => format!("{}-ok", protocol.label()),
            Err(error) => format!("{}-{}", protocol.label(), error.label()),
        };
        self.record_door(ctx, outcome, label, started).await;
        result
    }

    /// Resolves and checks the server's address, reads the login's fields
    /// and opens a session.
    async fn connect(&self, ctx: &RequestContext, server: &FileServer) -> Result<Session, TransferError> {
        let limits = self.limits();
        // A password or a key the connection does not have is a way of
        // logging in it does not use (both are optional in a manifest);
        // without either, SFTP has no login (below).
        let field = |name: &Option<String>| name.as_deref().and_then(|name| ctx.credential_field(name).ok());
        let login = server.login.as_ref();
        let user = login
            .map(|l| ctx.credential_field(&l.user_field).map_err(TransferError::Denied))
            .transpose()?;
        let password = field(&login.and_then(|l| l.password_field.clone()));
        let private_key = field(&login.and_then(|l| l.private_key_field.clone()));
        if server.protocol == FileProtocol::Sftp && password.is_none() && private_key.is_none() {
            return Err(TransferError::Denied(
                "an SFTP login needs a password or a private key: the connection has neither of the credential \
                 fields the login names"
                    .into(),
            ));
        }
        let ip = network::checked_address(
            server.host(),
            server.port(),
            limits.connect_timeout,
            limits.allow_private_network,
        )
        .await
        .map_err(|unreachable| match unreachable {
            network::Unreachable::Timeout(m) => TransferError::Timeout(m),
            network::Unreachable::Unresolved(m) => TransferError::Connection(m),
            network::Unreachable::Blocked(m) => TransferError::Denied(m),
        })?;
        let connect = Connect {
            server,
            ip,
            user,
            password,
            private_key,
            limits,
        };
        Ok(match server.protocol {
            FileProtocol::Sftp => Session::Sftp(sftp::SftpSession::connect(connect).await?),
            _ => Session::Ftp(Box::new(ftp::FtpSession::connect(connect).await?)),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::{CircuitConfig, HostGrant, HostPattern, OutboundMetrics, Reflections, RetryPolicy};
    use patchbay_secrets::Credentials;

    fn pipeline(limits: HttpLimits) -> Pipeline {
        let store = Arc::new(patchbay_store::MemoryStore::new());
        Pipeline::new(
            limits,
            CircuitConfig::default(),
            store.clone(),
            store,
            Arc::new(OutboundMetrics::unregistered()),
        )
        .unwrap()
    }

    fn context(allowed: &[&str]) -> RequestContext {
        RequestContext {
            provider: "storage/test".into(),
            connection_id: "c1".into(),
            call_id: "call-1".into(),
            grant: Arc::new(HostGrant::new(
                allowed.iter().map(|p| HostPattern::parse(p).unwrap()).collect(),
                None,
            )),
            credentials: Arc::new(Credentials::from([("user", "alice"), ("password", "s3cret")])),
            reflections: Reflections::new(["s3cret"]),
            deadline: Instant::now() + Duration::from_secs(20),
            retry: Arc::new(RetryPolicy::default()),
            rate_quota: None,
            rate_key: "storage/test|c1".into(),
            credentials_fingerprint: "fp".into(),
            oauth: None,
            sigv4_services: None,
            forwarding_headers: Arc::from(Vec::new()),
            cost_budget: None,
        }
    }

    fn server(url: &str, protocol: FileProtocol) -> FileServer {
        FileServer {
            url: Url::parse(url).unwrap(),
            protocol,
            login: Some(FileLogin {
                user_field: "user".into(),
                password_field: Some("password".into()),
                private_key_field: None,
            }),
            host_keys: HostKeyTrust::Setting {
                name: "host_key".into(),
                value: Some("accept-any".into()),
            },
        }
    }

    async fn stat(pipeline: &Pipeline, ctx: &RequestContext, server: FileServer) -> TransferError {
        let sessions = TransferSessions::default();
        pipeline
            .transfer(ctx, &sessions, server, TransferOp::Stat("/a.txt".into()))
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn the_door_refuses_what_the_policy_does_not_allow_before_connecting() {
        let open = pipeline(HttpLimits {
            allow_private_network: true,
            ..HttpLimits::default()
        });
        // A server outside the grant.
        let ctx = context(&["sftp://files.example.com"]);
        let refused = stat(&open, &ctx, server("sftp://127.0.0.1:1", FileProtocol::Sftp)).await;
        assert!(
            matches!(&refused, TransferError::Denied(m) if m.contains("127.0.0.1")),
            "{refused:?}"
        );
        // A loopback address, private networks not allowed.
        let closed = pipeline(HttpLimits::default());
        let ctx = context(&["sftp://127.0.0.1:1", "ftp://127.0.0.1:1"]);
        let refused = stat(&closed, &ctx, server("sftp://127.0.0.1:1", FileProtocol::Sftp)).await;
        assert!(
            matches!(&refused, TransferError::Denied(m) if m.contains("loopback")),
            "{refused:?}"
        );
        // A login in clear, even one naming the password as the user.
        let mut in_clear = server("ftp://127.0.0.1:1", FileProtocol::Ftp);
        in_clear.login.as_mut().unwrap().user_field = "password".into();
        in_clear.login.as_mut().unwrap().password_field = None;
        let refused = stat(&open, &ctx, in_clear).await;
        assert!(
            matches!(&refused, TransferError::Denied(m) if m.contains("in clear")),
            "{refused:?}"
        );
        // A protocol its URL does not match.
        let refused = stat(&open, &ctx, server("ftp://127.0.0.1:1", FileProtocol::Sftp)).await;
        assert!(matches!(&refused, TransferError::InvalidRequest(_)), "{refused:?}");
        // An SSH host key nobody pinned.
        let mut unpinned = server("sftp://127.0.0.1:1", FileProtocol::Sftp);
        unpinned.host_keys = HostKeyTrust::Setting {
            name: "host_key".into(),
            value: None,
        };
        let refused = stat(&open, &ctx, unpinned).await;
        assert!(
            matches!(&refused, TransferError::Denied(m) if m.contains("host_key")),
            "{refused:?}"
        );
    }

    /// A hostile upstream that takes the connection and never says a word:
    /// the session is cut off at the first-byte timeout, for both protocols.
    #[tokio::test]
    async fn a_server_that_never_speaks_is_cut_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let silent = pipeline(HttpLimits {
            allow_private_network: true,
            first_byte_timeout: Duration::from_millis(300),
            ..HttpLimits::default()
        });
        let sftp = format!("sftp://127.0.0.1:{port}");
        let ftp = format!("ftp://127.0.0.1:{port}");
        let ctx = context(&[&sftp, &ftp]);
        for server in [
            server(&sftp, FileProtocol::Sftp),
            server(&ftp, FileProtocol::FtpExplicitTls),
        ] {
            let started = Instant::now();
            let refused = stat(&silent, &ctx, server).await;
            assert!(matches!(&refused, TransferError::Timeout(_)), "{refused:?}");
            assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        }
    }

    #[test]
    fn paths_must_be_absolute_and_free_of_control_characters() {
        assert!(checked_path("/a b/ü.txt").is_ok());
        assert!(matches!(checked_path("a.txt"), Err(TransferError::InvalidRequest(m)) if m.contains("absolute")));
        let injected = checked_path("/a.txt\r\nDELE /b").unwrap_err();
        assert!(injected.to_string().contains("control character"), "{injected}");
    }

    #[test]
    fn ancestry_walks_from_the_root() {
        assert_eq!(ancestry("/a/b/"), ["/a", "/a/b"]);
        assert!(ancestry("/").is_empty());
        assert_eq!(file_name("/a/b.txt"), "b.txt");
        assert_eq!(file_name("/a/b/"), "b");
    }
}
