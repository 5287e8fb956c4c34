//! One request sent: the attempt, its timeouts and size limit, the body
//! scrubbed as it streams in, and what its outcome tells the circuit.

use std::time::{Duration, Instant};

use super::Pipeline;
use super::prepare::Prepared;
use crate::circuit::Outcome;
use crate::network::{self, BlockedAddress};
use crate::reflection::Reflections;
use crate::timeouts::{self, AttemptTimeouts};
use crate::{BodyStream, OutboundError, OutboundResponse, RequestBody, TimeoutPhase};

pub(super) fn timed_out(phase: TimeoutPhase, detail: std::fmt::Arguments<'_>) -> Attempt {
    Attempt::sent(OutboundError::Timeout(phase, timeouts::message(phase, detail)))
}

impl Pipeline {
    pub(super) async fn send_once(
        &self,
        prepared: &Prepared,
        reflections: &Reflections,
        timeouts: AttemptTimeouts,
        streamed: Option<Streamed>,
    ) -> Result<(OutboundResponse, Option<BodyStream>), Attempt> {
        network::check_url(&prepared.url, self.limits.allow_private_network)
            .map_err(|blocked| Attempt::unsent(OutboundError::Denied(blocked.to_string())))?;
        let client = self.client_for(timeouts.connect);
        let mut builder = client.request(prepared.method.clone(), prepared.url.clone());
        for (name, value) in &prepared.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // A blob is read from its file as it is sent; each chunk taken
        // restarts the first-byte clock, which runs out only when the
        // upstream stops reading or, once all is sent, does not answer.
        let mut uploading = None;
        match &prepared.body {
            Some(RequestBody::Bytes(bytes)) => builder = builder.body(bytes.clone()),
            Some(RequestBody::Blob(range)) => {
                use futures::StreamExt as _;
                let (progress, taken) = tokio::sync::watch::channel(());
                uploading = Some(taken);
                let chunks = range.chunks().inspect(move |_| {
                    progress.send_replace(());
                });
                builder = builder
                    .header(reqwest::header::CONTENT_LENGTH, range.len())
                    .body(reqwest::Body::wrap_stream(chunks));
            }
            None => {}
        }
        // The client's own total would cut off a long body: this attempt's
        // is the one in force, enforced below (and by a body stream) where
        // the phase can be named; the client's only backs it up.
        builder = builder.timeout(timeouts.total + Duration::from_secs(1));
        let exchange = async {
            let mut response = match timeouts::head(builder.send(), &timeouts, uploading.as_mut()).await {
                Some(sent) => sent.map_err(|e| transport_error(e, timeouts.connect))?,
                None => {
                    return Err(timed_out(
                        TimeoutPhase::FirstByte,
                        format_args!("no response head within {} ms", timeouts.first_byte.as_millis()),
                    ));
                }
            };
            let status = response.status().as_u16();
            // A 2xx body handed over as it arrives has its own limit (a blob's
            // may be larger); any other is read whole under the response limit.
            let limit = match streamed {
                Some(streamed) if (200..300).contains(&status) => streamed.limit,
                _ => self.limits.max_response_bytes,
            };
            if response.content_length().is_some_and(|len| len > limit) {
                return Err(Attempt::sent(OutboundError::TooLarge(limit)));
            }
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            if let Some(deadline) = streamed
                && (200..300).contains(&status)
            {
                let body = BodyStream::network(
                    response,
                    reflections.scrubber(),
                    limit,
                    timeouts.between_bytes,
                    deadline.deadline.at,
                    deadline.deadline.is_call_deadline,
                );
                let head = OutboundResponse {
                    status,
                    headers,
                    body: Vec::new(),
                };
                return Ok((head, Some(body)));
            }
            // An upstream that echoes the request must not hand a secret
            // back: the body is scrubbed as it is read, the headers once the
            // redirects (whose `Location` may carry one) are followed.
            // Sized from `Content-Length` instead of grown by doubling as the
            // chunks arrive — up to 1 MiB: an upstream's promise reserves no
            // more than that before its bytes arrive.
            let expected = response.content_length().unwrap_or(0).min(limit).min(1 << 20);
            let mut body = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
            let mut scrubber = reflections.scrubber();
            let mut received: u64 = 0;
            loop {
                let chunk = match tokio::time::timeout(timeouts.between_bytes, response.chunk()).await {
                    Ok(chunk) => chunk.map_err(|e| Attempt::sent(transport_error(e, timeouts.connect).error))?,
                    Err(_) => {
                        return Err(timed_out(
                            TimeoutPhase::BetweenBytes,
                            format_args!(
                                "the body stalled for {} ms after {received} bytes",
                                timeouts.between_bytes.as_millis()
                            ),
                        ));
                    }
                };
                let Some(chunk) = chunk else { break };
                received += chunk.len() as u64;
                if received > limit {
                    return Err(Attempt::sent(OutboundError::TooLarge(limit)));
                }
                scrubber.push(&chunk, &mut body);
            }
            scrubber.finish(&mut body);
            Ok((OutboundResponse { status, headers, body }, None))
        };
        tokio::time::timeout(timeouts.total, exchange).await.map_err(|_| {
            let what = if timeouts.total_is_deadline {
                "the call's deadline passed"
            } else {
                "the request timeout passed"
            };
            timed_out(
                TimeoutPhase::Total,
                format_args!("no complete response within {} ms ({what})", timeouts.total.as_millis()),
            )
        })?
    }
}

