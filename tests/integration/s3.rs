//! The S3 plugin against moto in server mode (PyPI, started by
//! `tests/with-s3-server.sh`): the whole storage port under a root folder
//! (names with spaces and non-ASCII characters, paths that climb out
//! refused, listings across continuation tokens), files of any size through
//! blobs with the guest's memory at 64 MiB (multipart uploads, ranged
//! reads), a failed multipart upload aborted, and the CLI's `--blob` and
//! `--output`. moto does not check signatures: the host's SigV4 is tested
//! against AWS's published examples (host/outbound/src/auth.rs).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use patchbay::outbound::{Blob, HttpLimits};
use patchbay::types::ConnectorError;
use patchbay::{CallError, Connection, Credentials, Host, Limits, Settings};
use sha2::Digest as _;

use crate::support::{builder, plugins_dir, workspace};

fn endpoint() -> String {
    std::env::var("PATCHBAY_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "PATCHBAY_S3_ENDPOINT is not set: run the tests through `just test` (tests/with-s3-server.sh starts moto)"
        )
    })
}

/// A new bucket on the server, named after the test.
async fn bucket(name: &str) -> String {
    let response = reqwest::Client::new()
        .put(format!("{}/{name}", endpoint()))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "create bucket {name}: {}",
        response.status()
    );
    name.to_string()
}

