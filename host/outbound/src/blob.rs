//! Blobs: contents of any size held by the host in a file, never in a
//! sandbox. A request body may name a blob, whole or a byte range of it (a
//! part of a multipart upload), and a response body may be written into one
//! ([`OutboundPolicy::send_to_blob`]); the bytes move between the file and
//! the network in chunks of [`CHUNK`] bytes, so memory stays bounded
//! whatever the size, and a retried request reads its body again from the
//! file.
//!
//! A blob is immutable once made: [`Blob::from_file`] takes an existing
//! file as it is (it must not change while requests read it),
//! [`Blob::from_reader`] and [`BlobWriter`] spool into a temporary file that
//! is deleted when the last handle to the blob is dropped.
//!
//! Spooled files live in a [`Spool`]: a directory of the host's own, locked
//! while the host lives, so that the files a crashed process left behind are
//! found and deleted by the next host that opens a spool beside it.
//!
//! [`OutboundPolicy::send_to_blob`]: crate::OutboundPolicy::send_to_blob

use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

/// How many bytes a blob is read or written by at a time.
pub const CHUNK: usize = 256 * 1024;

/// Immutable contents held by the host in a file. Cloning is cheap (the
/// clones share the file).
#[derive(Clone)]
pub struct Blob {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    len: u64,
    /// A spooled file, deleted with the last handle; `None` for a file the
    /// blob was made from, which stays.
    _temporary: Option<tempfile::TempPath>,
    /// The spool holding it, kept until the file is gone (fields drop in
    /// order: the file first).
    _spool: Option<Spool>,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("path", &self.inner.path)
            .field("len", &self.inner.len)
            .finish()
    }
}

impl Blob {
    /// The contents of an existing file, which must not change while the
    /// blob is in use (requests read it when they send, again on a retry).
    pub fn from_file(path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        let metadata = std::fs::metadata(&path)?;
        if !metadata.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                len: metadata.len(),
                _temporary: None,
                _spool: None,
            }),
        })
    }

    /// Everything `reader` yields, spooled into a temporary file in `spool`
    /// (a stream can be read once; a retried request needs its body again).
    pub async fn from_reader(spool: &Spool, mut reader: impl AsyncRead + Unpin) -> io::Result<Self> {
        let mut writer = BlobWriter::create(spool)?;
        let mut buffer = vec![0; CHUNK];
        loop {
            let n = reader.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            writer.write(&buffer[..n]).await?;
        }
        writer.finish().await
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.inner.len
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// The file that holds it (a temporary one is deleted with the blob).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The whole blob as a range.
    pub fn whole(&self) -> BlobRange {
        BlobRange {
            blob: self.clone(),
            start: 0,
            len: self.inner.len,
        }
    }

    /// `len` bytes from `start`; refused when they do not lie inside the blob.
    pub fn range(&self, start: u64, len: u64) -> Result<BlobRange, String> {
        self.whole().slice(start, len)
    }

    /// Reads at most `max` bytes from `offset` (fewer at the end; none past it).
    pub async fn read_at(&self, offset: u64, max: usize) -> io::Result<Vec<u8>> {
        let available = self.inner.len.saturating_sub(offset);
        let want = usize::try_from(available).unwrap_or(usize::MAX).min(max);
        let mut buffer = vec![0; want];
        if want == 0 {
            return Ok(buffer);
        }
        let mut file = tokio::fs::File::open(&self.inner.path).await?;
        file.seek(SeekFrom::Start(offset)).await?;
        file.read_exact(&mut buffer).await?;
        Ok(buffer)
    }
}

/// A byte range of a blob: what a request body names.
#[derive(Debug, Clone)]
pub struct BlobRange {
    blob: Blob,
    start: u64,
    len: u64,
}

impl BlobRange {
    /// The blob.
    pub fn blob(&self) -> &Blob {
        &self.blob
    }

