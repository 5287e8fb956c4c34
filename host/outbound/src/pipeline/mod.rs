//! The production outbound pipeline.
//!
//! Order of steps for every request: allowlist → circuit breaker →
//! credentials → rate limit → send (addresses checked after DNS; connect,
//! first-byte, between-bytes and total timeouts; a size limit enforced and
//! the connection's secrets scrubbed while the body streams in) →
//! redirects followed here, each hop re-checked, credentials never
//! forwarded to another origin → retries with backoff and `Retry-After`,
//! all inside the call's deadline.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tracing::Instrument as _;

mod prepare;
mod send;

use super::auth::AuthScheme;
use super::circuit::{CircuitBreaker, CircuitConfig};
use super::limits::HttpLimits;
use super::metrics::OutboundMetrics;
use super::network::GuardedResolver;
use super::ratelimit;
use super::retry;
use super::timeouts::{AttemptTimeouts, ConnectSignal};
use super::{
    BlobResponse, BlobWriter, BodyStream, FileServer, MailError, MailReply, OutboundError, OutboundMail,
    OutboundPolicy, OutboundRequest, OutboundResponse, RequestBody, RequestContext, RetryMode, StreamedResponse,
    TimeoutPhase, Timeouts, TransferAnswer, TransferError, TransferOp, TransferSessions,
};
use patchbay_store::{CircuitStore, RateQuota, RateStore, Reservation};
pub use prepare::BODY_SECRETS_HEADER;
use prepare::{Prepared, oauth_token, prepare};
use send::{Attempt, BodyDeadline, Streamed, is_redirect, outcome, scrub_headers};

/// The standard [`OutboundPolicy`], over a pooled `reqwest` client.
#[derive(Clone)]
pub struct Pipeline {
    client: reqwest::Client,
    /// Clients for connect timeouts tighter than the host's, which
    /// `reqwest` only takes per client.
    tighter: Arc<std::sync::Mutex<std::collections::HashMap<Duration, reqwest::Client>>>,
    limits: HttpLimits,
    rates: Arc<dyn RateStore>,
    circuit: CircuitBreaker,
    metrics: Arc<OutboundMetrics>,
}

impl Pipeline {
    /// A pipeline with the given limits; circuit state is kept in
    /// `circuits`, rate budgets in `rates`, counters in `metrics`.
    pub fn new(
        limits: HttpLimits,
        circuit: CircuitConfig,
        circuits: Arc<dyn CircuitStore>,
        rates: Arc<dyn RateStore>,
        metrics: Arc<OutboundMetrics>,
    ) -> Result<Self, reqwest::Error> {
        let client = guarded_client(&limits)?;
        Ok(Self {
            client,
            tighter: Arc::default(),
            limits,
            rates,
            circuit: CircuitBreaker::new(circuits, circuit),
            metrics,
        })
    }

    /// Pauses a rate budget (a 429's `Retry-After`); a failing store is
    /// logged, not fatal: the provider will say so again.
    async fn pause(&self, ctx: &RequestContext, pause: Duration) {
        if let Err(error) = self.rates.pause(&ctx.rate_key, pause).await {
            tracing::warn!(%error, connection = %ctx.connection_id, "cannot record a rate-limit pause");
        }
    }

    /// The circuit breakers, e.g. to re-enable a connection.
    pub fn circuit(&self) -> &CircuitBreaker {
        &self.circuit
    }

    /// The limits in force.
    pub fn limits(&self) -> &HttpLimits {
        &self.limits
    }

    /// Where rate budgets are kept.
    pub(crate) fn rates(&self) -> &Arc<dyn RateStore> {
        &self.rates
    }

    /// The counters.
    pub(crate) fn metrics(&self) -> &OutboundMetrics {
        &self.metrics
    }

