//! The one way out for a call's HTTP requests, whichever import the guest
//! used: the contract's `http.send` or `wasi:http`'s outgoing handler. Both
//! build an [`OutboundRequest`] and hand it here; this counts it against the
//! call's limit, puts the connection's policy around it, sends it through the
//! host's pipeline, logs it (scrubbed), and scrubs what goes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use crate::grant::CallGrant;
use patchbay_outbound::{
    BlobResponse, BlobWriter, FileServer, HostKeyTrust, MailError, MailReply, OutboundError, OutboundMail,
    OutboundPolicy, OutboundRequest, OutboundResponse, RequestContext, Spool, StreamedResponse, TransferAnswer,
    TransferError, TransferOp, TransferSessions,
};

/// The outbound pipeline a door sends through.
type Policy = Arc<dyn OutboundPolicy>;

/// A call's door to the outbound pipeline; cheap to clone, shared by both
/// HTTP imports so they count against one request limit.
#[derive(Clone)]
pub(crate) struct HttpDoor {
    provider: Arc<str>,
    call_id: String,
    connection: Option<Arc<CallGrant>>,
    outbound: Policy,
    deadline: Instant,
    limit: u32,
    sent: Arc<AtomicU32>,
    spool: Spool,
    sessions: Arc<TransferSessions>,
}

impl HttpDoor {
    /// The door of one call of `provider` on behalf of `connection` (none
    /// while a manifest is read: every request is denied), sending at most
    /// `limit` requests through `outbound` before `deadline`, writing
    /// answers into blobs in `spool`.
    pub(crate) fn new(
        provider: Arc<str>,
        call_id: String,
        connection: Option<Arc<CallGrant>>,
        outbound: Arc<dyn OutboundPolicy>,
        deadline: Instant,
        limit: u32,
        spool: Spool,
    ) -> Self {
        Self {
            provider,
            call_id,
            connection,
            outbound,
            deadline,
            limit,
            sent: Arc::new(AtomicU32::new(0)),
            spool,
            sessions: Arc::new(TransferSessions::default()),
        }
    }

    /// The connection's grant; none while a manifest is read, when nothing
    /// may be sent.
    fn grant(&self) -> Result<&Arc<CallGrant>, OutboundError> {
        self.connection.as_ref().ok_or_else(|| {
            OutboundError::Denied("no connection: plugins may not send requests while describing themselves".into())
        })
    }