    /// Where the range starts in the blob.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `len` bytes from `offset` within this range, as a range of the same
    /// blob; refused when they do not lie inside this range.
    pub fn slice(&self, offset: u64, len: u64) -> Result<BlobRange, String> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(BlobRange {
                blob: self.blob.clone(),
                start: self.start + offset,
                len,
            }),
            _ => Err(format!(
                "bytes {offset}..{} lie outside the blob's {} bytes",
                offset.saturating_add(len),
                self.len
            )),
        }
    }

    /// Reads at most `max` bytes from `offset` within this range (fewer at
    /// its end; none past it).
    pub async fn read_at(&self, offset: u64, max: usize) -> io::Result<Vec<u8>> {
        let available = self.len.saturating_sub(offset);
        let want = usize::try_from(available).unwrap_or(usize::MAX).min(max);
        self.blob.read_at(self.start.saturating_add(offset), want).await
    }

    /// The range's bytes, chunk by chunk, read from the file as the
    /// consumer asks for them. A file that became shorter than the blob is
    /// an error, not a short body.
    pub fn chunks(&self) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        struct State {
            path: PathBuf,
            file: Option<tokio::fs::File>,
            start: u64,
            left: u64,
        }
        let state = State {
            path: self.blob.inner.path.clone(),
            file: None,
            start: self.start,
            left: self.len,
        };
        futures::stream::try_unfold(state, |mut state| async move {
            if state.left == 0 {
                return Ok(None);
            }
            let file = match &mut state.file {
                Some(file) => file,
                None => {
                    let mut file = tokio::fs::File::open(&state.path).await?;
                    file.seek(SeekFrom::Start(state.start)).await?;
                    state.file.insert(file)
                }
            };
            let want = usize::try_from(state.left).unwrap_or(usize::MAX).min(CHUNK);
            let mut buffer = vec![0; want];
            let mut filled = 0;
            while filled < want {
                let n = file.read(&mut buffer[filled..]).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{} became shorter than the blob made from it", state.path.display()),
                    ));
                }
                filled += n;
            }
            state.left -= want as u64;
            Ok(Some((Bytes::from(buffer), state)))
        })
    }

    /// The SHA-256 of the range, hex-encoded (what a SigV4 signature over a
    /// streamed payload names); read from the file without holding it.
    pub async fn sha256_hex(&self) -> io::Result<String> {
        use futures::TryStreamExt as _;
        let mut digest = Sha256::new();
        let mut chunks = std::pin::pin!(self.chunks());
        while let Some(chunk) = chunks.try_next().await? {
            digest.update(&chunk);
        }
        Ok(hex::encode(digest.finalize()))
    }
}

/// A blob being written, in a temporary file; [`finish`](Self::finish)
/// seals it. Dropped unfinished, the file is deleted.
pub struct BlobWriter {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    len: u64,
    spool: Spool,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter").field("len", &self.len).finish()
    }
}

impl BlobWriter {
    /// A new, empty blob in a temporary file in `spool`.
    pub fn create(spool: &Spool) -> io::Result<Self> {
        let (file, path) = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(spool.path())?
            .into_parts();
        Ok(Self {
            file: tokio::fs::File::from_std(file),
            path,
            len: 0,
            spool: spool.clone(),
        })
    }

    /// Appends bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes).await?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// How many bytes were written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Seals the blob.
    pub async fn finish(mut self) -> io::Result<Blob> {
        self.file.flush().await?;
        self.file.sync_data().await?;
        Ok(Blob {
            inner: Arc::new(Inner {
                path: self.path.to_path_buf(),
                len: self.len,
                _temporary: Some(self.path),
                _spool: Some(self.spool),
            }),
        })
    }
}

/// How a spool's directory is named; `NEW` while it is being made (a name
/// no sweep touches, so that a directory is never taken for abandoned in
/// the moment between its making and its locking).
const SPOOL_PREFIX: &str = "patchbay-spool-";
const NEW_SPOOL_PREFIX: &str = ".patchbay-spool-new-";