/// Until when a streamed body may arrive: the call's deadline, or the
/// request's own timeout when the plugin set one (the host's default
/// request timeout would cut off a long stream that keeps flowing).
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyDeadline {
    pub(super) at: Instant,
    pub(super) is_call_deadline: bool,
}

/// How a 2xx body is handed over as it arrives: until when, and up to how
/// many bytes (the response limit, or the blob limit).
#[derive(Debug, Clone, Copy)]
pub(super) struct Streamed {
    pub(super) deadline: BodyDeadline,
    pub(super) limit: u64,
}

/// A failed attempt, and whether anything reached the server (a request
/// that was never sent can be retried whatever its method).
pub(super) struct Attempt {
    pub(super) error: OutboundError,
    pub(super) nothing_sent: bool,
}

impl Attempt {
    pub(super) fn sent(error: OutboundError) -> Self {
        Self {
            error,
            nothing_sent: false,
        }
    }

    pub(super) fn unsent(error: OutboundError) -> Self {
        Self {
            error,
            nothing_sent: true,
        }
    }
}

/// Maps a transport error without its URL, which may carry credentials;
/// `connect` is the connect timeout that was in force.
pub(super) fn transport_error(error: reqwest::Error, connect_timeout: Duration) -> Attempt {
    let timeout = error.is_timeout();
    let connect = error.is_connect();
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<BlockedAddress>() {
            return Attempt::unsent(OutboundError::Denied(blocked.to_string()));
        }
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if timeout && connect {
        Attempt::unsent(OutboundError::Timeout(
            TimeoutPhase::Connect,
            timeouts::message(
                TimeoutPhase::Connect,
                format_args!("no connection within {} ms", connect_timeout.as_millis()),
            ),
        ))
    } else if timeout {
        Attempt::sent(OutboundError::Timeout(TimeoutPhase::Total, message))
    } else if connect {
        Attempt::unsent(OutboundError::Connection(format!("cannot connect: {message}")))
    } else {
        Attempt::sent(OutboundError::Connection(message))
    }
}

/// What an attempt means for the circuit breaker; `None` for outcomes that
/// say nothing about the provider's health (policy denials, bad requests).
pub(super) fn outcome(result: &Result<OutboundResponse, Attempt>) -> Option<Outcome> {
    match result {
        Ok(response) if matches!(response.status, 401 | 403) => Some(Outcome::AuthFailure),
        Ok(response) if response.status >= 500 => Some(Outcome::Failure),
        Ok(_) => Some(Outcome::Success),
        Err(attempt) => match attempt.error {
            OutboundError::Timeout(..) | OutboundError::Connection(_) => Some(Outcome::Failure),
            _ => None,
        },
    }
}

/// The response with every secret form scrubbed from its header values; a
/// header whose name holds one is dropped.
pub(super) fn scrub_headers(mut response: OutboundResponse, reflections: &Reflections) -> OutboundResponse {
    if reflections.is_empty() {
        return response;
    }
    response
        .headers
        .retain(|(name, _)| reflections.scrub_str(name) == *name);
    for (_, value) in &mut response.headers {
        *value = reflections.scrub_str(value);
    }
    response
}

pub(super) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}