    /// Counts a request against the call's limit, as soon as the guest
    /// issues it (before its body is read).
    pub(crate) fn admit(&self) -> Result<(), OutboundError> {
        self.grant()?;
        let limit = self.limit;
        if self
            .sent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < limit).then_some(n + 1))
            .is_err()
        {
            return Err(OutboundError::Denied(format!(
                "this call already sent {limit} requests, the limit per call"
            )));
        }
        Ok(())
    }

    /// Counts and sends one request under the connection's policy. Errors
    /// are scrubbed of the connection's secrets before the guest sees them.
    pub(crate) async fn send(&self, outbound: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        self.admit()?;
        self.send_admitted(outbound).await
    }

    /// Sends one request that [`admit`](Self::admit) counted already.
    pub(crate) async fn send_admitted(&self, outbound: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let send = |policy: Policy, ctx: RequestContext, request| async move { policy.send(&ctx, request).await };
        self.under_policy(outbound, send, |r| r.status).await
    }

    /// Counts and sends one request whose 2xx body is handed over as it
    /// arrives. Errors of its reads are scrubbed like the request's.
    pub(crate) async fn send_streamed(&self, outbound: OutboundRequest) -> Result<StreamedResponse, OutboundError> {
        self.admit()?;
        let send =
            |policy: Policy, ctx: RequestContext, request| async move { policy.send_streamed(&ctx, request).await };
        self.under_policy(outbound, send, |r| r.status).await
    }

    /// Counts and sends one request whose 2xx body is written into a new
    /// blob in the host's blob directory.
    pub(crate) async fn send_to_blob(&self, outbound: OutboundRequest) -> Result<BlobResponse, OutboundError> {
        self.admit()?;
        let into = self.new_blob().map_err(OutboundError::Connection)?;
        let send = move |policy: Policy, ctx: RequestContext, request| async move {
            policy.send_to_blob(&ctx, request, into).await
        };
        self.under_policy(outbound, send, |r| r.status).await
    }

    /// One request through `send` under the connection's grant: logged with
    /// its answer's status (by `status`) or its error, the error scrubbed
    /// of the connection's secrets.
    ///
    /// `send` runs on a task of its own, aborted if the call drops this
    /// future: the pipeline's deep chain of polls (HTTP client, retries,
    /// rate limits) then runs on a worker thread's stack instead of the
    /// guest's fiber stack, whose every touched page stays resident while
    /// the call is in flight — thousands of calls held by a slow upstream
    /// each kept tens of KiB of stack for it.
    async fn under_policy<R, F>(
        &self,
        outbound: OutboundRequest,
        send: impl FnOnce(Policy, RequestContext, OutboundRequest) -> F,
        status: impl Fn(&R) -> u16,
    ) -> Result<R, OutboundError>
    where
        R: Send + 'static,
        F: Future<Output = Result<R, OutboundError>> + Send + 'static,
    {
        let (connection, ctx) = self.context()?;
        let sent = Sent::of(&outbound);
        let started = Instant::now();
        let result = off_fiber(send(Arc::clone(&self.outbound), ctx, outbound)).await;
        self.log(connection, &sent, result.as_ref().map(status), started);
        result.map_err(|error| scrub(error, &connection.redactor))
    }

    /// Counts and sends one message through the SMTP door, under the same
    /// grant, limits and logs as the HTTP requests of the call.
    pub(crate) async fn send_mail(&self, mail: OutboundMail) -> Result<MailReply, MailError> {
        self.mail(mail, true).await
    }

    /// Connects, secures and logs in to a mail server, sending nothing.
    pub(crate) async fn check_mail(&self, mail: OutboundMail) -> Result<(), MailError> {
        self.mail(mail, false).await.map(|_| ())
    }

    async fn mail(&self, mail: OutboundMail, send: bool) -> Result<MailReply, MailError> {
        self.admit().map_err(|e| match e {
            OutboundError::Denied(m) => MailError::Denied(m),
            other => MailError::Denied(other.to_string()),
        })?;
        let (connection, ctx) = self.context().map_err(|e| MailError::Denied(e.to_string()))?;
        let server = format!(
            "{}:{}",
            mail.server.host_str().unwrap_or_default(),
            mail.server.port().unwrap_or(587)
        );
        let recipients = mail.envelope_to.len();
        let started = Instant::now();
        let result = if send {
            self.outbound.send_mail(&ctx, mail).await
        } else {
            self.outbound.check_mail(&ctx, mail).await.map(|()| MailReply {
                code: 250,
                message: "connected".into(),
            })
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (provider, call) = (&self.provider, &self.call_id);
        let redact = |text: &str| connection.redactor.scrub(text);
        match &result {
            Ok(reply) => tracing::debug!(
                provider = %provider, connection = %connection.id, call = %call,
                server = %server, recipients, code = reply.code, elapsed_ms, "mail sent"
            ),
            Err(error) => tracing::info!(
                provider = %provider, connection = %connection.id, call = %call,
                server = %server, recipients, error = %redact(&error.to_string()), elapsed_ms, "mail not sent"
            ),
        }
        result.map_err(|error| scrub_mail(error, &connection.redactor))
    }

    /// How the host key of an SFTP server is trusted: by the connection's
    /// setting `setting`, which the plugin names and the operator sets.
    pub(crate) fn host_key_trust(&self, setting: Option<String>) -> HostKeyTrust {
        match setting {
            None => HostKeyTrust::Unnamed,
            Some(name) => {
                let value = self.connection.as_ref().and_then(|c| c.settings.get(&name).cloned());
                HostKeyTrust::Setting { name, value }
            }
        }
    }

    /// A new blob for a download, in the host's spool.
    pub(crate) fn new_blob(&self) -> Result<BlobWriter, String> {
        BlobWriter::create(&self.spool).map_err(|e| {
            tracing::error!(dir = %self.spool.path().display(), error = %e, "cannot create a blob");
            "the host cannot create a blob; see the host log".to_string()
        })
    }

    /// Counts and runs one operation through the file-transfer door, under
    /// the same grant, limits and logs as the HTTP requests of the call, in
    /// the call's sessions (closed when the call ends).
    pub(crate) async fn transfer(&self, server: FileServer, op: TransferOp) -> Result<TransferAnswer, TransferError> {
        self.admit().map_err(|e| match e {
            OutboundError::Denied(m) => TransferError::Denied(m),
            other => TransferError::Denied(other.to_string()),
        })?;
        let (connection, ctx) = self.context().map_err(|e| TransferError::Denied(e.to_string()))?;
        let target = format!(
            "{}://{}:{}",
            server.url.scheme(),
            server.url.host_str().unwrap_or_default(),
            server.port()
        );
        let operation = op.name();
        let redact = |text: &str| connection.redactor.scrub(text);
        let paths = redact(&op.paths().join(" → "));
        let started = Instant::now();
        let result = self.outbound.transfer(&ctx, &self.sessions, server, op).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (provider, call) = (&self.provider, &self.call_id);
        match &result {
            Ok(_) => tracing::debug!(
                provider = %provider, connection = %connection.id, call = %call,
                server = %target, operation, path = %paths, elapsed_ms, "file transfer"
            ),
            Err(TransferError::Denied(why)) => tracing::warn!(
                provider = %provider, connection = %connection.id, call = %call,
                server = %target, operation, path = %paths, reason = %redact(why), "file transfer denied"
            ),
            Err(error) => tracing::info!(
                provider = %provider, connection = %connection.id, call = %call,
                server = %target, operation, path = %paths, error = %redact(&error.to_string()), elapsed_ms,
                "file transfer failed"
            ),
        }
        result.map_err(|error| error.map_text(|text| connection.redactor.scrub(text)))
    }

    /// Scrubs an error met while reading a streamed body.
    pub(crate) fn scrub(&self, error: OutboundError) -> OutboundError {
        match &self.connection {
            Some(connection) => scrub(error, &connection.redactor),
            None => error,
        }
    }

    /// The connection's grant and the pipeline's view of it.
    fn context(&self) -> Result<(&Arc<CallGrant>, RequestContext), OutboundError> {
        let connection = self.grant()?;
        let ctx = RequestContext {
            provider: self.provider.to_string(),
            connection_id: connection.id.clone(),
            call_id: self.call_id.clone(),
            grant: connection.hosts.clone(),
            credentials: connection.credentials.clone(),
            reflections: connection.reflections.clone(),
            deadline: self.deadline,
            retry: connection.retry.clone(),
            rate_quota: connection.rate_quota,
            rate_key: format!("{}|{}", self.provider, connection.id),
            credentials_fingerprint: connection.fingerprint.clone(),
            oauth: connection.oauth.clone(),
            sigv4_services: connection.sigv4_services.clone(),
            forwarding_headers: connection.forwarding_headers.clone(),
            cost_budget: connection.cost_budget.clone(),
        };
        Ok((connection, ctx))
    }

    /// Logs one request, its path and any error scrubbed.
    fn log(&self, connection: &CallGrant, sent: &Sent, result: Result<u16, &OutboundError>, started: Instant) {
        let redact = |text: &str| connection.redactor.scrub(text);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (provider, call) = (&self.provider, &self.call_id);
        let Sent { method, host, path } = sent;
        match result {
            Ok(status) => tracing::debug!(
                provider = %provider, connection = %connection.id, call = %call,
                %method, host = %host, path = %redact(path), status, elapsed_ms,
                "outbound request"
            ),
            Err(OutboundError::Denied(why)) => tracing::warn!(
                provider = %provider, connection = %connection.id, call = %call,
                %method, host = %host, path = %redact(path), reason = %redact(why),
                "outbound request denied"
            ),
            Err(error) => tracing::info!(
                provider = %provider, connection = %connection.id, call = %call,
                %method, host = %host, path = %redact(path), error = %redact(&error.to_string()), elapsed_ms,
                "outbound request failed"
            ),
        }
    }
}

