//! # patchbay-outbound
//!
//! The outbound HTTP pipeline: the one place where every plugin's requests
//! are checked, authenticated and sent.
//!
//! The `http` import turns a guest request into an [`OutboundRequest`] and
//! hands it to the host's [`OutboundPolicy`]. [`Pipeline`] is the production
//! implementation (allowlist, credentials, redirects re-checked hop by hop,
//! timeouts, size limits); tests and embedders may supply their own.

#![deny(missing_docs)]

pub mod allowlist;
pub mod auth;
pub mod blob;
pub mod circuit;
mod door;
pub mod headers;
mod limits;
mod metrics;
pub mod network;
mod pipeline;
pub mod ratelimit;
pub mod reflection;
pub mod retry;
mod smtp;
mod stream;
mod timeouts;
mod transfer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

pub use allowlist::{HostGrant, HostPattern, PatternError};
pub use auth::AuthScheme;
pub use blob::{Blob, BlobRange, BlobWriter, Spool, Swept};
pub use circuit::{CircuitBreaker, CircuitConfig};
pub use limits::HttpLimits;
pub use metrics::OutboundMetrics;
pub use patchbay_store::RateQuota;
pub use pipeline::{BODY_SECRETS_HEADER, Pipeline, guarded_client};
pub use ratelimit::{BudgetRefusal, CostBudget};
pub use reflection::Reflections;
pub use retry::RetryPolicy;
pub use smtp::{MailError, MailLogin, MailReply, MailSecurity, OutboundMail};
pub use stream::{BodyStream, StreamedResponse};
pub use transfer::fuzzing as transfer_fuzzing;
pub use transfer::{
    FileEntry, FileLogin, FileProtocol, FileServer, HostKeyTrust, TransferAnswer, TransferError, TransferOp,
    TransferSessions,
};

use patchbay_secrets::Credentials;

/// An HTTP method.
pub type Method = reqwest::Method;

/// When the pipeline may retry a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryMode {
    /// Idempotent methods, and others with an idempotency key.
    #[default]
    Automatic,
    /// Never.
    Never,
}

/// A request as the plugin asked for it, before policy.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL; may hold `{{secret.NAME}}` placeholders.
    pub url: Url,
    /// Headers; values may hold placeholders.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<RequestBody>,
    /// How to authenticate.
    pub auth: Option<AuthScheme>,
    /// Timeouts the plugin asked for; each may only tighten the host's.
    pub timeouts: Timeouts,
    /// Retry behaviour.
    pub retry: RetryMode,
    /// Idempotency key, sent as `Idempotency-Key`.
    pub idempotency_key: Option<String>,
}

/// The body of a request: bytes in hand, or a range of a [`Blob`] that the
/// pipeline streams from its file (again on each retry).
#[derive(Debug, Clone)]
pub enum RequestBody {
    /// Bytes in hand.
    Bytes(Vec<u8>),
    /// A blob's bytes, read as they are sent.
    Blob(BlobRange),
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Bytes(bytes)
    }
}

impl From<BlobRange> for RequestBody {
    fn from(range: BlobRange) -> Self {
        Self::Blob(range)
    }
}

/// The timeouts of one request, each optional: the host's
/// [`HttpLimits`] apply where one is not given, and the call's deadline
/// bounds them all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// The whole exchange: connecting, the response and its body.
    pub total: Option<Duration>,
    /// Establishing the connection.
    pub connect: Option<Duration>,
    /// From sending the request to the response's head.
    pub first_byte: Option<Duration>,
    /// Between two reads of the response body (a trickling upstream).
    pub between_bytes: Option<Duration>,
}

/// Which timeout ended a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// No connection in time.
    Connect,
    /// Connected, but no response head in time.
    FirstByte,
    /// The body stalled between two reads.
    BetweenBytes,
    /// The whole exchange, or the call's deadline.
    Total,
}

impl TimeoutPhase {
    /// The name a message gives it: `connect`, `first-byte`, `between-bytes`, `total`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::FirstByte => "first-byte",
            Self::BetweenBytes => "between-bytes",
            Self::Total => "total",
        }
    }
}