    /// The client whose connect timeout is `connect`: the host's own, or
    /// one of a few kept for plugins that ask for less.
    fn client_for(&self, connect: Duration) -> reqwest::Client {
        if connect >= self.limits.connect_timeout {
            return self.client.clone();
        }
        // Whole milliseconds, so that near-equal asks share a client.
        let connect = Duration::from_millis(connect.as_millis().max(1) as u64);
        let mut tighter = self.tighter.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = tighter.get(&connect) {
            return client.clone();
        }
        if tighter.len() >= 16 {
            tighter.clear();
        }
        let limits = HttpLimits {
            connect_timeout: connect,
            ..self.limits.clone()
        };
        match guarded_client(&limits) {
            Ok(client) => {
                tighter.insert(connect, client.clone());
                client
            }
            // The host's client was built with the same settings: this
            // cannot fail where that succeeded; if it did, keep serving.
            Err(_) => self.client.clone(),
        }
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("limits", &self.limits)
            .field("circuit", &self.circuit)
            .finish_non_exhaustive()
    }
}

/// An HTTP client that follows no redirect and checks every address after
/// DNS; the pipeline and the host's OAuth2 token requests use one.
pub fn guarded_client(limits: &HttpLimits) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(limits.connect_timeout)
        .connector_layer(ConnectSignal)
        .timeout(limits.request_timeout)
        .dns_resolver(GuardedResolver::new(limits.allow_private_network))
        .no_proxy()
        .user_agent(concat!("patchbay/", env!("CARGO_PKG_VERSION")))
        .build()
}

impl Pipeline {
    /// One attempt: the request and the redirects it leads to.
    async fn exchange(
        &self,
        ctx: &RequestContext,
        mut prepared: Prepared,
        asked: &Timeouts,
        streamed: Option<u64>,
    ) -> Result<(OutboundResponse, Option<BodyStream>), Attempt> {
        let mut hops = 0;
        loop {
            let remaining = ctx.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Attempt::unsent(OutboundError::Timeout(
                    TimeoutPhase::Total,
                    "total timeout: the call's deadline has passed".into(),
                )));
            }
            let mut timeouts = AttemptTimeouts::new(&self.limits, asked, remaining);
            let reflections = ctx.reflections.with(prepared.injected.iter().map(String::as_str));
            // A body handed over as it arrives, or sent from a blob, may take
            // as long as the call (or the plugin's own total): the host's
            // request timeout is for bodies in hand.
            let long = match asked.total {
                Some(total) => BodyDeadline {
                    at: (Instant::now() + total).min(ctx.deadline),
                    is_call_deadline: false,
                },
                None => BodyDeadline {
                    at: ctx.deadline,
                    is_call_deadline: true,
                },
            };
            if streamed.is_some() || matches!(prepared.body, Some(RequestBody::Blob(_))) {
                timeouts.total = long.at.saturating_duration_since(Instant::now());
                timeouts.total_is_deadline = long.is_call_deadline;
            }
            let streamed = streamed.map(|limit| Streamed { deadline: long, limit });
            let (response, body) = self.send_once(&prepared, &reflections, timeouts, streamed).await?;
            if body.is_some() {
                return Ok((scrub_headers(response, &reflections), body));
            }
            let location = is_redirect(response.status)
                .then(|| response.headers.iter().find(|(n, _)| n == "location"))
                .flatten()
                .map(|(_, v)| v.clone());
            let Some(location) = location else {
                return Ok((scrub_headers(response, &reflections), None));
            };
            let next = prepared.url.join(&location).map_err(|e| {
                Attempt::sent(OutboundError::InvalidRequest(format!(
                    "redirect to an invalid location: {e}"
                )))
            })?;
            ctx.grant
                .check(&next)
                .map_err(|why| Attempt::sent(OutboundError::Denied(format!("redirect refused: {why}"))))?;
            hops += 1;
            if hops > self.limits.max_redirects {
                return Err(Attempt::sent(OutboundError::Connection(format!(
                    "more than {} redirects",
                    self.limits.max_redirects
                ))));
            }
            let cross_origin = next.origin() != prepared.url.origin();
            if cross_origin {
                let strip = std::mem::take(&mut prepared.credential_headers);
                prepared.headers.retain(|(n, _)| !strip.contains(n) && n != "cookie");
            }
            let downgrade = response.status == 303
                || (matches!(response.status, 301 | 302) && prepared.method == reqwest::Method::POST);
            if downgrade {
                prepared.method = reqwest::Method::GET;
                prepared.body = None;
                prepared
                    .headers
                    .retain(|(n, _)| n != "content-type" && n != "content-length");
            }
            if cross_origin && prepared.body_secrets && prepared.body.is_some() {
                return Err(Attempt::sent(OutboundError::Denied(
                    "redirect refused: the body carries the connection's credentials and would go to another origin"
                        .into(),
                )));
            }
            prepared.url = next;
        }
    }
}

