//! The ingress: a delivery is verified by its plugin in the sandbox, then
//! committed durably, and only then acknowledged. Commits are grouped: one
//! writer task takes every delivery waiting and stores them in one
//! transaction, so durability costs one sync per batch, not per delivery.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use patchbay::store::WebhookStore;
use patchbay::store::webhooks::NewDelivery;
use patchbay::types::{ConnectorError, InboundRequest};
use patchbay::{CallError, Connection, ConnectionsError, Host, Reception};
use tokio::sync::{Notify, mpsc, oneshot};

/// The inbox's limits.
#[derive(Debug, Clone)]
pub struct InboxConfig {
    /// Largest body accepted, in bytes (a larger one is refused with 413).
    pub max_body_bytes: usize,
    /// Most deliveries committed in one transaction.
    pub max_batch: usize,
    /// How long an opened connection is reused for verifying deliveries
    /// (a change to it takes effect within this time).
    pub connection_ttl: Duration,
}

impl Default for InboxConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_batch: 512,
            connection_ttl: Duration::from_secs(5),
        }
    }
}

/// A request to a connection's ingress, as it was received.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    /// `GET` or `POST` (a request without a handshake must be a `POST`).
    pub method: String,
    /// The query string without the `?`.
    pub query: String,
    /// The request's headers.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Inbound {
    /// A `POST` delivery with no query string.
    pub fn post(headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Self {
            method: "POST".into(),
            query: String::new(),
            headers,
            body,
        }
    }
}

/// An HTTP answer a plugin wrote (a handshake's, or a delivery's when the
/// provider expects more than `200`), with the headers the host derives
/// taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status: a 2xx, or a 4xx.
    pub status: u16,
    /// Headers such as `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Largest body of a plugin's answer.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

impl Answer {
    /// Checks and cleans a plugin's reply: a status other than a 2xx or a
    /// 4xx, or a
    /// body over [`MAX_ANSWER_BYTES`] is the plugin's fault; headers the
    /// host derives (`Content-Length`, hop-by-hop, ...) are dropped.
    fn from_reply(reply: patchbay::types::Reply) -> Result<Self, String> {
        if !matches!(reply.status, 200..=299 | 400..=499) {
            return Err(format!(
                "the plugin answered with status {}; a handshake answers a 2xx or a 4xx",
                reply.status
            ));
        }
        if reply.body.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the plugin's answer has {} bytes, over {MAX_ANSWER_BYTES}",
                reply.body.len()
            ));
        }
        let headers = reply
            .headers
            .into_iter()
            .filter(|h| !patchbay_outbound::headers::is_forbidden(&h.name, &[]))
            .filter(|h| {
                http::HeaderName::try_from(h.name.as_str()).is_ok()
                    && http::HeaderValue::try_from(h.value.as_str()).is_ok()
            })
            .map(|h| (h.name, h.value))
            .collect();
        Ok(Self {
            status: reply.status,
            headers,
            body: reply.body,
        })
    }
}

/// What became of a request that was not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A delivery, verified and durably stored; the answer is `200`, or
    /// the plugin's own when it gave one.
    Stored {
        /// The stored delivery.
        delivery_id: i64,
        /// The connection it was for.
        connection_id: String,
        /// The plugin's answer, when the provider expects one.
        answer: Option<Answer>,
    },
    /// A challenge the plugin answered; nothing was stored.
    Answered {
        /// The connection it was for.
        connection_id: String,
        /// The plugin's answer.
        answer: Answer,
    },
}

/// Why a delivery was refused; nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No connection has this ingress token (404).
    #[error("no webhook ingress has this token")]
    UnknownToken,
    /// The body is over the limit (413).
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// Not a `POST`, and the plugin answers no handshakes (405).
    #[error("webhook deliveries are POSTed; {0} is not answered here")]
    Method(String),
    /// The plugin's `verify` refused it (401).
    #[error("the delivery failed verification: {0}")]
    NotVerified(String),
    /// The connection's plugin does not receive webhooks (404).
    #[error("{0}")]
    NoWebhooks(String),
    /// The connection cannot take deliveries now (disabled, not
    /// connected), or verifying failed for another reason (503: the
    /// provider retries).
    #[error("{0}")]
    Unavailable(String),
}

