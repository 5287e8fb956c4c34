//! The storage conformance suite every storage adapter passes against its
//! real server: the whole storage port (names with spaces and non-ASCII
//! characters, normalized paths, paths that climb out of the root refused,
//! listings with details, not-found for what is missing) and a large file
//! through blobs (saved, sized, read back whole and in ranges, checked by
//! SHA-256, with the host's peak memory growth reported and bounded).

use std::time::Duration;

use patchbay::outbound::Blob;
use patchbay::types::ConnectorError;
use patchbay::{CallError, Connection, Host, HostBuilder, Limits};

use crate::support::{builder, plugins_dir, rss};

/// A host whose plugins have 64 MiB of memory and ten minutes a call, and
/// whose requests may wait for a large upload to be assembled.
pub async fn small_host() -> Host {
    small_host_with(|builder| builder).await
}

/// [`small_host`], with more of the builder's settings from `more`.
pub async fn small_host_with(more: impl FnOnce(HostBuilder) -> HostBuilder) -> Host {
    more(
        builder()
            .plugins_dir(plugins_dir())
            .http_limits(patchbay_tests::files::patient_http_limits())
            .limits(Limits {
                max_memory_bytes: 64 * 1024 * 1024,
                call_timeout: Duration::from_secs(600),
                pool_instances: 16,
                ..Limits::default()
            }),
    )
    .build()
    .await
    .unwrap()
}

/// The storage port, from an empty root.
pub async fn port_suite(conn: &Connection) {
    let storage = conn.storage().unwrap();

    let name = "reports/été 2026/q1 + q2.pdf";
    let content = b"%PDF-1.7 quarterly report".to_vec();
    assert_eq!(storage.save(name, &content).await.unwrap(), name);
    assert!(storage.exists(name).await.unwrap());
    assert_eq!(storage.size(name).await.unwrap(), content.len() as u64);
    assert_eq!(storage.open(name).await.unwrap(), content);
    // The same file through a normalized path.
    assert_eq!(storage.open("/reports/./été 2026//q1 + q2.pdf").await.unwrap(), content);
    storage.save("reports/summary.txt", b"three lines").await.unwrap();

    let top = storage.listdir("").await.unwrap();
    assert_eq!(top.directories, ["reports"]);
    assert!(top.files.is_empty(), "{top:?}");
    let reports = storage.listdir("reports").await.unwrap();
    assert_eq!(reports.directories, ["été 2026"]);
    assert_eq!(reports.files, ["summary.txt"]);
    let files = storage.list_files("reports").await.unwrap();
    let dir = files.iter().find(|f| f.is_directory).unwrap();
    assert_eq!((dir.path.as_str(), dir.name.as_str()), ("reports/été 2026", "été 2026"));
    let file = files.iter().find(|f| !f.is_directory).unwrap();
    assert_eq!(file.path, "reports/summary.txt");
    assert_eq!(file.size, 11);
    // The adapter's guess, or the server's own (with a charset).
    assert!(
        file.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/plain")),
        "{file:?}"
    );
    assert!(
        file.modified_at.as_deref().is_some_and(|t| t.starts_with("20")),
        "{file:?}"
    );

    storage.delete(name).await.unwrap();
    assert!(!storage.exists(name).await.unwrap());
    let gone = storage.delete(name).await.unwrap_err();
    assert!(
        matches!(gone, CallError::Connector(ConnectorError::NotFound(_))),
        "{gone:?}"
    );
    let missing = storage.open("nothing-here.txt").await.unwrap_err();
    assert!(
        matches!(missing, CallError::Connector(ConnectorError::NotFound(_))),
        "{missing:?}"
    );
    let missing = storage.size("nothing-here.txt").await.unwrap_err();
    assert!(
        matches!(missing, CallError::Connector(ConnectorError::NotFound(_))),
        "{missing:?}"
    );
    for climbing in ["../outside.txt", "reports/../../outside.txt"] {
        let refused = storage.save(climbing, b"x").await.unwrap_err();
        assert!(
            matches!(&refused, CallError::Connector(ConnectorError::Validation(m)) if m.contains("climbs out")),
            "{climbing}: {refused:?}"
        );
    }
}

/// `file` (`size` bytes, SHA-256 `hash`) saved through `blob-storage` and
/// read back whole and in ranges.
pub async fn large_round_trip(conn: &Connection, adapter: &str, file: &tempfile::NamedTempFile, hash: &str, size: u64) {
    let blobs = conn.blob_storage().unwrap();
    let (rss_before, _) = rss();

    let blob = Blob::from_file(file.path()).unwrap();
    let saved = blobs.save_blob("backups/nightly dump.tar", blob.whole()).await.unwrap();
    assert_eq!(saved, "backups/nightly dump.tar");
    assert_eq!(conn.storage().unwrap().size(&saved).await.unwrap(), size);
    let read = blobs.open_blob(&saved).await.unwrap();
    assert_eq!(read.len(), size);
    assert_eq!(
        read.sha256_hex().await.unwrap(),
        hash,
        "the file read back is the file saved"
    );

    // A ranged read: one part's worth from the middle.
    let offset = size / 2 + 12_345;
    let range = blobs.open_range(&saved, offset, 1_000_000).await.unwrap();
    assert_eq!(
        range.sha256_hex().await.unwrap(),
        blob.range(offset, 1_000_000).unwrap().sha256_hex().await.unwrap()
    );
    // Past the end: fewer bytes.
    let tail = blobs.open_range(&saved, size - 10, 1_000).await.unwrap();
    assert_eq!(tail.len(), 10);

    let (_, peak) = rss();
    let growth = peak.saturating_sub(rss_before);
    println!(
        "{} MiB round trip through {adapter}: peak host RSS growth {} MiB",
        size >> 20,
        growth >> 20
    );
    // Bounded memory: the file never sits whole in the host either.
    assert!(growth < 512 * 1024 * 1024, "peak RSS grew by {} MiB", growth >> 20);
}

/// Saves, through `blob-storage`, a blob of `size` bytes whose file shrinks
/// to `kept` bytes first, so that the upload is cut off midway: the save
/// fails, its error says `cleanup` happened, and no file `half.bin` is left.
pub async fn a_cut_off_save_cleans_up(conn: &Connection, size: u64, kept: u64, cleanup: &str) {
    let (_file, blob) = patchbay_tests::files::shrinking(size, kept);
    let failed = conn
        .blob_storage()
        .unwrap()
        .save_blob("half.bin", blob.whole())
        .await
        .unwrap_err();
    let message = failed.to_string();
    assert!(message.contains(cleanup), "{message}");
    assert!(!conn.storage().unwrap().exists("half.bin").await.unwrap());
}