impl Pipeline {
    /// Counts an attempt by status (or error kind) and times it.
    fn observe(&self, ctx: &RequestContext, result: &Result<OutboundResponse, Attempt>, elapsed: Duration) {
        let status = match result {
            Ok(response) => response.status.to_string(),
            Err(attempt) => match attempt.error {
                OutboundError::Denied(_) => "denied",
                OutboundError::Timeout(..) => "timeout",
                OutboundError::Connection(_) => "connection",
                OutboundError::TooLarge(_) => "too-large",
                OutboundError::RateLimited(_) => "rate-limited",
                OutboundError::CircuitOpen(_) => "circuit-open",
                OutboundError::InvalidRequest(_) => "invalid-request",
            }
            .to_string(),
        };
        self.metrics.attempt(&ctx.provider, status, elapsed.as_secs_f64());
    }
}

/// The request quota of a connection paced only by its cost budget: no
/// limit of its own, only the budget's pauses.
const BUDGET_ONLY_QUOTA: RateQuota = RateQuota {
    per_second: 1_000_000.0,
    burst: 100_000,
};

/// A wait in whole seconds, rounded up (what `Retry-After` and a guest's
/// `rate-limited` say).
pub(crate) fn ceil_seconds(wait: Duration) -> u32 {
    u32::try_from(wait.as_millis().div_ceil(1000)).unwrap_or(u32::MAX)
}

#[async_trait::async_trait]
impl OutboundPolicy for Pipeline {
    async fn send(&self, ctx: &RequestContext, request: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        self.deliver(ctx, request, None).await
    }

    async fn send_to_blob(
        &self,
        ctx: &RequestContext,
        request: OutboundRequest,
        into: BlobWriter,
    ) -> Result<BlobResponse, OutboundError> {
        let (head, body) = self.deliver_streamed(ctx, request, self.limits.max_blob_bytes).await?;
        BlobResponse::written(head, body, into).await
    }

    async fn send_streamed(
        &self,
        ctx: &RequestContext,
        request: OutboundRequest,
    ) -> Result<StreamedResponse, OutboundError> {
        let (head, body) = self
            .deliver_streamed(ctx, request, self.limits.max_response_bytes)
            .await?;
        Ok(StreamedResponse {
            status: head.status,
            headers: head.headers,
            body: body.unwrap_or_else(|| BodyStream::from_bytes(head.body)),
        })
    }

    async fn send_mail(&self, ctx: &RequestContext, mail: OutboundMail) -> Result<MailReply, MailError> {
        self.deliver_mail(ctx, mail, true).await
    }

    async fn check_mail(&self, ctx: &RequestContext, mail: OutboundMail) -> Result<(), MailError> {
        self.deliver_mail(ctx, mail, false).await.map(|_| ())
    }

    async fn transfer(
        &self,
        ctx: &RequestContext,
        sessions: &TransferSessions,
        server: FileServer,
        op: TransferOp,
    ) -> Result<TransferAnswer, TransferError> {
        Pipeline::transfer(self, ctx, sessions, server, op).await
    }
}