/// Counts of deliveries by outcome.
#[derive(Debug, Default)]
pub struct InboxStats {
    /// Verified and stored.
    pub accepted: AtomicU64,
    /// Refused by `verify`.
    pub not_verified: AtomicU64,
    /// For no known token.
    pub unknown: AtomicU64,
    /// Over the size limit.
    pub too_large: AtomicU64,
    /// Challenges the plugin answered (nothing stored).
    pub answered: AtomicU64,
    /// Not a `POST`, with no handshake to answer it.
    pub wrong_method: AtomicU64,
    /// Not taken now (the provider retries).
    pub unavailable: AtomicU64,
}

type Commit = (NewDelivery, oneshot::Sender<Result<i64, String>>);

/// Opened connections by (tenant, id), with when they were opened.
type OpenConnections = std::sync::Mutex<HashMap<(String, String), (Instant, Connection)>>;

/// The ingress of every connection's webhooks.
#[derive(Clone)]
pub struct Inbox {
    host: Host,
    config: InboxConfig,
    commits: mpsc::Sender<Commit>,
    connections: Arc<OpenConnections>,
    stats: Arc<InboxStats>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// An inbox over the host's store; `stored` is woken after each commit
    /// (the parse workers wait on it).
    pub fn start(host: Host, config: InboxConfig, stored: Arc<Notify>) -> Self {
        let (commits, queue) = mpsc::channel(config.max_batch * 4);
        tokio::spawn(write(host.webhook_store(), queue, config.max_batch, stored));
        Self {
            host,
            config,
            commits,
            connections: Arc::default(),
            stats: Arc::default(),
        }
    }

    /// The counts of deliveries by outcome.
    pub fn stats(&self) -> &InboxStats {
        &self.stats
    }

    /// The limits in force.
    pub fn config(&self) -> &InboxConfig {
        &self.config
    }

    /// Receives a request for the connection `token` names: a challenge is
    /// answered by the plugin's handshake; a delivery is verified by the
    /// plugin, then stored with a parse job, and `Ok` only once it is
    /// committed.
    pub async fn receive(&self, token: &str, request: Inbound) -> Result<Received, Refused> {
        let outcome = self.try_receive(token, request).await;
        let counter = match &outcome {
            Ok(Received::Stored { .. }) => &self.stats.accepted,
            Ok(Received::Answered { .. }) => &self.stats.answered,
            Err(Refused::NotVerified(_)) => &self.stats.not_verified,
            Err(Refused::UnknownToken | Refused::NoWebhooks(_)) => &self.stats.unknown,
            Err(Refused::TooLarge(_)) => &self.stats.too_large,
            Err(Refused::Method(_)) => &self.stats.wrong_method,
            Err(Refused::Unavailable(_)) => &self.stats.unavailable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// Counts a body the service refused as too large before the inbox saw
    /// it (its own body limit).
    pub fn count_too_large(&self) {
        self.stats.too_large.fetch_add(1, Ordering::Relaxed);
    }

    async fn try_receive(&self, token: &str, request: Inbound) -> Result<Received, Refused> {
        if request.body.len() > self.config.max_body_bytes {
            return Err(Refused::TooLarge(self.config.max_body_bytes));
        }
        let target = self
            .host
            .ingress_target(token)
            .await
            .map_err(|e| Refused::Unavailable(format!("the store failed: {e}")))?
            .ok_or(Refused::UnknownToken)?;
        let connection = self.connection(&target.tenant, &target.connection_id).await?;
        let port = connection.webhooks().map_err(|e| Refused::NoWebhooks(e.to_string()))?;
        if request.method != "POST" && !connection.plugin().exports(patchbay::Interface::WebhookHandshake) {
            return Err(Refused::Method(request.method));
        }
        let Inbound {
            method,
            query,
            headers,
            body,
        } = request;
        let wit_request = InboundRequest {
            method,
            query,
            headers: crate::wit_headers(&headers),
            body,
        };
        let unusable = |why: String| Refused::Unavailable(format!("the plugin's answer is unusable: {why}"));
        let answer = match port.receive(&wit_request).await {
            Ok(Reception::Answer(reply)) => {
                return Ok(Received::Answered {
                    connection_id: target.connection_id,
                    answer: Answer::from_reply(reply).map_err(unusable)?,
                });
            }
            Ok(Reception::Deliver(reply)) => reply.map(Answer::from_reply).transpose().map_err(unusable)?,
            Ok(Reception::Unanswered) => return Err(Refused::Method(wit_request.method)),
            Err(CallError::Connector(
                error @ (ConnectorError::WebhookVerification(_)
                | ConnectorError::Auth(_)
                | ConnectorError::Validation(_)),
            )) => return Err(Refused::NotVerified(patchbay::types::describe_error(&error))),
            Err(error) => {
                return Err(Refused::Unavailable(format!(
                    "the delivery could not be verified: {error}"
                )));
            }
        };
        let (done, committed) = oneshot::channel();
        let delivery = NewDelivery {
            tenant: target.tenant,
            connection_id: target.connection_id.clone(),
            headers,
            body: wit_request.body,
            received_at_ms: patchbay::now_ms(),
        };
        self.commits
            .send((delivery, done))
            .await
            .map_err(|_| Refused::Unavailable("the inbox is shutting down".into()))?;
        let delivery_id = committed
            .await
            .map_err(|_| Refused::Unavailable("the inbox is shutting down".into()))?
            .map_err(|e| Refused::Unavailable(format!("the delivery could not be stored: {e}")))?;
        Ok(Received::Stored {
            delivery_id,
            connection_id: target.connection_id,
            answer,
        })
    }

    /// The opened connection, for a delivery.
    async fn connection(&self, tenant: &str, id: &str) -> Result<Connection, Refused> {
        self.opened(tenant, id).await.map_err(|e| match e {
            ConnectionsError::NotFound { .. } => Refused::UnknownToken,
            other => Refused::Unavailable(other.to_string()),
        })
    }

    /// A stored connection, opened and reused for a short while (the
    /// inbox's verifications and the parse workers share it).
    pub(crate) async fn opened(&self, tenant: &str, id: &str) -> Result<Connection, ConnectionsError> {
        let key = (tenant.to_string(), id.to_string());
        if let Some((opened, connection)) = self.connections.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && opened.elapsed() < self.config.connection_ttl
        {
            return Ok(connection.clone());
        }
        let connection = self.host.connections(tenant).open(id).await?;
        let mut cache = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), connection.clone()));
        Ok(connection)
    }
}