fn credentials() -> Credentials {
    Credentials::from([
        ("access_key_id", "AKIAIOSFODNN7EXAMPLE"),
        ("secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ])
}

fn settings(bucket: &str, extra: &[(&str, &str)]) -> Settings {
    let mut settings = Settings::from([
        ("bucket".to_string(), bucket.to_string()),
        ("endpoint".to_string(), endpoint()),
        ("prefix".to_string(), "root folder".to_string()),
    ]);
    for (name, value) in extra {
        settings.insert(name.to_string(), value.to_string());
    }
    settings
}

async fn connect(host: &Host, bucket: &str, extra: &[(&str, &str)]) -> Connection {
    host.connect("storage/s3", credentials(), settings(bucket, extra))
        .unwrap()
}

/// A host whose plugins have 64 MiB of memory and ten minutes a call, and
/// whose requests may wait five minutes for an answer: an S3 server takes
/// its time to assemble a large multipart upload before it answers.
async fn small_host() -> Host {
    let patient = Duration::from_secs(300);
    builder()
        .plugins_dir(plugins_dir())
        .http_limits(HttpLimits {
            first_byte_timeout: patient,
            request_timeout: patient,
            allow_private_network: true,
            ..HttpLimits::default()
        })
        .limits(Limits {
            max_memory_bytes: 64 * 1024 * 1024,
            call_timeout: Duration::from_secs(600),
            pool_instances: 16,
            ..Limits::default()
        })
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_whole_storage_port_against_moto() {
    let host = crate::support::host().await;
    let conn = connect(&host, &bucket("port-suite").await, &[]).await;
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
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
    assert_eq!(file.content_type.as_deref(), Some("text/plain"));
    assert!(
        file.modified_at.as_deref().is_some_and(|t| t.starts_with("20")),
        "{file:?}"
    );

    // The objects live under the root folder, in the bucket's own listing.
    let listing = reqwest::get(format!("{}/port-suite?list-type=2", endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains("<Key>root folder/reports/summary.txt</Key>"),
        "{listing}"
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
        matches!(&missing, CallError::Connector(ConnectorError::NotFound(m)) if m.contains("NoSuchKey")),
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

    // A bucket that does not exist is the provider's NoSuchBucket.
    let nowhere = connect(&host, "no-such-bucket", &[]).await;
    let missing = nowhere.storage().unwrap().open("a.txt").await.unwrap_err();
    assert!(
        matches!(&missing, CallError::Connector(ConnectorError::NotFound(m)) if m.contains("NoSuchBucket")),
        "{missing:?}"
    );
}

#[tokio::test]
async fn listings_follow_continuation_tokens() {
    let host = crate::support::host().await;
    let conn = connect(&host, &bucket("many-files").await, &[]).await;
    let storage = conn.storage().unwrap();
    // One more than a page of ListObjectsV2 (1,000 keys), saved 8 at a
    // time (the test host has 16 instances).
    let names: Vec<String> = (0..1001).map(|i| format!("many/file-{i:04}.txt")).collect();
    for chunk in names.chunks(8) {
        let saves = chunk.iter().map(|name| storage.save(name, b"x"));
        for saved in futures::future::join_all(saves).await {
            saved.unwrap();
        }
    }
    let listing = storage.listdir("many").await.unwrap();
    assert_eq!(listing.files.len(), 1001);
    assert_eq!(listing.files[1000], "file-1000.txt");
    assert_eq!(storage.list_files("many").await.unwrap().len(), 1001);
}

/// Writes `size` bytes of a repeatable pattern to a file, and their SHA-256.
fn generated(size: u64) -> (tempfile::NamedTempFile, String) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut digest = sha2::Sha256::new();
    let mut block = vec![0u8; 1024 * 1024];
    let mut written = 0;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    while written < size {
        for byte in block.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *byte = seed as u8;
        }
        let n = (size - written).min(block.len() as u64) as usize;
        file.write_all(&block[..n]).unwrap();
        digest.update(&block[..n]);
        written += n as u64;
    }
    file.flush().unwrap();
    (file, hex::encode(digest.finalize()))
}

async fn sha256(blob: &patchbay::outbound::BlobRange) -> String {
    blob.sha256_hex().await.unwrap()
}

/// The process's resident memory: now, and its peak so far, in bytes.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The size of the large-file round trip: 2 GiB, or PATCHBAY_LARGE_FILE_MB.
fn large_size() -> u64 {
    std::env::var("PATCHBAY_LARGE_FILE_MB")
        .ok()
        .and_then(|mb| mb.parse::<u64>().ok())
        .unwrap_or(2048)
        * 1024
        * 1024
}

#[tokio::test]
async fn a_large_file_round_trips_through_blobs_with_64_mib_of_guest_memory() {
    let size = large_size();
    let (file, hash) = generated(size);
    let host = small_host().await;
    let conn = connect(&host, &bucket("large-files").await, &[]).await;
    let blobs = conn.blob_storage().unwrap();
    let (rss_before, _) = rss();

    let blob = Blob::from_file(file.path()).unwrap();
    let saved = blobs.save_blob("backups/nightly dump.tar", blob.whole()).await.unwrap();
    assert_eq!(saved, "backups/nightly dump.tar");
    assert_eq!(conn.storage().unwrap().size(&saved).await.unwrap(), size);
    let read = blobs.open_blob(&saved).await.unwrap();
    assert_eq!(read.len(), size);
    assert_eq!(sha256(&read).await, hash, "the file read back is the file saved");

    // A ranged read: one part's worth from the middle.
    let offset = size / 2 + 12_345;
    let range = blobs.open_range(&saved, offset, 1_000_000).await.unwrap();
    assert_eq!(
        sha256(&range).await,
        sha256(&blob.range(offset, 1_000_000).unwrap()).await
    );
    // Past the end: fewer bytes.
    let tail = blobs.open_range(&saved, size - 10, 1_000).await.unwrap();
    assert_eq!(tail.len(), 10);

    let (_, peak) = rss();
    let growth = peak.saturating_sub(rss_before);
    println!(
        "{} MiB round trip through storage/s3: peak host RSS growth {} MiB",
        size >> 20,
        growth >> 20
    );
    // Bounded memory: the file never sits whole in the host either.
    assert!(growth < 512 * 1024 * 1024, "peak RSS grew by {} MiB", growth >> 20);
}

#[tokio::test]
async fn a_failed_multipart_upload_is_aborted_and_says_so() {
    // 3 parts of 5 MiB; the file shrinks after the blob is made, so the
    // third part cannot be read.
    let (file, _) = generated(14 * 1024 * 1024);
    let blob = Blob::from_file(file.path()).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(file.path())
        .unwrap()
        .set_len(11 * 1024 * 1024)
        .unwrap();
    let host = small_host().await;
    let name = bucket("aborted-uploads").await;
    let conn = connect(&host, &name, &[("part_size_mb", "5")]).await;
    let failed = conn
        .blob_storage()
        .unwrap()
        .save_blob("half.bin", blob.whole())
        .await
        .unwrap_err();
    let message = failed.to_string();
    assert!(message.contains("the multipart upload was aborted"), "{message}");
    assert!(!conn.storage().unwrap().exists("half.bin").await.unwrap());
    let uploads = reqwest::get(format!("{}/{name}?uploads", endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!uploads.contains("<Upload>"), "an upload was left behind: {uploads}");
}

#[tokio::test]
async fn the_cli_saves_and_reads_files_by_reference() {
    let name = bucket("cli-files").await;
    let (file, hash) = generated(3 * 1024 * 1024 + 17);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("read back.bin");
    let patchbay = |args: &[&str]| {
        let mut command = std::process::Command::new(crate::cli::patchbay());
        command
            .args(["call", "storage/s3"])
            .args(args)
            .arg("--plugins")
            .arg(plugins_dir())
            .arg("--allow-private-network")
            .args(["--credential", "access_key_id=AKIAIOSFODNN7EXAMPLE"])
            .args([
                "--credential",
                "secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ])
            .args(["--setting", &format!("bucket={name}")])
            .args(["--setting", &format!("endpoint={}", endpoint())]);
        command
            .env("RUST_LOG", "error")
            .env("PATCHBAY_CACHE", workspace().join("target/test-compile-cache-cli"));
        command.output().unwrap()
    };
    let saved = patchbay(&[
        "blob-storage.save-blob",
        "--json",
        r#"{"name": "cli/upload.bin"}"#,
        "--blob",
        &format!("content=@{}", file.path().display()),
    ]);
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    assert_eq!(String::from_utf8_lossy(&saved.stdout).trim(), r#""cli/upload.bin""#);
    let read = patchbay(&[
        "blob-storage.open-blob",
        "--json",
        r#"{"name": "cli/upload.bin"}"#,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(answer, serde_json::json!({ "blob": 0, "size": 3 * 1024 * 1024 + 17 }));
    let written = std::fs::read(&out).unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&written)), hash);

    // A blob given in the JSON, and a blob answer without --output.
    let misplaced = patchbay(&[
        "blob-storage.save-blob",
        "--json",
        r#"{"name": "x", "content": "aGk="}"#,
    ]);
    assert!(!misplaced.status.success());
    assert!(
        String::from_utf8_lossy(&misplaced.stderr).contains("content: is a blob"),
        "{}",
        String::from_utf8_lossy(&misplaced.stderr)
    );
    let unkept = patchbay(&["blob-storage.open-blob", "--json", r#"{"name": "cli/upload.bin"}"#]);
    assert!(!unkept.status.success());
    assert!(
        String::from_utf8_lossy(&unkept.stderr).contains("give --output FILE"),
        "{}",
        String::from_utf8_lossy(&unkept.stderr)
    );
}

/// Blob arguments are refused where the function takes none, by name.
#[tokio::test]
async fn blob_arguments_are_checked_by_name() {
    let host = crate::support::host().await;
    let conn = connect(&host, &bucket("blob-arguments").await, &[]).await;
    let (file, _) = generated(10);
    let blob = Blob::from_file(file.path()).unwrap();
    let wrong = BTreeMap::from([("contents".to_string(), blob.whole())]);
    let refused = conn
        .call_json_blobs("blob-storage.save-blob", &serde_json::json!({ "name": "a" }), wrong)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("contents: is not a blob parameter; the blob parameters are content"),
        "{refused}"
    );
    let missing = conn
        .call_json_blobs(
            "blob-storage.save-blob",
            &serde_json::json!({ "name": "a" }),
            BTreeMap::new(),
        )
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("content: is required"), "{missing}");
}