/// A host's directory for spooled blobs, inside a parent that other hosts
/// may share (the system's temporary directory by default). The directory
/// is locked (`flock`) for as long as a handle to it lives; opening a spool
/// first deletes every sibling spool whose lock nobody holds — what a
/// process that crashed or was killed left behind, which no drop ever
/// deleted. Cloning is cheap; the directory is removed when the last
/// handle (the host's, or a blob's that outlived it) is dropped.
#[derive(Clone)]
pub struct Spool {
    inner: Arc<SpoolInner>,
}

struct SpoolInner {
    dir: PathBuf,
    /// The directory opened and locked: the mark that its owner lives.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool").field("dir", &self.inner.dir).finish()
    }
}

/// What opening a spool cleared away.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Abandoned spool directories deleted.
    pub spools: usize,
    /// Files that were in them.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

impl Spool {
    /// Sweeps `parent` of abandoned spools, then makes and locks a spool
    /// directory of this host's own in it.
    pub fn open(parent: &Path) -> io::Result<(Self, Swept)> {
        let swept = sweep(parent);
        let made = tempfile::Builder::new()
            .prefix(NEW_SPOOL_PREFIX)
            .tempdir_in(parent)
            .map_err(|e| with_path(e, "cannot make a spool directory in", parent))?;
        let lock = std::fs::File::open(made.path()).map_err(|e| with_path(e, "cannot open", made.path()))?;
        lock.lock().map_err(|e| with_path(e, "cannot lock", made.path()))?;
        // tempfile's names are the prefix and ASCII letters and digits.
        let name = made.path().file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let suffix = name.strip_prefix(NEW_SPOOL_PREFIX).unwrap_or(name);
        let dir = parent.join(format!("{SPOOL_PREFIX}{suffix}"));
        std::fs::rename(made.path(), &dir).map_err(|e| with_path(e, "cannot name the spool directory", &dir))?;
        // Renamed: the `TempDir` guard no longer has anything to delete.
        let _ = made.keep();
        Ok((
            Self {
                inner: Arc::new(SpoolInner { dir, _lock: lock }),
            },
            swept,
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }
}

impl Drop for SpoolInner {
    fn drop(&mut self) {
        // Every blob in it holds a handle, so it is empty by now unless
        // something else wrote into it; what is left, the next sweep takes.
        if let Err(e) = std::fs::remove_dir(&self.dir)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "spool directory left for the next sweep");
        }
    }
}

/// Deletes the spool directories in `parent` whose lock nobody holds. What
/// cannot be read or locked (another user's, say) is left alone.
fn sweep(parent: &Path) -> Swept {
    let mut swept = Swept::default();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return swept;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(|n| n.starts_with(SPOOL_PREFIX)) {
            continue;
        }
        let dir = entry.path();
        let Ok(handle) = std::fs::File::open(&dir) else {
            continue;
        };
        if handle.try_lock().is_err() {
            continue; // its host is alive
        }
        let (mut files, mut bytes) = (0, 0);
        for file in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            files += 1;
            bytes += file.metadata().map_or(0, |m| m.len());
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {
                swept.spools += 1;
                swept.files += files;
                swept.bytes += bytes;
            }
            Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot delete an abandoned spool"),
        }
    }
    swept
}