/// The final response.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// The answer of [`OutboundPolicy::send_to_blob`]: a 2xx body is in
/// `blob`, any other is read whole into `body` (under the response size
/// limit), as [`OutboundPolicy::send`] reads it.
#[derive(Debug)]
pub struct BlobResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// The body of an answer that is not 2xx; empty otherwise.
    pub body: Vec<u8>,
    /// The body of a 2xx answer.
    pub blob: Option<Blob>,
}

impl BlobResponse {
    /// The answer `head` with `body`, the body of a 2xx answer, written
    /// into `into` chunk by chunk; without one, the answer keeps its body.
    pub(crate) async fn written(
        head: OutboundResponse,
        body: Option<BodyStream>,
        mut into: BlobWriter,
    ) -> Result<Self, OutboundError> {
        let Some(mut body) = body else {
            return Ok(Self {
                status: head.status,
                headers: head.headers,
                body: head.body,
                blob: None,
            });
        };
        let unwritable =
            |e: std::io::Error| OutboundError::Connection(format!("cannot write the response into a blob: {e}"));
        while let Some(chunk) = body.read(blob::CHUNK).await? {
            into.write(&chunk).await.map_err(unwritable)?;
        }
        let blob = into.finish().await.map_err(unwritable)?;
        Ok(Self {
            status: head.status,
            headers: head.headers,
            body: Vec::new(),
            blob: Some(blob),
        })
    }
}

/// Why no response was obtained; each variant reaches the guest as the
/// matching `http-error` case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// Refused by policy; nothing was sent.
    #[error("denied: {0}")]
    Denied(String),
    /// Timed out; the message names the timeout (`between-bytes timeout: …`).
    #[error("timeout: {1}")]
    Timeout(TimeoutPhase, String),
    /// Connection failure.
    #[error("connection failed: {0}")]
    Connection(String),
    /// Body over the limit, in bytes.
    #[error("response body exceeds {0} bytes")]
    TooLarge(u64),
    /// Rate limited by the host; seconds to wait, when known.
    #[error("rate limited")]
    RateLimited(Option<u32>),
    /// The connection's circuit breaker is open.
    #[error("circuit open: {0}")]
    CircuitOpen(String),
    /// Malformed request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// Everything the pipeline knows about the caller of a request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// `family/name` of the plugin.
    pub provider: String,
    /// The connection's id.
    pub connection_id: String,
    /// The call's id.
    pub call_id: String,
    /// Hosts the connection may reach.
    pub grant: Arc<HostGrant>,
    /// The connection's credentials.
    pub credentials: Arc<Credentials>,
    /// The forms of its secret values, scrubbed from every response before
    /// the plugin sees it (see [`reflection`]).
    pub reflections: Reflections,
    /// When the call must be over.
    pub deadline: Instant,
    /// How requests of this connection are retried.
    pub retry: Arc<RetryPolicy>,
    /// The connection's rate quota, when it has one.
    pub rate_quota: Option<RateQuota>,
    /// The bucket the quota applies to: provider and connection.
    pub rate_key: String,
    /// Fingerprint of the credentials, for the circuit breaker.
    pub credentials_fingerprint: String,
    /// The connection's OAuth2 tokens, when its plugin uses OAuth2.
    pub oauth: Option<Arc<dyn TokenSource>>,
    /// The AWS services the connection may sign SigV4 requests for, when
    /// the operator pinned them; otherwise any but [`SIGV4_SENSITIVE`].
    pub sigv4_services: Option<Arc<[String]>>,
    /// The forwarding headers its plugin declared (lowercase): the only
    /// ones of [`headers::FORWARDING_HEADERS`] it may set.
    pub forwarding_headers: Arc<[String]>,
    /// Where its provider reports a cost budget in the body of its answers
    /// (the plugin's `rate-signals`): the pipeline paces the connection by
    /// it and repeats a request refused for want of budget.
    pub cost_budget: Option<Arc<ratelimit::CostBudget>>,
}

/// AWS services whose answers carry credentials or change them (STS hands
/// out temporary keys, IAM mints them): never signed for a plugin unless the
/// operator names them in the connection's SigV4 services.
pub const SIGV4_SENSITIVE: &[&str] = &["sts", "iam", "sso", "sso-oauth", "signin"];

