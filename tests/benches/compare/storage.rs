//! §8: a large file through the storage adapters (blobs, the plugin's
//! memory at 64 MiB) next to a native client (reqwest, streaming) moving
//! the same file to and from the same server, in the same run: the cost of
//! the sandbox and the outbound pipeline on the data plane.

use std::time::Duration;

use futures::StreamExt as _;
use patchbay::outbound::Blob;
use patchbay::{Connection, Credentials, Host, Limits, Settings};
use tokio::io::AsyncWriteExt as _;

use crate::stats::{Stats, sample};
use crate::{Report, workspace};

const SIZE_MIB: u64 = 256;
const RUNS: usize = 3;

/// MB/s of a transfer of `bytes` at the median time of `stats`.
fn rate(bytes: u64, stats: &Stats) -> String {
    format!("{:.0} MB/s", bytes as f64 / 1e6 / stats.median().as_secs_f64())
}

/// `native / plugin` time: how much slower the plugin is.
fn slower(plugin: &Stats, native: &Stats) -> String {
    format!("{:.2}×", plugin.median().as_secs_f64() / native.median().as_secs_f64())
}

async fn host() -> Host {
    Host::builder()
        .plugins_dir(workspace().join("target/plugins"))
        .http_limits(patchbay_tests::files::patient_http_limits())
        .limits(Limits {
            max_memory_bytes: 64 * 1024 * 1024,
            call_timeout: Duration::from_secs(600),
            ..Limits::default()
        })
        .build()
        .await
        .unwrap()
}

/// One server: where the native client puts and gets the file, and how it
/// authenticates.
struct Server {
    name: &'static str,
    connection: Connection,
    url: String,
    auth: NativeAuth,
}

/// How the native client authenticates.
enum NativeAuth {
    /// HTTP Basic.
    Basic(String, String),
    /// SigV4 for S3 with these credentials, over the body's SHA-256 (hashed
    /// in the measured time, as the host does for the plugin).
    SigV4(patchbay::Credentials),
}

/// The native request with its authentication.
async fn authorized(
    client: &reqwest::Client,
    method: reqwest::Method,
    server: &Server,
    body: Option<&Blob>,
) -> reqwest::RequestBuilder {
    let mut request = client.request(method.clone(), &server.url);
    match &server.auth {
        NativeAuth::Basic(user, password) => request = request.basic_auth(user, Some(password)),
        NativeAuth::SigV4(credentials) => {
            use patchbay_outbound::auth::{SigV4Payload, SigV4Request, sigv4_headers};
            let hash = match body {
                Some(blob) => Some(blob.whole().sha256_hex().await.unwrap()),
                None => None,
            };
            let scheme = patchbay::outbound::AuthScheme::AwsSigV4 {
                service: "s3".into(),
                region: "us-east-1".into(),
                key_id_field: "access_key_id".into(),
                secret_field: "secret_access_key".into(),
                session_token_field: None,
            };
            let headers: Vec<(String, String)> = Vec::new();
            let signed = sigv4_headers(
                SigV4Request {
                    method: method.as_str(),
                    url: &server.url,
                    headers: &headers,
                    body: match &hash {
                        Some(hash) => SigV4Payload::Sha256(hash),
                        None => SigV4Payload::Bytes(b""),
                    },
                },
                &scheme,
                credentials,
                std::time::SystemTime::now(),
            )
            .unwrap();
            for (name, value) in signed {
                request = request.header(name, value);
            }
        }
    }
    request
}

async fn native_put(client: &reqwest::Client, server: &Server, blob: &Blob) {
    let body = reqwest::Body::wrap_stream(blob.whole().chunks());
    let response = authorized(client, reqwest::Method::PUT, server, Some(blob))
        .await
        .header("content-length", blob.len())
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "native PUT: {}", response.status());
}

async fn native_get(client: &reqwest::Client, server: &Server, bytes: u64) {
    let response = authorized(client, reqwest::Method::GET, server, None)
        .await
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "native GET: {}", response.status());
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut file = tokio::fs::File::create(out.path()).await.unwrap();
    let mut body = response.bytes_stream();
    let mut read = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        read += chunk.len() as u64;
        file.write_all(&chunk).await.unwrap();
    }
    file.flush().await.unwrap();
    assert_eq!(read, bytes);
}

