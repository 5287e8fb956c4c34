//! Response bodies read as they arrive ([`OutboundPolicy::send_streamed`]):
//! the timeouts, the size limit and the scrubbing of a buffered body, applied
//! read by read.
//!
//! [`OutboundPolicy::send_streamed`]: crate::OutboundPolicy::send_streamed

use std::time::{Duration, Instant};

use super::reflection::Scrubber;
use super::timeouts;
use super::{OutboundError, TimeoutPhase};

/// A response whose body is read as it arrives.
#[derive(Debug)]
pub struct StreamedResponse {
    /// Status code.
    pub status: u16,
    /// Headers, scrubbed.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: BodyStream,
}

/// The body of a [`StreamedResponse`]. Dropping it closes the connection.
pub struct BodyStream {
    source: Source,
    /// Scrubbed bytes not handed out yet.
    ready: Vec<u8>,
}

enum Source {
    /// A body already in hand (an error answer, or a policy that buffers).
    Done,
    Network(Box<Network>),
}

struct Network {
    response: reqwest::Response,
    scrubber: Scrubber,
    received: u64,
    limit: u64,
    between_bytes: Duration,
    /// When the whole exchange must be over.
    deadline: Instant,
    total_is_deadline: bool,
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyStream")
            .field("streaming", &matches!(self.source, Source::Network(_)))
            .field("ready", &self.ready.len())
            .finish()
    }
}

impl BodyStream {
    /// A body already read whole.
    pub fn from_bytes(body: Vec<u8>) -> Self {
        Self {
            source: Source::Done,
            ready: body,
        }
    }

    /// A body still arriving on `response`.
    pub(crate) fn network(
        response: reqwest::Response,
        scrubber: Scrubber,
        limit: u64,
        between_bytes: Duration,
        deadline: Instant,
        total_is_deadline: bool,
    ) -> Self {
        Self {
            source: Source::Network(Box::new(Network {
                response,
                scrubber,
                received: 0,
                limit,
                between_bytes,
                deadline,
                total_is_deadline,
            })),
            ready: Vec::new(),
        }
    }

    /// The next bytes, at most `max` (at least one), waiting until some
    /// arrive; `None` at the end. An error ends the stream and closes its
    /// connection.
    pub async fn read(&mut self, max: usize) -> Result<Option<Vec<u8>>, OutboundError> {
        let max = max.max(1);
        loop {
            if !self.ready.is_empty() {
                let n = max.min(self.ready.len());
                return Ok(Some(self.ready.drain(..n).collect()));
            }
            let Source::Network(network) = &mut self.source else {
                return Ok(None);
            };
            match network.next(&mut self.ready).await {
                Ok(true) => {}
                Ok(false) => {
                    if let Source::Network(network) = std::mem::replace(&mut self.source, Source::Done) {
                        network.scrubber.finish(&mut self.ready);
                    }
                }
                Err(error) => {
                    self.source = Source::Done;
                    self.ready.clear();
                    return Err(error);
                }
            }
        }
    }

    /// Reads the rest of the body.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>, OutboundError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.read(64 * 1024).await? {
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl Network {
    /// Reads one chunk into `out` (scrubbed); `false` at the end.
    async fn next(&mut self, out: &mut Vec<u8>) -> Result<bool, OutboundError> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let wait = remaining.min(self.between_bytes);
        let chunk = match tokio::time::timeout(wait, self.response.chunk()).await {
            Ok(chunk) => chunk.map_err(|e| OutboundError::Connection(e.without_url().to_string()))?,
            Err(_) if wait < self.between_bytes => {
                let what = if self.total_is_deadline {
                    "the call's deadline passed"
                } else {
                    "the request timeout passed"
                };
                return Err(OutboundError::Timeout(
                    TimeoutPhase::Total,
                    timeouts::message(
                        TimeoutPhase::Total,
                        format_args!("the body was still arriving after {} bytes ({what})", self.received),
                    ),
                ));
            }
            Err(_) => {
                return Err(OutboundError::Timeout(
                    TimeoutPhase::BetweenBytes,
                    timeouts::message(
                        TimeoutPhase::BetweenBytes,
                        format_args!(
                            "the body stalled for {} ms after {} bytes",
                            self.between_bytes.as_millis(),
                            self.received
                        ),
                    ),
                ));
            }
        };
        let Some(chunk) = chunk else { return Ok(false) };
        self.received += chunk.len() as u64;
        if self.received > self.limit {
            return Err(OutboundError::TooLarge(self.limit));
        }
        self.scrubber.push(&chunk, out);
        Ok(true)
    }
}
