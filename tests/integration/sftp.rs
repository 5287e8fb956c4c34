//! The SFTP plugin through the host's file-transfer door, against Debian's
//! OpenSSH server (run as an unprivileged user on a loopback port with a
//! host key generated for the run, by `tests/with-sftp-server.sh`): the
//! storage conformance suite with a password login, a private-key login, a
//! refused password, a host key that is not pinned refused before the
//! login, a large file through blobs with 64 MiB of guest memory, and an
//! upload cut off midway whose partial file is removed.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use patchbay::{Connection, Credentials, Host, Settings};

use crate::support::{generated, large_size};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `just test` (tests/with-sftp-server.sh starts OpenSSH)")
    })
}

/// A new folder on the server for one test (the server's user may write
/// in it), and its path on disk.
fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env("PATCHBAY_SFTP_ROOT")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// The connection's `url` setting: the server and the folder's path.
fn url(folder: &str) -> String {
    let path = format!("{}/{folder}", env("PATCHBAY_SFTP_ROOT"));
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("{}{encoded}", env("PATCHBAY_SFTP_URL"))
}

/// A connection to `folder` with these credentials and host key pin.
fn connect(host: &Host, folder: &str, credentials: Credentials, host_key: &str) -> Connection {
    host.connect(
        "storage/sftp",
        credentials,
        Settings::from([
            ("url".to_string(), url(folder)),
            ("host_key".to_string(), host_key.to_string()),
        ]),
    )
    .unwrap()
}

fn password_login(password: &str) -> Credentials {
    Credentials::from([
        ("username", env("PATCHBAY_SFTP_USER")),
        ("password", password.to_string()),
    ])
}

#[tokio::test]
async fn the_whole_storage_port_against_openssh() {
    let host = crate::support::host().await;
    let disk = folder("port suite");
    let conn = connect(
        &host,
        "port suite",
        password_login(&env("PATCHBAY_SFTP_PASSWORD")),
        &env("PATCHBAY_SFTP_HOST_KEY"),
    );
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    let refused = connect(
        &host,
        "port suite",
        password_login("not-the-password"),
        &env("PATCHBAY_SFTP_HOST_KEY"),
    )
    .test()
    .await
    .unwrap();
    assert!(
        !refused.success && refused.message.contains("refused the login"),
        "{refused:?}"
    );

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
async fn a_private_key_logs_in_without_a_password() {
    let host = crate::support::host().await;
    let disk = folder("key login");
    let key = std::fs::read_to_string(env("PATCHBAY_SFTP_KEY")).unwrap();
    let credentials = Credentials::from([("username", env("PATCHBAY_SFTP_USER")), ("private_key", key)]);
    // The pin as a fingerprint this time, among other lines.
    let fingerprint = std::process::Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f", "-"])
        .stdin_pipe(env("PATCHBAY_SFTP_HOST_KEY"))
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let pins = format!("# the test server\nSHA256:not-this-one\n{fingerprint}\n");
    let conn = connect(&host, "key login", credentials, &pins);
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    conn.storage().unwrap().save("a/b/c.txt", b"by key").await.unwrap();
    assert_eq!(std::fs::read(disk.join("a/b/c.txt")).unwrap(), b"by key");
}

#[tokio::test]
async fn a_host_key_that_is_not_pinned_is_refused_before_the_login() {
    let host = crate::support::host().await;
    folder("unpinned");
    // Another key than the server's: the client's own public key.
    let other = std::fs::read_to_string(format!("{}.pub", env("PATCHBAY_SFTP_KEY"))).unwrap();
    let conn = connect(
        &host,
        "unpinned",
        password_login(&env("PATCHBAY_SFTP_PASSWORD")),
        other.trim(),
    );
    let refused = conn.test().await.unwrap_err().to_string();
    assert!(
        refused.contains("is not pinned by the setting \"host_key\"") && refused.contains("SHA256:"),
        "{refused}"
    );
    let garbage = connect(&host, "unpinned", password_login("x"), "yes, trust it")
        .test()
        .await
        .unwrap_err()
        .to_string();
    assert!(garbage.contains("neither a public key"), "{garbage}");
}

#[tokio::test]
async fn a_large_file_round_trips_through_blobs_with_64_mib_of_guest_memory() {
    let size = large_size();
    let (file, hash) = generated(size);
    let host = crate::storage::small_host().await;
    folder("large files");
    let conn = connect(
        &host,
        "large files",
        password_login(&env("PATCHBAY_SFTP_PASSWORD")),
        &env("PATCHBAY_SFTP_HOST_KEY"),
    );
    crate::storage::large_round_trip(&conn, "storage/sftp", &file, &hash, size).await;
}

#[tokio::test]
async fn an_upload_cut_off_midway_leaves_no_partial_file() {
    let host = crate::storage::small_host().await;
    let disk = folder("cut off");
    let conn = connect(
        &host,
        "cut off",
        password_login(&env("PATCHBAY_SFTP_PASSWORD")),
        &env("PATCHBAY_SFTP_HOST_KEY"),
    );
    crate::storage::a_cut_off_save_cleans_up(&conn, 12 * 1024 * 1024, 5 * 1024 * 1024, "the partial file was removed")
        .await;
    assert!(!disk.join("half.bin").exists(), "a partial file was left behind");
}

/// Runs a command with `input` on its standard input; its standard output.
trait StdinPipe {
    fn stdin_pipe(&mut self, input: String) -> String;
}

impl StdinPipe for std::process::Command {
    fn stdin_pipe(&mut self, input: String) -> String {
        use std::io::Write as _;
        let mut child = self
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }
}