fn s3_credentials() -> Credentials {
    Credentials::from([("access_key_id", "AKIDBENCH"), ("secret_access_key", "bench-secret")])
}

pub async fn storage_throughput(report: &mut Report) {
    report.section("8. Storage: a large file through the adapters");
    let (Ok(s3), Ok(dav)) = (
        std::env::var("PATCHBAY_S3_ENDPOINT"),
        std::env::var("PATCHBAY_WEBDAV_URL"),
    ) else {
        report.para(
            "Skipped: no S3 or WebDAV server (`just bench` starts moto and wsgidav; \
             see tests/with-s3-server.sh and tests/with-webdav-server.sh).",
        );
        return;
    };
    let bytes = SIZE_MIB * 1024 * 1024;
    let (file, _) = patchbay_tests::files::generated(bytes);
    let blob = Blob::from_file(file.path()).unwrap();
    let host = host().await;
    let client = reqwest::Client::new();
    client.put(format!("{s3}/bench-storage")).send().await.unwrap();
    let dav_user = std::env::var("PATCHBAY_WEBDAV_USER").unwrap();
    let dav_password = std::env::var("PATCHBAY_WEBDAV_PASSWORD").unwrap();
    let servers = [
        Server {
            name: "storage/s3 (moto)",
            connection: host
                .connect(
                    "storage/s3",
                    s3_credentials(),
                    Settings::from([
                        ("bucket".to_string(), "bench-storage".to_string()),
                        ("endpoint".to_string(), s3.clone()),
                    ]),
                )
                .unwrap(),
            url: format!("{s3}/bench-storage/native.bin"),
            auth: NativeAuth::SigV4(s3_credentials()),
        },
        Server {
            name: "storage/webdav (wsgidav)",
            connection: host
                .connect(
                    "storage/webdav",
                    Credentials::from([("username", dav_user.clone()), ("password", dav_password.clone())]),
                    Settings::from([("url".to_string(), dav.clone())]),
                )
                .unwrap(),
            url: format!("{dav}/native.bin"),
            auth: NativeAuth::Basic(dav_user, dav_password),
        },
    ];
    let mut rows = Vec::new();
    for server in &servers {
        let storage = server.connection.blob_storage().unwrap();
        let plugin_up = sample(0, RUNS, || async {
            storage.save_blob("plugin.bin", blob.whole()).await.unwrap();
        })
        .await;
        let native_up = sample(0, RUNS, || native_put(&client, server, &blob)).await;
        let plugin_down = sample(0, RUNS, || async {
            let read = storage.open_blob("plugin.bin").await.unwrap();
            assert_eq!(read.len(), bytes);
        })
        .await;
        let native_down = sample(0, RUNS, || native_get(&client, server, bytes)).await;
        rows.push(vec![
            server.name.to_string(),
            rate(bytes, &plugin_up),
            rate(bytes, &native_up),
            slower(&plugin_up, &native_up),
            rate(bytes, &plugin_down),
            rate(bytes, &native_down),
            slower(&plugin_down, &native_down),
        ]);
    }
    report.para(&format!(
        "A {SIZE_MIB} MiB file saved and read back {RUNS} times through each adapter (`blob-storage`, \
         the plugin's memory limited to 64 MiB; S3 in 16 MiB multipart parts, each hashed for SigV4) and \
         by reqwest streaming the same file to and from the same server (one PUT, one GET; for S3 signed \
         with SigV4 over the file's SHA-256, hashed in the measured time as the host hashes each part), \
         in one run; medians. The servers are Python test servers on loopback: they, not the host, \
         bound the absolute rates. The ratio is the plugin's time over the native client's; for S3's upload \
         it compares a multipart upload (16 parts, then a completion the server assembles) with one PUT."
    ));
    report.table(
        &[
            "adapter",
            "upload, plugin",
            "upload, native",
            "ratio",
            "download, plugin",
            "download, native",
            "ratio",
        ],
        rows,
    );
}