fn with_path(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt as _;

    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[tokio::test]
    async fn ranges_read_exactly_their_bytes_chunk_by_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path()).unwrap();
        let content = pattern(CHUNK * 2 + 17);
        let blob = Blob::from_reader(&spool, &content[..]).await.unwrap();
        assert_eq!(blob.len(), content.len() as u64);
        let whole: Vec<Bytes> = blob.whole().chunks().try_collect().await.unwrap();
        assert_eq!(whole.iter().map(Bytes::len).collect::<Vec<_>>(), [CHUNK, CHUNK, 17]);
        assert_eq!(whole.concat(), content);
        let part = blob.range(CHUNK as u64 - 3, 10).unwrap();
        let bytes: Vec<Bytes> = part.chunks().try_collect().await.unwrap();
        assert_eq!(bytes.concat(), &content[CHUNK - 3..CHUNK + 7]);
        assert_eq!(blob.read_at(5, 4).await.unwrap(), &content[5..9]);
        assert!(blob.read_at(blob.len(), 4).await.unwrap().is_empty());
        assert_eq!(
            blob.whole().sha256_hex().await.unwrap(),
            hex::encode(Sha256::digest(&content))
        );
    }

    #[tokio::test]
    async fn ranges_outside_the_blob_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path()).unwrap();
        let blob = Blob::from_reader(&spool, &b"0123456789"[..]).await.unwrap();
        assert!(blob.range(0, 10).is_ok());
        assert!(blob.range(10, 0).is_ok());
        let err = blob.range(5, 6).unwrap_err();
        assert_eq!(err, "bytes 5..11 lie outside the blob's 10 bytes");
        assert!(blob.range(u64::MAX, 2).is_err());
    }

    #[tokio::test]
    async fn a_file_that_shrinks_is_an_error_not_a_short_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, pattern(1000)).unwrap();
        let blob = Blob::from_file(&path).unwrap();
        std::fs::write(&path, pattern(10)).unwrap();
        let err = blob.whole().chunks().try_collect::<Vec<_>>().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(Blob::from_file(dir.path()).is_err(), "a directory is not a blob");
    }

    #[tokio::test]
    async fn spooled_files_go_with_the_last_handle() {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path()).unwrap();
        let mut writer = BlobWriter::create(&spool).unwrap();
        writer.write(b"abc").await.unwrap();
        let blob = writer.finish().await.unwrap();
        let path = blob.path().to_path_buf();
        assert_eq!(path.parent(), Some(spool.path()));
        let copy = blob.clone();
        drop(blob);
        assert!(path.exists());
        drop(copy);
        assert!(!path.exists(), "the spooled file is deleted with the blob");
        let abandoned = BlobWriter::create(&spool).unwrap();
        drop(abandoned);
        assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_spool_outlives_its_host_while_a_blob_in_it_does() {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path()).unwrap();
        let spool_dir = spool.path().to_path_buf();
        let blob = Blob::from_reader(&spool, &b"kept"[..]).await.unwrap();
        drop(spool);
        // Another host opening its spool beside it must not take it for abandoned.
        let (_other, swept) = Spool::open(dir.path()).unwrap();
        assert_eq!(swept, Swept::default());
        assert_eq!(blob.read_at(0, 4).await.unwrap(), &b"kept"[..]);
        drop(blob);
        assert!(!spool_dir.exists(), "the spool goes with its last blob");
    }

    /// What a killed process leaves: a spool directory with files in it and
    /// nobody holding its lock (the kernel drops a dead process's locks).
    #[tokio::test]
    async fn spools_abandoned_by_a_dead_process_are_swept_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (live, _) = Spool::open(dir.path()).unwrap();
        let live_blob = Blob::from_reader(&live, &b"in flight"[..]).await.unwrap();
        let dead = dir.path().join(format!("{SPOOL_PREFIX}crashed"));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("blob-1"), pattern(1000)).unwrap();
        std::fs::write(dead.join("blob-2"), pattern(24)).unwrap();
        let unrelated = dir.path().join("someone-elses");
        std::fs::create_dir(&unrelated).unwrap();
        let being_made = dir.path().join(format!("{NEW_SPOOL_PREFIX}x"));
        std::fs::create_dir(&being_made).unwrap();

        let (next, swept) = Spool::open(dir.path()).unwrap();
        assert_eq!(
            swept,
            Swept {
                spools: 1,
                files: 2,
                bytes: 1024
            }
        );
        assert!(!dead.exists());
        assert!(
            unrelated.exists() && being_made.exists(),
            "only abandoned spools are touched"
        );
        assert_eq!(live_blob.read_at(0, 9).await.unwrap(), &b"in flight"[..]);
        assert!(next.path().starts_with(dir.path()));
        assert!(
            next.path()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(SPOOL_PREFIX)
        );
        assert_ne!(next.path(), live.path());
    }

    #[test]
    fn a_spool_that_cannot_be_made_names_where() {
        let err = Spool::open(Path::new("/nonexistent/patchbay-parent")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/patchbay-parent"), "{err}");
    }
}
