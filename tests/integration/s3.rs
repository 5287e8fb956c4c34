//! The S3 plugin against moto in server mode (PyPI, started by
//! `tests/with-s3-server.sh`): the whole storage port under a root folder
//! (names with spaces and non-ASCII characters, paths that climb out
//! refused, listings across continuation tokens), files of any size through
//! blobs with the guest's memory at 64 MiB (multipart uploads, ranged
//! reads), a failed multipart upload aborted, and the CLI's `--blob` and
//! `--output`. moto does not check signatures: the host's SigV4 is tested
//! against AWS's published examples (host/outbound/src/auth.rs).

use std::collections::BTreeMap;

use patchbay::outbound::Blob;
use patchbay::types::ConnectorError;
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use sha2::Digest as _;

use crate::support::{generated, large_size, plugins_dir, workspace};

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

#[tokio::test]
async fn the_whole_storage_port_against_moto() {
    let host = crate::support::host().await;
    let conn = connect(&host, &bucket("port-suite").await, &[]).await;
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    crate::storage::port_suite(&conn).await;

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

    let storage = conn.storage().unwrap();
    let missing = storage.open("nothing-here.txt").await.unwrap_err();
    assert!(
        matches!(&missing, CallError::Connector(ConnectorError::NotFound(m)) if m.contains("NoSuchKey")),
        "{missing:?}"
    );

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

#[tokio::test]
async fn a_large_file_round_trips_through_blobs_with_64_mib_of_guest_memory() {
    let size = large_size();
    let (file, hash) = generated(size);
    let host = crate::storage::small_host().await;
    let conn = connect(&host, &bucket("large-files").await, &[]).await;
    crate::storage::large_round_trip(&conn, "storage/s3", &file, &hash, size).await;
}

#[tokio::test]
async fn a_failed_multipart_upload_is_aborted_and_says_so() {
    // 3 parts of 5 MiB; the file shrinks after the blob is made, so the
    // third part cannot be read.
    let host = crate::storage::small_host().await;
    let name = bucket("aborted-uploads").await;
    let conn = connect(&host, &name, &[("part_size_mb", "5")]).await;
    crate::storage::a_cut_off_save_cleans_up(
        &conn,
        14 * 1024 * 1024,
        11 * 1024 * 1024,
        "the multipart upload was aborted",
    )
    .await;
    let uploads = reqwest::get(format!("{}/{name}?uploads", endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(uploads.contains("<ListMultipartUploadsResult"), "{uploads}");
    assert!(!uploads.contains("<Upload>"), "an upload was left behind: {uploads}");
}

/// `patchbay call storage/s3 ARGS…` on `bucket` of the test server.
fn cli_call(bucket: &str, args: &[&str]) -> std::process::Command {
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
        .args(["--setting", &format!("bucket={bucket}")])
        .args(["--setting", &format!("endpoint={}", endpoint())])
        .env("RUST_LOG", "error")
        .env("PATCHBAY_CACHE", workspace().join("target/test-compile-cache-cli"));
    command
}

#[tokio::test]
async fn the_cli_saves_and_reads_files_by_reference() {
    let name = bucket("cli-files").await;
    let (file, hash) = generated(3 * 1024 * 1024 + 17);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("read back.bin");
    let patchbay = |args: &[&str]| cli_call(&name, args).output().unwrap();
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

/// A process killed while spooling an upload leaves its spool directory
/// (nothing runs to delete it); the next host that spools beside it finds
/// the directory's lock free and deletes it, and leaves a live one alone.
#[tokio::test]
async fn a_killed_process_leaves_its_spool_to_the_next_host() {
    use std::io::Write as _;
    let name = bucket("killed-upload").await;
    let tmp = tempfile::tempdir().unwrap();
    let spools = || -> Vec<std::path::PathBuf> {
        let mut dirs: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("patchbay-spool-"))
            .collect();
        dirs.sort();
        dirs
    };
    let spooled = |dir: &std::path::Path| -> u64 {
        std::fs::read_dir(dir)
            .map(|files| files.map(|f| f.unwrap().metadata().unwrap().len()).sum())
            .unwrap_or(0)
    };
    let mut child = cli_call(
        &name,
        &[
            "blob-storage.save-blob",
            "--json",
            r#"{"name": "never.bin"}"#,
            "--blob",
            "content=-",
        ],
    )
    .env("TMPDIR", tmp.path())
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Half a megabyte of the upload, and stdin held open: the CLI is still
    // spooling when it is killed.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&vec![b'x'; 512 * 1024]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while spools().first().is_none_or(|dir| spooled(dir) != 512 * 1024) {
        assert!(
            std::time::Instant::now() < deadline,
            "the CLI never spooled its stdin: {:?}",
            spools()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the CLI ended before it was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let abandoned = spools();
    assert_eq!(abandoned.len(), 1);
    assert_eq!(spooled(&abandoned[0]), 512 * 1024, "killed, it deleted nothing");

    let host = crate::support::builder().blob_dir(tmp.path()).build().await.unwrap();
    let live = spools();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_ne!(live, abandoned, "the dead process's spool is gone, the new host's made");
    assert_eq!(spooled(&live[0]), 0);
    // A second host beside the first leaves the first's spool alone.
    let second = crate::support::builder().blob_dir(tmp.path()).build().await.unwrap();
    assert_eq!(spools().len(), 2);
    assert!(spools().contains(&live[0]));
    drop((host, second));
    assert!(spools().is_empty(), "a host that ends removes its spool");
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