impl Pipeline {
    /// [`deliver`](Self::deliver) with a 2xx body handed over as it
    /// arrives, up to `limit` bytes; other answers are read whole.
    async fn deliver_streamed(
        &self,
        ctx: &RequestContext,
        request: OutboundRequest,
        limit: u64,
    ) -> Result<(OutboundResponse, Option<BodyStream>), OutboundError> {
        let mut body = None;
        let head = self.deliver(ctx, request, Some((&mut body, limit))).await?;
        Ok((head, body))
    }

    /// The policy around one request; a 2xx body goes into `stream` as it
    /// arrives when there is one, else is read whole.
    async fn deliver(
        &self,
        ctx: &RequestContext,
        request: OutboundRequest,
        mut stream: Option<(&mut Option<BodyStream>, u64)>,
    ) -> Result<OutboundResponse, OutboundError> {
        crate::headers::check(&request.headers, &ctx.forwarding_headers)?;
        ctx.grant.check(&request.url).map_err(OutboundError::Denied)?;
        self.circuit
            .admit(&ctx.connection_id, &ctx.credentials_fingerprint)
            .await
            .map_err(OutboundError::CircuitOpen)?;
        let asked = request.timeouts;
        let retry_mode = request.retry;
        let keyed = request.idempotency_key.is_some();
        let oauth_header = request.auth.as_ref().and_then(AuthScheme::oauth_header);
        let mut token = match oauth_header {
            Some(_) => Some(oauth_token(ctx, None).await?),
            None => None,
        };
        let mut prepared = prepare(ctx, request, token.as_deref()).await?;
        let mut refreshed = false;
        let safe_to_repeat = retry_mode == RetryMode::Automatic && (retry::idempotent(&prepared.method) || keyed);
        let policy = &ctx.retry;
        let mut attempt: u32 = 0;
        // A connection paced by a cost budget but without a request quota
        // still waits out the pauses its budget asks for.
        let quota = ctx.rate_quota.or(ctx.cost_budget.as_ref().map(|_| BUDGET_ONLY_QUOTA));
        loop {
            attempt += 1;
            if let Some(quota) = quota {
                let max_wait = ctx.deadline.saturating_duration_since(Instant::now());
                match self.rates.reserve(&ctx.rate_key, quota, max_wait).await {
                    Ok(Reservation::Granted(wait)) if !wait.is_zero() => {
                        tracing::debug!(connection = %ctx.connection_id, waited_ms = wait.as_millis() as u64, "rate limit wait");
                        tokio::time::sleep(wait).await;
                        self.metrics.rate_wait(&ctx.provider, wait.as_secs_f64());
                    }
                    Ok(Reservation::Granted(_)) => {}
                    Ok(Reservation::Refused(wait)) => return Err(OutboundError::RateLimited(Some(ceil_seconds(wait)))),
                    // A budget that cannot be read does not stop the provider's traffic.
                    Err(error) => {
                        tracing::warn!(%error, connection = %ctx.connection_id, "cannot reserve a rate budget")
                    }
                }
            }
            let span = tracing::debug_span!(
                "outbound_attempt",
                provider = %ctx.provider, connection = %ctx.connection_id, call = %ctx.call_id,
                method = %prepared.method, host = prepared.url.host_str().unwrap_or_default(), attempt
            );
            let started = Instant::now();
            let result = self
                .exchange(ctx, prepared.clone(), &asked, stream.as_ref().map(|(_, limit)| *limit))
                .instrument(span)
                .await
                .map(|(response, body)| {
                    if let (Some((slot, _)), Some(body)) = (stream.as_mut(), body) {
                        **slot = Some(body);
                    }
                    response
                });
            self.observe(ctx, &result, started.elapsed());
            if let Some(outcome) = outcome(&result) {
                self.circuit
                    .record(&ctx.connection_id, &ctx.credentials_fingerprint, outcome)
                    .await;
                let blocked = self.circuit.blocks(&ctx.connection_id);
                self.metrics.circuit(&ctx.provider, &ctx.connection_id, blocked);
            }
            if let (Ok(response), Some(_)) = (&result, ctx.rate_quota) {
                let now_unix = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                if let Some(pause) = ratelimit::header_pause(&response.headers, now_unix) {
                    tracing::debug!(connection = %ctx.connection_id, pause_ms = pause.as_millis() as u64, "provider asks to slow down");
                    self.pause(ctx, pause).await;
                }
            }
            // The cost budget the answer reports: keep the request's cost in
            // hand before the next one, and repeat a request the provider
            // refused for want of budget (it did not run: safe for any method).
            let budget = match (&result, &ctx.cost_budget) {
                (Ok(response), Some(budget)) if (200..300).contains(&response.status) || response.status == 429 => {
                    budget.read(&response.body)
                }
                _ => None,
            };
            if let Some(reading) = budget {
                let pause = reading.pause();
                if let Some(pause) = pause {
                    tracing::debug!(
                        connection = %ctx.connection_id, pause_ms = pause.as_millis() as u64,
                        available = reading.available, cost = reading.cost, refused = reading.refused,
                        "cost budget low: pausing"
                    );
                    self.pause(ctx, pause).await;
                }
                if reading.refused {
                    self.metrics.budget_refusal(&ctx.provider);
                    let delay = pause.unwrap_or_else(|| policy.backoff(attempt));
                    let repeat = attempt <= policy.max_retries
                        && retry_mode == RetryMode::Automatic
                        && delay <= policy.max_delay
                        && Instant::now() + delay < ctx.deadline;
                    if !repeat {
                        return result.map_err(|a| a.error);
                    }
                    tracing::debug!(connection = %ctx.connection_id, attempt, delay_ms = delay.as_millis() as u64, "refused for want of budget; repeating");
                    self.metrics.retry(&ctx.provider);
                    tokio::time::sleep(delay).await;
                    continue;
                }
            }
            // A 401 on an OAuth2 request: refresh the token once and resend.
            if let (Ok(response), Some(rejected)) = (&result, token.as_deref())
                && response.status == 401
                && !refreshed
            {
                refreshed = true;
                let fresh = oauth_token(ctx, Some(rejected)).await?;
                prepared.set_oauth_token(oauth_header.as_ref().expect("a token has a header"), &fresh);
                token = Some(fresh);
                tracing::debug!(connection = %ctx.connection_id, "OAuth2 token refused; refreshed and resending");
                continue;
            }
            let retries_left = attempt <= policy.max_retries && retry_mode == RetryMode::Automatic;
            let delay = match &result {
                Ok(response) if retries_left && safe_to_repeat && policy.retryable_status(response.status) => {
                    let after = response
                        .headers
                        .iter()
                        .find(|(n, _)| n == "retry-after")
                        .and_then(|(_, v)| retry::retry_after(v, SystemTime::now()));
                    if let (429, Some(_), Some(after)) = (response.status, ctx.rate_quota, after) {
                        self.pause(ctx, after).await;
                    }
                    match after {
                        // The provider asks for longer than the host would wait:
                        // retrying sooner only earns another refusal.
                        Some(after) if after > policy.max_delay => return result.map_err(|a| a.error),
                        Some(after) => after,
                        None => policy.backoff(attempt),
                    }
                }
                Err(failed) if retries_left && (safe_to_repeat || failed.nothing_sent) => match failed.error {
                    OutboundError::Connection(_) | OutboundError::Timeout(..) => policy.backoff(attempt),
                    _ => return result.map_err(|a| a.error),
                },
                _ => return result.map_err(|a| a.error),
            };
            if Instant::now() + delay >= ctx.deadline {
                return result.map_err(|a| a.error);
            }
            tracing::debug!(connection = %ctx.connection_id, attempt, delay_ms = delay.as_millis() as u64, "retrying");
            self.metrics.retry(&ctx.provider);
            tokio::time::sleep(delay).await;
        }
    }
}