/// The group committer: every delivery waiting goes into one transaction.
async fn write(store: Arc<dyn WebhookStore>, mut queue: mpsc::Receiver<Commit>, max_batch: usize, stored: Arc<Notify>) {
    let mut batch: Vec<Commit> = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut batch, max_batch).await > 0 {
        let (deliveries, replies): (Vec<NewDelivery>, Vec<_>) = batch.drain(..).unzip();
        let result = store.accept_deliveries(deliveries, patchbay::now_ms()).await;
        match result {
            Ok(ids) => {
                for (reply, id) in replies.into_iter().zip(ids) {
                    let _ = reply.send(Ok(id));
                }
                stored.notify_one();
            }
            Err(error) => {
                tracing::error!(%error, "webhook deliveries could not be stored; they are refused with 503");
                for reply in replies {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use patchbay::types::{Header, Reply};

    use super::*;

    fn reply(status: u16, headers: &[(&str, &str)], body: usize) -> Reply {
        Reply {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| Header {
                    name: name.to_string(),
                    value: value.to_string(),
                })
                .collect(),
            body: vec![b'x'; body],
        }
    }

    #[test]
    fn a_plugins_answer_keeps_its_own_headers_and_loses_the_derived_ones() {
        let answer = Answer::from_reply(reply(
            200,
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", "999"),
                ("Transfer-Encoding", "chunked"),
                ("Connection", "close"),
                ("Bad Name", "x"),
                ("x-ok", "bad\nvalue"),
                ("X-Challenge", "abc"),
            ],
            3,
        ))
        .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.headers,
            [
                ("Content-Type".to_string(), "application/json".to_string()),
                ("X-Challenge".to_string(), "abc".to_string())
            ]
        );
        assert_eq!(answer.body.len(), 3);
    }

    #[test]
    fn a_plugins_answer_is_bounded() {
        for status in [100, 199, 302, 500, 503, 999] {
            let refused = Answer::from_reply(reply(status, &[], 0)).unwrap_err();
            assert!(refused.contains(&status.to_string()), "{refused}");
        }
        assert!(Answer::from_reply(reply(204, &[], 0)).is_ok());
        assert!(Answer::from_reply(reply(401, &[], 0)).is_ok());
        assert!(Answer::from_reply(reply(200, &[], MAX_ANSWER_BYTES)).is_ok());
        let refused = Answer::from_reply(reply(200, &[], MAX_ANSWER_BYTES + 1)).unwrap_err();
        assert!(refused.contains("over"), "{refused}");
    }
}
