//! `LISTEN` on a connection of its own: the changes every replica
//! announces with `NOTIFY`, handed to this replica's subscribers. When the
//! connection drops it comes back (after a pause), and subscribers are
//! told that everything may have changed, since notifications sent in the
//! meantime are lost.

use std::time::Duration;

use futures::StreamExt as _;
use patchbay_store::webhooks::{Change, JobKind};
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};

/// The channel changes are announced on.
pub(crate) const CHANNEL: &str = "patchbay_changes";

/// The listening task, stopped when dropped.
pub(crate) struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Listener {
    /// Starts listening; `listening` is told once the first `LISTEN` is
    /// in place.
    pub(crate) fn start(
        config: tokio_postgres::Config,
        changes: broadcast::Sender<Change>,
        listening: tokio::sync::oneshot::Sender<()>,
    ) -> Self {
        Self(tokio::spawn(async move {
            let mut first = true;
            let mut listening = Some(listening);
            loop {
                match listen(&config, &changes, first, &mut listening).await {
                    Ok(()) => tracing::warn!("the PostgreSQL listener's connection closed; reconnecting"),
                    Err(error) => tracing::warn!(%error, "the PostgreSQL listener failed; reconnecting in 1 s"),
                }
                first = false;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }))
    }
}

/// Listens until the connection ends.
async fn listen(
    config: &tokio_postgres::Config,
    changes: &broadcast::Sender<Change>,
    first: bool,
    listening: &mut Option<tokio::sync::oneshot::Sender<()>>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let forward = changes.clone();
    // The connection delivers the notifications (and carries the client's
    // `LISTEN`) while it is polled.
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            if let AsyncMessage::Notification(note) = message?
                && let Some(change) = Change::from_text(note.payload())
            {
                let _ = forward.send(change);
            }
        }
        Ok(())
    });
    // (Dropping the client ends the connection, and with it the driver.)
    if let Err(error) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        driver.abort();
        return Err(error);
    }
    if let Some(listening) = listening.take() {
        let _ = listening.send(());
    }
    if !first {
        // What was announced while the connection was down is lost.
        for kind in [JobKind::Parse, JobKind::Push] {
            let _ = changes.send(Change::Jobs(kind));
        }
    }
    let ended = driver.await;
    drop(client);
    ended.unwrap_or(Ok(()))
}
