//! What both protocols do with bytes and sockets: a TCP connection to the
//! checked address, contents copied from a blob (or bytes) to the server
//! and from the server into a blob in bounded memory under the idle
//! timeout, and the error of an upload whose partial file was cleaned up.

use super::{TransferAnswer, TransferError};
use crate::{BlobWriter, HttpLimits, RequestBody};

/// A TCP connection to the checked `address` within the connect timeout.
pub(crate) async fn connect_tcp(
    address: std::net::SocketAddr,
    limits: &HttpLimits,
) -> Result<tokio::net::TcpStream, TransferError> {
    let stream = tokio::time::timeout(limits.connect_timeout, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| {
            TransferError::Timeout(format!(
                "connect timeout: {address} did not answer within {} ms",
                limits.connect_timeout.as_millis()
            ))
        })?
        .map_err(|e| TransferError::Connection(format!("cannot connect to {address}: {e}")))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// The error of an upload that failed midway, saying whether its partial
/// file could be removed (`removed`).
pub(crate) fn after_cleanup(error: TransferError, removed: bool) -> TransferError {
    let note = if removed {
        "the partial file was removed"
    } else {
        "the partial file could not be removed"
    };
    match error {
        TransferError::Connection(m) => TransferError::Connection(format!("{m}; {note}")),
        TransferError::Timeout(m) => TransferError::Timeout(format!("{m}; {note}")),
        TransferError::Refused(m) => TransferError::Refused(format!("{m}; {note}")),
        other => other,
    }
}

/// Copies a request body (a blob range or bytes) into `write`, a chunk at
/// a time, each write under the idle timeout.
pub(crate) async fn copy_body<W: tokio::io::AsyncWrite + Unpin>(
    contents: &RequestBody,
    write: &mut W,
    limits: &HttpLimits,
) -> Result<u64, TransferError> {
    use futures::StreamExt as _;
    use tokio::io::AsyncWriteExt as _;
    let idle = limits.idle_timeout;
    let stalled = || TransferError::Timeout(format!("the server took no data for {} ms", idle.as_millis()));
    let lost = |e: std::io::Error| TransferError::Connection(format!("the upload broke off: {e}"));
    let mut written = 0u64;
    match contents {
        RequestBody::Bytes(bytes) => {
            for chunk in bytes.chunks(crate::blob::CHUNK) {
                tokio::time::timeout(idle, write.write_all(chunk))
                    .await
                    .map_err(|_| stalled())?
                    .map_err(lost)?;
                written += chunk.len() as u64;
            }
        }
        RequestBody::Blob(range) => {
            let mut chunks = std::pin::pin!(range.chunks());
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk
                    .map_err(|e| TransferError::Connection(format!("cannot read the blob being uploaded: {e}")))?;
                tokio::time::timeout(idle, write.write_all(&chunk))
                    .await
                    .map_err(|_| stalled())?
                    .map_err(lost)?;
                written += chunk.len() as u64;
            }
        }
    }
    tokio::time::timeout(idle, write.flush())
        .await
        .map_err(|_| stalled())?
        .map_err(lost)?;
    Ok(written)
}

/// Copies at most `length` bytes (all when none) from `read` into `into`,
/// refusing more than the blob limit, each read under the idle timeout.
/// True when it stopped at `length` rather than at the end of the source:
/// the caller may have to abort the transfer.
pub(crate) async fn copy_into_blob<R: tokio::io::AsyncRead + Unpin>(
    read: &mut R,
    into: &mut BlobWriter,
    length: Option<u64>,
    limits: &HttpLimits,
) -> Result<bool, TransferError> {
    use tokio::io::AsyncReadExt as _;
    let idle = limits.idle_timeout;
    let mut buffer = vec![0u8; crate::blob::CHUNK];
    loop {
        let want = match length {
            Some(length) => (length - into.len()).min(buffer.len() as u64) as usize,
            None => buffer.len(),
        };
        if want == 0 {
            // At the length: stopped early only if the source has more.
            let mut probe = [0u8; 1];
            let more = tokio::time::timeout(idle, read.read(&mut probe))
                .await
                .map_err(|_| TransferError::Timeout(format!("the server sent no data for {} ms", idle.as_millis())))?
                .map_err(|e| TransferError::Connection(format!("the download broke off: {e}")))?;
            return Ok(more > 0);
        }
        let n = tokio::time::timeout(idle, read.read(&mut buffer[..want]))
            .await
            .map_err(|_| TransferError::Timeout(format!("the server sent no data for {} ms", idle.as_millis())))?
            .map_err(|e| TransferError::Connection(format!("the download broke off: {e}")))?;
        if n == 0 {
            return Ok(false);
        }
        if into.len() + n as u64 > limits.max_blob_bytes {
            return Err(TransferError::TooLarge(limits.max_blob_bytes));
        }
        into.write(&buffer[..n])
            .await
            .map_err(|e| TransferError::Connection(format!("cannot write the download into a blob: {e}")))?;
    }
}

/// A blob writer finished into its blob.
pub(crate) async fn finish(into: BlobWriter) -> Result<TransferAnswer, TransferError> {
    into.finish()
        .await
        .map(TransferAnswer::Blob)
        .map_err(|e| TransferError::Connection(format!("cannot finish the downloaded blob: {e}")))
}
