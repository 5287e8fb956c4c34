//! The WebDAV plugin against wsgidav (PyPI, on cheroot, started by
//! `tests/with-webdav-server.sh` with HTTP Basic required): the storage
//! conformance suite under a folder whose name needs encoding, what it
//! wrote checked on the server's disk, a refused login, a large file
//! through blobs with 64 MiB of guest memory, and an upload cut off midway
//! whose partial file is removed.

use std::path::PathBuf;

use patchbay::{Connection, Credentials, Host, Settings};

use crate::support::{generated, large_size};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `just test` (tests/with-webdav-server.sh starts wsgidav)")
    })
}

/// A new folder on the server for one test, and its path on disk.
fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env("PATCHBAY_WEBDAV_ROOT")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn connect(host: &Host, folder: &str, password: &str) -> Connection {
    let url = format!("{}/{}", env("PATCHBAY_WEBDAV_URL"), patchbay_encode(folder));
    host.connect(
        "storage/webdav",
        Credentials::from([
            ("username", env("PATCHBAY_WEBDAV_USER")),
            ("password", password.to_string()),
        ]),
        Settings::from([("url".to_string(), url)]),
    )
    .unwrap()
}

/// A folder name as it appears in a URL.
fn patchbay_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_whole_storage_port_against_wsgidav() {
    let host = crate::support::host().await;
    let disk = folder("port suite");
    let conn = connect(&host, "port suite", &env("PATCHBAY_WEBDAV_PASSWORD"));
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    let refused = connect(&host, "port suite", "not-the-password").test().await.unwrap();
    assert!(!refused.success, "{refused:?}");

    crate::storage::port_suite(&conn).await;
    // What the suite saved is on the server's disk, folders made on the way.
    assert_eq!(std::fs::read(disk.join("reports/summary.txt")).unwrap(), b"three lines");
    assert!(disk.join("reports/été 2026").is_dir());
    assert!(
        !disk.join("reports/été 2026/q1 + q2.pdf").exists(),
        "the suite deleted it"
    );
}

#[tokio::test]
async fn a_large_file_round_trips_through_blobs_with_64_mib_of_guest_memory() {
    let size = large_size();
    let (file, hash) = generated(size);
    let host = crate::storage::small_host().await;
    folder("large files");
    let conn = connect(&host, "large files", &env("PATCHBAY_WEBDAV_PASSWORD"));
    crate::storage::large_round_trip(&conn, "storage/webdav", &file, &hash, size).await;
}

#[tokio::test]
async fn an_upload_cut_off_midway_leaves_no_partial_file() {
    // The file shrinks after the blob is made: the host cannot send all it
    // announced, and the upload is cut off.
    let host = crate::storage::small_host().await;
    let disk = folder("cut off");
    let conn = connect(&host, "cut off", &env("PATCHBAY_WEBDAV_PASSWORD"));
    crate::storage::a_cut_off_save_cleans_up(&conn, 12 * 1024 * 1024, 5 * 1024 * 1024, "the partial file was removed")
        .await;
    // Nor on the server's disk.
    assert!(!disk.join("half.bin").exists(), "a partial file was left behind");
}
