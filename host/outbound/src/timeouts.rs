//! The four timeouts of one attempt, each honoured on its own and named
//! when it ends a request:
//!
//! | timeout         | runs                                              | host's default |
//! |-----------------|---------------------------------------------------|----------------|
//! | `connect`       | while a new connection is made (DNS, TCP, TLS)    | 10 s           |
//! | `first-byte`    | from connected (or a pooled connection) to the response's head | 30 s |
//! | `between-bytes` | between two reads of the body                     | 15 s           |
//! | `total`         | the whole exchange, and never past the call's deadline | 30 s      |
//!
//! A plugin may ask for tighter ones (`http.send`'s `timeout-ms` is its
//! total; `wasi:http`'s request options give the other three), never looser.
//!
//! `reqwest` connects inside `send` and times the connection itself; to
//! start the first-byte clock when the connection is made rather than when
//! the request was issued, the client's connector is wrapped in a layer
//! ([`ConnectSignal`]) that tells the attempt waiting for it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::limits::HttpLimits;
use super::{TimeoutPhase, Timeouts};

/// The timeouts of one attempt, from the host's limits, the plugin's asks
/// and the time left in the call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptTimeouts {
    pub total: Duration,
    /// Whether `total` is the call's deadline rather than a request timeout.
    pub total_is_deadline: bool,
    pub connect: Duration,
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

impl AttemptTimeouts {
    pub fn new(limits: &HttpLimits, asked: &Timeouts, remaining: Duration) -> Self {
        let tightest = |host: Duration, asked: Option<Duration>| asked.map_or(host, |a| a.min(host));
        let total = tightest(limits.request_timeout, asked.total);
        Self {
            total: total.min(remaining),
            total_is_deadline: remaining < total,
            connect: tightest(limits.connect_timeout, asked.connect),
            first_byte: tightest(limits.first_byte_timeout, asked.first_byte),
            between_bytes: tightest(limits.idle_timeout, asked.between_bytes),
        }
    }
}

/// Where an attempt's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Connection {
    /// Nothing asked for a new connection (yet): a pooled one may serve.
    NotAsked,
    /// A new connection is being made.
    Connecting,
    /// The new connection is made.
    Made,
}

tokio::task_local! {
    static ATTEMPT: watch::Sender<Connection>;
}

/// Waits for the response head of `send` (a `reqwest` send): the
/// first-byte clock runs from the start while no connection is being made,
/// stops while one is (the connector's own timeout governs that), and
/// restarts when it is made; while a body is uploaded, each chunk taken
/// (a change on `uploading`) restarts it too. `None` when the first-byte
/// timeout ran out.
pub(crate) async fn head<F: Future>(
    send: F,
    timeouts: &AttemptTimeouts,
    mut uploading: Option<&mut watch::Receiver<()>>,
) -> Option<F::Output> {
    let (tx, mut rx) = watch::channel(Connection::NotAsked);
    let send = ATTEMPT.scope(tx, send);
    tokio::pin!(send);
    let mut head_by = Instant::now() + timeouts.first_byte;
    let mut watching = true;
    loop {
        tokio::select! {
            output = &mut send => return Some(output),
            changed = rx.changed(), if watching => match changed {
                Ok(()) => {
                    head_by = match *rx.borrow_and_update() {
                        // Bounded even if the connection is finished in the
                        // background (a pooled one was free first).
                        Connection::Connecting => Instant::now() + timeouts.connect + timeouts.first_byte,
                        Connection::Made | Connection::NotAsked => Instant::now() + timeouts.first_byte,
                    };
                }
                Err(_) => watching = false,
            },
            Ok(()) = async {
                match uploading.as_deref_mut() {
                    Some(progress) => progress.changed().await,
                    None => std::future::pending().await,
                }
            } => {
                head_by = head_by.max(Instant::now() + timeouts.first_byte);
            },
            () = tokio::time::sleep_until(head_by) => return None,
        }
    }
}

/// The connector layer that tells the waiting attempt when a connection is
/// being made and when it is made.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConnectSignal;

impl<S> tower_layer::Layer<S> for ConnectSignal {
    type Service = Signalling<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Signalling { inner }
    }
}

/// A connector that signals its progress to the attempt that called it.
#[derive(Debug, Clone)]
pub(crate) struct Signalling<S> {
    inner: S,
}

impl<S, R> tower_service::Service<R> for Signalling<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // Called in the attempt's task; the connection may be finished in
        // another one, so the sender travels with the future.
        let signal = ATTEMPT.try_with(Clone::clone).ok();
        if let Some(signal) = &signal {
            signal.send_replace(Connection::Connecting);
        }
        let connecting = self.inner.call(request);
        Box::pin(async move {
            let connected = connecting.await;
            if let (Some(signal), Ok(_)) = (&signal, &connected) {
                signal.send_replace(Connection::Made);
            }
            connected
        })
    }
}

/// The error of a timed-out attempt, naming its timeout.
pub(crate) fn message(phase: TimeoutPhase, detail: std::fmt::Arguments<'_>) -> String {
    format!("{} timeout: {detail}", phase.name())
}
