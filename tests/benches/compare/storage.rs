//! §8: a large file through the storage adapters (blobs, the plugin's
//! memory at 64 MiB) next to a native client moving the same file to and
//! from the same server, in the same run: reqwest streaming for S3 and
//! WebDAV (the cost of the sandbox and the outbound pipeline on the data
//! plane), the host's own file-transfer door called without a plugin for
//! SFTP and FTP (the cost of the sandbox alone).

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
    // The FTP test server's certificate is signed by a CA of its own.
    let roots = std::env::var("PATCHBAY_FTP_CA")
        .ok()
        .map(|ca| vec![std::fs::read(ca).unwrap()])
        .unwrap_or_default();
    Host::builder()
        .plugins_dir(workspace().join("target/plugins"))
        .http_limits(patchbay_outbound::HttpLimits {
            door_root_certificates: roots,
            ..patchbay_tests::files::patient_http_limits()
        })
        .limits(Limits {
            max_memory_bytes: 64 * 1024 * 1024,
            call_timeout: Duration::from_secs(600),
            ..Limits::default()
        })
        .build()
        .await
        .unwrap()
}

/// One server: the adapter's connection, and the native client's way there.
struct Server {
    name: &'static str,
    connection: Connection,
    native: Native,
}

/// How the native client reaches a server.
enum Native {
    /// reqwest, streaming, to this URL.
    Http { url: String, auth: NativeAuth },
    /// The host's file-transfer door, without a plugin.
    Door(Box<Door>),
}

/// The host's SFTP/FTP client: the outbound pipeline's file-transfer door,
/// called directly with the same policy a plugin's call gets.
struct Door {
    pipeline: patchbay_outbound::Pipeline,
    ctx: patchbay_outbound::RequestContext,
    server: patchbay_outbound::FileServer,
    path: String,
}

impl Door {
    fn new(server: patchbay_outbound::FileServer, path: &str, credentials: Credentials, roots: Vec<Vec<u8>>) -> Self {
        use std::sync::Arc;
        let limits = patchbay_outbound::HttpLimits {
            door_root_certificates: roots,
            ..patchbay_tests::files::patient_http_limits()
        };
        let store = Arc::new(patchbay_store::MemoryStore::new());
        let pipeline = patchbay_outbound::Pipeline::new(
            limits,
            patchbay_outbound::CircuitConfig::default(),
            store.clone(),
            store,
            Arc::new(patchbay_outbound::OutboundMetrics::unregistered()),
        )
        .unwrap();
        let origin = patchbay_outbound::HostPattern::parse(server.url.as_ref()).unwrap();
        let ctx = patchbay_outbound::RequestContext {
            provider: "storage/native".into(),
            connection_id: "native".into(),
            call_id: "native".into(),
            grant: Arc::new(patchbay_outbound::HostGrant::new(vec![origin], None)),
            credentials: Arc::new(credentials),
            reflections: patchbay_outbound::Reflections::new(Vec::<&str>::new()),
            deadline: std::time::Instant::now() + Duration::from_secs(3600),
            retry: Arc::new(patchbay_outbound::RetryPolicy::default()),
            rate_quota: None,
            rate_key: "storage/native".into(),
            credentials_fingerprint: "native".into(),
            oauth: None,
            sigv4_services: None,
            forwarding_headers: Arc::from(Vec::new()),
            cost_budget: None,
        };
        Self {
            pipeline,
            ctx,
            server,
            path: path.to_string(),
        }
    }

    /// One operation in a session of its own, as a plugin's call has.
    async fn run(&self, op: patchbay_outbound::TransferOp) -> patchbay_outbound::TransferAnswer {
        use patchbay_outbound::OutboundPolicy as _;
        let sessions = patchbay_outbound::TransferSessions::default();
        self.pipeline
            .transfer(&self.ctx, &sessions, self.server.clone(), op)
            .await
            .unwrap()
    }

    async fn put(&self, blob: &Blob) {
        self.run(patchbay_outbound::TransferOp::Upload {
            path: self.path.clone(),
            contents: patchbay_outbound::RequestBody::Blob(blob.whole()),
        })
        .await;
    }