impl RequestContext {
    /// The value of the credential field `name`, for a door that logs in
    /// with it (SMTP, SFTP, FTP): the plugin names the field, the host fills
    /// it in. An absent or empty field is refused, naming it.
    pub fn credential_field(&self, name: &str) -> Result<String, String> {
        self.credentials
            .get(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                format!("the login names the credential field {name:?}, which this connection does not have")
            })
    }

    /// Whether the connection may sign a SigV4 request for `service`.
    pub fn may_sign_for(&self, service: &str) -> Result<(), String> {
        let service = service.to_ascii_lowercase();
        match &self.sigv4_services {
            Some(pinned) if pinned.iter().any(|s| s.eq_ignore_ascii_case(&service)) => Ok(()),
            Some(pinned) => Err(format!(
                "the connection may sign AWS requests only for {}, not {service:?}",
                pinned.join(", ")
            )),
            None if SIGV4_SENSITIVE.contains(&service.as_str()) => Err(format!(
                "AWS requests for {service:?} carry or change credentials: the operator must allow the service"
            )),
            None => Ok(()),
        }
    }
}

/// Where the pipeline gets a connection's OAuth2 access token.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + 'static {
    /// A valid access token. `rejected` is a token the provider just
    /// refused with 401: a new one is wanted unless it changed already.
    async fn access_token(&self, rejected: Option<&str>) -> Result<String, String>;
}

impl std::fmt::Debug for dyn TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSource")
    }
}

/// The outbound policy hook: every request of every plugin goes through one.
#[async_trait::async_trait]
pub trait OutboundPolicy: Send + Sync + 'static {
    /// Sends a request on behalf of a plugin, applying the policy.
    async fn send(&self, ctx: &RequestContext, request: OutboundRequest) -> Result<OutboundResponse, OutboundError>;

    /// Sends a request like [`send`](Self::send), handing over the body of
    /// a 2xx answer as it arrives. The default reads it whole first, for
    /// policies that have no network of their own (tests, embedders).
    async fn send_streamed(
        &self,
        ctx: &RequestContext,
        request: OutboundRequest,
    ) -> Result<StreamedResponse, OutboundError> {
        let response = self.send(ctx, request).await?;
        Ok(StreamedResponse {
            status: response.status,
            headers: response.headers,
            body: BodyStream::from_bytes(response.body),
        })
    }

    /// Sends a request like [`send`](Self::send), writing the body of a
    /// 2xx answer into `into` as it arrives, under the blob size limit
    /// ([`HttpLimits::max_blob_bytes`]) instead of the response limit, in
    /// bounded memory. The default reads it whole first, for policies that
    /// have no network of their own.
    async fn send_to_blob(
        &self,
        ctx: &RequestContext,
        request: OutboundRequest,
        into: BlobWriter,
    ) -> Result<BlobResponse, OutboundError> {
        let mut response = self.send(ctx, request).await?;
        let body = (200..300)
            .contains(&response.status)
            .then(|| BodyStream::from_bytes(std::mem::take(&mut response.body)));
        BlobResponse::written(response, body, into).await
    }

    /// Sends one message through the SMTP door. The default refuses: a
    /// policy without a network of its own sends no mail.
    async fn send_mail(&self, ctx: &RequestContext, mail: OutboundMail) -> Result<MailReply, MailError> {
        let _ = (ctx, mail);
        Err(MailError::Denied("this outbound policy sends no mail".into()))
    }

    /// Connects, secures and logs in to a mail server, sending nothing: a
    /// connection check (`mail.message` and the envelope are ignored).
    async fn check_mail(&self, ctx: &RequestContext, mail: OutboundMail) -> Result<(), MailError> {
        let _ = (ctx, mail);
        Err(MailError::Denied("this outbound policy sends no mail".into()))
    }

    /// Runs one operation through the file-transfer door (SFTP, FTP),
    /// reusing the call's open session with the server from `sessions`. The
    /// default refuses: a policy without a network of its own reaches no
    /// file server.
    async fn transfer(
        &self,
        ctx: &RequestContext,
        sessions: &TransferSessions,
        server: FileServer,
        op: TransferOp,
    ) -> Result<TransferAnswer, TransferError> {
        let _ = (ctx, sessions, server, op);
        Err(TransferError::Denied(
            "this outbound policy reaches no file server".into(),
        ))
    }
}
