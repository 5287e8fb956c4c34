//! The FTP plugin through the host's file-transfer door, against pyftpdlib
//! (PyPI, with FTPS, started by `tests/with-ftp-server.sh`). The server's
//! `PASV` replies name an unroutable address, so every transfer here also
//! proves that the host opens data connections to the control connection's
//! checked address only. Covered: the storage conformance suite over
//! `AUTH TLS` with a password, a refused password, a certificate the host
//! does not trust, plain FTP for an anonymous server and a login refused in
//! clear, a large file through blobs with 64 MiB of guest memory, and an
//! upload cut off midway whose partial file is removed.

use std::path::PathBuf;

use patchbay::{Connection, Credentials, Host, HostBuilder, Settings};

use crate::support::{generated, large_size};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `just test` (tests/with-ftp-server.sh starts pyftpdlib)")
    })
}

/// The host trusts the test server's CA.
fn trusting(builder: HostBuilder) -> HostBuilder {
    builder.door_root_certificate(std::fs::read(env("PATCHBAY_FTP_CA")).unwrap())
}

async fn host() -> Host {
    trusting(crate::support::builder().plugins_dir(crate::support::plugins_dir()))
        .build()
        .await
        .unwrap()
}

/// A new folder in the user's root for one test, and its path on disk.
fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env("PATCHBAY_FTP_ROOT")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn connect(host: &Host, folder: &str, password: &str) -> Connection {
    host.connect(
        "storage/ftp",
        Credentials::from([
            ("username", env("PATCHBAY_FTP_USER")),
            ("password", password.to_string()),
        ]),
        Settings::from([(
            "url".to_string(),
            format!("{}/{}", env("PATCHBAY_FTP_URL"), folder.replace(' ', "%20")),
        )]),
    )
    .unwrap()
}

#[tokio::test]
async fn the_whole_storage_port_against_pyftpdlib_over_tls() {
    let host = host().await;
    let disk = folder("port suite");
    let conn = connect(&host, "port suite", &env("PATCHBAY_FTP_PASSWORD"));
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    let refused = connect(&host, "port suite", "not-the-password").test().await.unwrap();
    assert!(
        !refused.success && refused.message.contains("refused the login"),
        "{refused:?}"
    );

    crate::storage::port_suite(&conn).await;
    assert_eq!(std::fs::read(disk.join("reports/summary.txt")).unwrap(), b"three lines");
    assert!(disk.join("reports/été 2026").is_dir());
    assert!(
        !disk.join("reports/été 2026/q1 + q2.pdf").exists(),
        "the suite deleted it"
    );
}

#[tokio::test]
async fn a_certificate_the_host_does_not_trust_ends_the_session_before_the_login() {
    let host = crate::support::host().await;
    folder("untrusted");
    let error = connect(&host, "untrusted", &env("PATCHBAY_FTP_PASSWORD"))
        .test()
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("TLS failed"), "{error}");
}

#[tokio::test]
async fn plain_ftp_is_for_anonymous_servers_only() {
    let host = host().await;
    let anonymous = host
        .connect(
            "storage/ftp",
            Credentials::default(),
            Settings::from([
                ("url".to_string(), env("PATCHBAY_FTP_URL")),
                ("security".to_string(), "none".to_string()),
                ("anonymous".to_string(), "true".to_string()),
            ]),
        )
        .unwrap();
    let storage = anonymous.storage().unwrap();
    storage.save("drop/box.txt", b"anonymous").await.unwrap();
    assert_eq!(storage.open("drop/box.txt").await.unwrap(), b"anonymous");
    let disk = PathBuf::from(env("PATCHBAY_FTP_ANONYMOUS_ROOT")).join("drop/box.txt");
    assert_eq!(std::fs::read(disk).unwrap(), b"anonymous");

    // A login in clear is refused before anything is sent.
    let in_clear = host
        .connect(
            "storage/ftp",
            Credentials::from([
                ("username", env("PATCHBAY_FTP_USER")),
                ("password", env("PATCHBAY_FTP_PASSWORD")),
            ]),
            Settings::from([
                ("url".to_string(), env("PATCHBAY_FTP_URL")),
                ("security".to_string(), "none".to_string()),
            ]),
        )
        .unwrap();
    let error = in_clear.test().await.unwrap_err().to_string();
    assert!(error.contains("never sent in clear"), "{error}");
}

#[tokio::test]
async fn a_large_file_round_trips_through_blobs_with_64_mib_of_guest_memory() {
    let size = large_size();
    let (file, hash) = generated(size);
    let host = crate::storage::small_host_with(trusting).await;
    folder("large files");
    let conn = connect(&host, "large files", &env("PATCHBAY_FTP_PASSWORD"));
    crate::storage::large_round_trip(&conn, "storage/ftp", &file, &hash, size).await;
}

#[tokio::test]
async fn an_upload_cut_off_midway_leaves_no_partial_file() {
    let host = crate::storage::small_host_with(trusting).await;
    let disk = folder("cut off");
    let conn = connect(&host, "cut off", &env("PATCHBAY_FTP_PASSWORD"));
    crate::storage::a_cut_off_save_cleans_up(&conn, 12 * 1024 * 1024, 5 * 1024 * 1024, "the partial file was removed")
        .await;
    assert!(!disk.join("half.bin").exists(), "a partial file was left behind");
}