    async fn get(&self, bytes: u64, spool: &patchbay_outbound::Spool) {
        let into = patchbay_outbound::BlobWriter::create(spool).unwrap();
        let answer = self
            .run(patchbay_outbound::TransferOp::Download {
                path: self.path.clone(),
                offset: 0,
                length: None,
                into,
            })
            .await;
        let patchbay_outbound::TransferAnswer::Blob(read) = answer else {
            panic!("a download answers a blob, not {answer:?}");
        };
        assert_eq!(read.len(), bytes);
    }
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
    let Native::Http { url, auth } = &server.native else {
        unreachable!("the door authenticates itself");
    };
    let mut request = client.request(method.clone(), url);
    match auth {
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
                    url,
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
    if let Native::Door(door) = &server.native {
        return door.put(blob).await;
    }
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
    if let Native::Door(door) = &server.native {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = patchbay_outbound::Spool::open(dir.path()).unwrap();
        return door.get(bytes, &spool).await;
    }
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
    let (Ok(s3), Ok(dav), Ok(_), Ok(_)) = (
        std::env::var("PATCHBAY_S3_ENDPOINT"),
        std::env::var("PATCHBAY_WEBDAV_URL"),
        std::env::var("PATCHBAY_SFTP_URL"),
        std::env::var("PATCHBAY_FTP_URL"),
    ) else {
        report.para(
            "Skipped: no S3, WebDAV, SFTP or FTP server (`just bench` starts moto, wsgidav, OpenSSH and \
             pyftpdlib; see tests/with-s3-server.sh, tests/with-webdav-server.sh, tests/with-sftp-server.sh \
             and tests/with-ftp-server.sh).",
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
            native: Native::Http {
                url: format!("{s3}/bench-storage/native.bin"),
                auth: NativeAuth::SigV4(s3_credentials()),
            },
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
            native: Native::Http {
                url: format!("{dav}/native.bin"),
                auth: NativeAuth::Basic(dav_user, dav_password),
            },
        },
    ];
    let mut servers = Vec::from(servers);
    servers.extend(file_servers(&host).await);
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
         by a native client moving the same file to and from the same server, in one run; medians. For \
         S3 and WebDAV the native client is reqwest streaming (one PUT, one GET; for S3 signed with SigV4 \
         over the file's SHA-256, hashed in the measured time as the host hashes each part); for SFTP and \
         FTP it is the host's own file-transfer door called without a plugin (the same session, login \
         and policy), so the ratio is the sandbox's share alone. The S3, WebDAV and FTP servers are Python \
         test servers on loopback and OpenSSH runs with its default ciphers: the servers, not the host, \
         bound the absolute rates. The ratio is the plugin's time over the native client's; for S3's \
         upload it compares a multipart upload (16 parts, then a completion the server assembles) with \
         one PUT."
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

/// The SFTP and FTP servers of `tests/with-sftp-server.sh` and
/// `tests/with-ftp-server.sh`: the adapters' connections and the door's.
async fn file_servers(host: &Host) -> Vec<Server> {
    use patchbay_outbound::{FileLogin, FileProtocol, FileServer, HostKeyTrust};
    let var = |name: &str| std::env::var(name).unwrap();
    let sftp_root = format!("{}/bench", var("PATCHBAY_SFTP_ROOT"));
    std::fs::create_dir_all(&sftp_root).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&sftp_root, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let sftp_login = Credentials::from([
        ("username", var("PATCHBAY_SFTP_USER")),
        ("password", var("PATCHBAY_SFTP_PASSWORD")),
    ]);
    let ftp_login = Credentials::from([
        ("username", var("PATCHBAY_FTP_USER")),
        ("password", var("PATCHBAY_FTP_PASSWORD")),
    ]);
    let ca = std::fs::read(var("PATCHBAY_FTP_CA")).unwrap();
    let login = |private_key: bool| FileLogin {
        user_field: "username".into(),
        password_field: Some("password".into()),
        private_key_field: private_key.then(|| "private_key".to_string()),
    };
    let sftp = FileServer {
        url: url::Url::parse(&var("PATCHBAY_SFTP_URL")).unwrap(),
        protocol: FileProtocol::Sftp,
        login: Some(login(false)),
        host_keys: HostKeyTrust::Setting {
            name: "host_key".into(),
            value: Some(var("PATCHBAY_SFTP_HOST_KEY")),
        },
    };
    let ftp = FileServer {
        url: url::Url::parse(&var("PATCHBAY_FTP_URL")).unwrap(),
        protocol: FileProtocol::FtpExplicitTls,
        login: Some(login(false)),
        host_keys: HostKeyTrust::Unnamed,
    };
    std::fs::create_dir_all(format!("{}/bench", var("PATCHBAY_FTP_ROOT"))).unwrap();
    vec![
        Server {
            name: "storage/sftp (OpenSSH)",
            connection: host
                .connect(
                    "storage/sftp",
                    sftp_login.clone(),
                    Settings::from([
                        ("url".to_string(), format!("{}{sftp_root}", var("PATCHBAY_SFTP_URL"))),
                        ("host_key".to_string(), var("PATCHBAY_SFTP_HOST_KEY")),
                    ]),
                )
                .unwrap(),
            native: Native::Door(Box::new(Door::new(
                sftp,
                &format!("{sftp_root}/native.bin"),
                sftp_login,
                Vec::new(),
            ))),
        },
        Server {
            name: "storage/ftp (pyftpdlib, FTPS)",
            connection: host
                .connect(
                    "storage/ftp",
                    ftp_login.clone(),
                    Settings::from([("url".to_string(), format!("{}/bench", var("PATCHBAY_FTP_URL")))]),
                )
                .unwrap(),
            native: Native::Door(Box::new(Door::new(ftp, "/bench/native.bin", ftp_login, vec![ca]))),
        },
    ]
}