/// What the log says of a request.
struct Sent {
    method: reqwest::Method,
    host: String,
    path: String,
}

impl Sent {
    fn of(request: &OutboundRequest) -> Self {
        Self {
            method: request.method.clone(),
            host: request.url.host_str().unwrap_or_default().to_string(),
            path: request.url.path().to_string(),
        }
    }
}

/// A mail server's replies can echo what it was sent: never hand a secret back.
fn scrub_mail(error: MailError, redactor: &patchbay_secrets::Redactor) -> MailError {
    let reply = |r: MailReply| MailReply {
        code: r.code,
        message: redactor.scrub(&r.message),
    };
    match error {
        MailError::Denied(m) => MailError::Denied(redactor.scrub(&m)),
        MailError::Timeout(m) => MailError::Timeout(redactor.scrub(&m)),
        MailError::Connection(m) => MailError::Connection(redactor.scrub(&m)),
        MailError::Tls(m) => MailError::Tls(redactor.scrub(&m)),
        MailError::Auth(r) => MailError::Auth(reply(r)),
        MailError::Refused(r) => MailError::Refused(reply(r)),
        MailError::CircuitOpen(m) => MailError::CircuitOpen(redactor.scrub(&m)),
        MailError::InvalidRequest(m) => MailError::InvalidRequest(redactor.scrub(&m)),
        other @ MailError::RateLimited(_) => other,
    }
}

/// Error messages can echo URLs and headers: never hand a secret back.
fn scrub(error: OutboundError, redactor: &patchbay_secrets::Redactor) -> OutboundError {
    match error {
        OutboundError::Denied(m) => OutboundError::Denied(redactor.scrub(&m)),
        OutboundError::Timeout(phase, m) => OutboundError::Timeout(phase, redactor.scrub(&m)),
        OutboundError::Connection(m) => OutboundError::Connection(redactor.scrub(&m)),
        OutboundError::CircuitOpen(m) => OutboundError::CircuitOpen(redactor.scrub(&m)),
        OutboundError::InvalidRequest(m) => OutboundError::InvalidRequest(redactor.scrub(&m)),
        other => other,
    }
}

/// Runs `work` on a task of its own, aborted if this future is dropped
/// (see [`HttpDoor::under_policy`]).
async fn off_fiber<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    struct AbortOnDrop(tokio::task::AbortHandle);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let task = tokio::spawn(work);
    let _abort = AbortOnDrop(task.abort_handle());
    match task.await {
        Ok(value) => value,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only this future aborts the task, and only once dropped.
            Err(error) => unreachable!("the request's task ended without an answer: {error}"),
        },
    }
}
