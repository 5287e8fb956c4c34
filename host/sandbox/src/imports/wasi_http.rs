//! `wasi:http/outgoing-handler`: the second door, for guests whose HTTP
//! clients speak `wasi:http` (JavaScript's `fetch`, Python's `urllib` over
//! componentize-py's `poll_loop`). Requests go through the same pipeline as
//! the contract's `http.send` ([`HttpDoor`]): allowlist, `{{secret.NAME}}`
//! placeholders in header values, rate limits, retries, circuit breaking,
//! limits and scrubbed logs.
//!
//! A request the policy refuses fails with `error-code.HTTP-request-denied`,
//! which no network failure produces, so a guest can tell the two apart.
//!
//! What `wasi:http` holds on the host sits outside the guest's memory limit,
//! so it has its own: a request counts against the call's request limit as
//! soon as it is issued, and the bytes of request bodies and of responses
//! handed to the guest come out of one budget per call
//! ([`Limits::max_wasi_http_bytes_per_call`](crate::Limits)).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use url::Url;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::HttpDoor;
use patchbay_outbound::{
    OutboundError, OutboundRequest, OutboundResponse, RequestBody, RetryMode, TimeoutPhase, Timeouts,
};

/// The header a `wasi:http` guest uses to ask for keyed retries of a
/// non-idempotent request, as with `http.send`'s `idempotency-key` option.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

type SendFuture = Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send>;
type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

/// Bytes a call may hold on the host through `wasi:http`.
pub(crate) struct ByteBudget {
    used: AtomicUsize,
    limit: usize,
}

impl ByteBudget {
    /// Takes `bytes` from the budget, or says there is not enough left.
    fn take(&self, bytes: usize) -> Result<(), Error> {
        let limit = self.limit;
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= limit)
            })
            .map(|_| ())
            .map_err(|_| Error::HttpRequestBodySize(Some(limit as u64)))
    }
}

/// The `wasi:http` hooks of one call: every request goes through its door.
pub(crate) struct PipelineHooks {
    door: HttpDoor,
    budget: Arc<ByteBudget>,
}

impl PipelineHooks {
    /// Hooks sending through `door`, holding at most `max_bytes` of bodies.
    pub(crate) fn new(door: HttpDoor, max_bytes: usize) -> Self {
        Self {
            door,
            budget: Arc::new(ByteBudget {
                used: AtomicUsize::new(0),
                limit: max_bytes,
            }),
        }
    }

    /// The call's door, which `http.send` shares (one request limit for both).
    pub(crate) fn door(&self) -> &HttpDoor {
        &self.door
    }
}

impl WasiHttpHooks for PipelineHooks {
    // The pipeline's client sets `Host` from the URL it was given.
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> SendFuture {
        let door = self.door.clone();
        let budget = Arc::clone(&self.budget);
        // Counted when issued, not when its body has arrived.
        let admitted = door.admit();
        Box::new(async move {
            admitted.map_err(wasi_error)?;
            let outbound = outbound_request(request, options, &budget).await?;
            let response = door.send_admitted(outbound).await.map_err(wasi_error)?;
            budget
                .take(response.body.len())
                .map_err(|_| Error::HttpResponseBodySize(Some(budget.limit as u64)))?;
            let io: IoFuture = Box::new(async { Ok(()) });
            Ok((wasi_response(response)?, io))
        })
    }
}

/// Reads the guest's request, body included, into the pipeline's form.
async fn outbound_request(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    budget: &ByteBudget,
) -> Result<OutboundRequest, Error> {
    let (parts, body) = request.into_parts();
    let url = Url::parse(&parts.uri.to_string()).map_err(|_| Error::HttpRequestUriInvalid)?;
    let mut headers = Vec::with_capacity(parts.headers.len());
    let mut idempotency_key = None;
    for (name, value) in &parts.headers {
        let value = value.to_str().map_err(|_| Error::HttpRequestHeaderSize {
            field_name: Some(name.to_string()),
            field_size: None,
        })?;
        if name.as_str() == IDEMPOTENCY_KEY {
            idempotency_key = Some(value.to_string());
        } else {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    // Read frame by frame, each out of the call's budget: a guest that
    // writes without end is stopped at the budget, not at the host's memory.
    let mut body = body;
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            budget.take(data.len())?;
            collected.extend_from_slice(&data);
        }
    }
    let body = Bytes::from(collected);
    // Each of the guest's timeouts is honoured on its own (and may only
    // tighten the host's).
    let timeouts = options
        .map(|o| Timeouts {
            total: None,
            connect: o.connect_timeout,
            first_byte: o.first_byte_timeout,
            between_bytes: o.between_bytes_timeout,
        })
        .unwrap_or_default();
    Ok(OutboundRequest {
        method: parts.method,
        url,
        headers,
        body: (!body.is_empty()).then(|| RequestBody::Bytes(body.to_vec())),
        auth: None,
        timeouts,
        retry: RetryMode::Automatic,
        idempotency_key,
    })
}

fn wasi_response(response: OutboundResponse) -> Result<http::Response<WasiBody>, Error> {
    let mut builder = http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    let body = Full::new(Bytes::from(response.body))
        .map_err(|never| match never {})
        .boxed_unsync();
    builder
        .body(body)
        .map_err(|e| Error::InternalError(Some(format!("the upstream response cannot be handed over: {e}"))))
}

/// The `wasi:http` error code for a pipeline failure. The reason itself is in
/// the host's log (the error codes carry no text for denials).
fn wasi_error(error: OutboundError) -> Error {
    match error {
        OutboundError::Denied(_) => Error::HttpRequestDenied,
        OutboundError::Timeout(TimeoutPhase::Connect, _) => Error::ConnectionTimeout,
        OutboundError::Timeout(TimeoutPhase::BetweenBytes, _) => Error::ConnectionReadTimeout,
        OutboundError::Timeout(TimeoutPhase::FirstByte | TimeoutPhase::Total, _) => Error::HttpResponseTimeout,
        OutboundError::Connection(m) => Error::InternalError(Some(m)),
        OutboundError::TooLarge(n) => Error::HttpResponseBodySize(Some(n)),
        OutboundError::RateLimited(_) => Error::ConnectionLimitReached,
        OutboundError::CircuitOpen(_) => Error::DestinationUnavailable,
        OutboundError::InvalidRequest(m) => Error::InternalError(Some(m)),
    }
}
