//! FTP and FTPS sessions (suppaftp): the control connection to the checked
//! address, TLS verified for the host name (`AUTH TLS` or implicit), a
//! login, binary mode, and passive data connections to the control
//! connection's address: a `PASV` reply naming another address (a private
//! one, say) is not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use suppaftp::FtpError;
use suppaftp::list::ListParser;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::types::FileType;

use super::io::{after_cleanup, connect_tcp, copy_body, copy_into_blob, finish};
use super::{Connect, FileEntry, FileProtocol, TransferAnswer, TransferError, TransferOp, ancestry, file_name};
use crate::HttpLimits;

/// A logged-in FTP session.
pub(crate) struct FtpSession {
    ftp: AsyncRustlsFtpStream,
    /// Whether the server lists with `MLSD`/`MLST` (RFC 3659).
    machine_listings: bool,
}

/// The TLS connector: the public roots and the operator's door roots.
fn connector(limits: &HttpLimits) -> Result<AsyncRustlsConnector, TransferError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in &limits.door_root_certificates {
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate
                .map_err(|e| TransferError::Tls(format!("a configured door root certificate is unusable: {e}")))?;
            roots
                .add(certificate)
                .map_err(|e| TransferError::Tls(format!("a configured door root certificate is unusable: {e}")))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TransferError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(AsyncRustlsConnector::from(suppaftp::tokio_rustls::TlsConnector::from(
        Arc::new(config),
    )))
}

/// Passive data connections go to the control connection's checked
/// address, on the port the server names, within the connect timeout.
fn passive_to(ip: IpAddr, timeout: Duration) -> impl Fn(SocketAddr) -> PassiveConnect + Send + Sync + 'static {
    move |offered: SocketAddr| {
        let address = SocketAddr::new(ip, offered.port());
        Box::pin(async move {
            tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address))
                .await
                .map_err(|_| {
                    FtpError::ConnectionError(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the data connection to {address} was not open in time"),
                    ))
                })?
                .map_err(FtpError::ConnectionError)
        })
    }
}

type PassiveConnect = std::pin::Pin<
    Box<dyn std::future::Future<Output = suppaftp::FtpResult<tokio::net::TcpStream>> + Send + Sync + 'static>,
>;

impl FtpSession {
    pub(crate) async fn connect(connect: Connect<'_>) -> Result<Self, TransferError> {
        let Connect {
            server,
            ip,
            user,
            password,
            limits,
            ..
        } = connect;
        let host = server.host().to_string();
        let address = SocketAddr::new(ip, server.port());
        let handshake = limits.first_byte_timeout;
        let in_time = |what: &str| {
            TransferError::Timeout(format!(
                "the FTP {what} was not over within {} ms",
                handshake.as_millis()
            ))
        };
        let ftp = match server.protocol {
            FileProtocol::FtpImplicitTls => {
                // Connects, secures and reads the greeting in one step.
                #[allow(deprecated)]
                let secured = AsyncRustlsFtpStream::connect_secure_implicit(address, connector(limits)?, &host);
                tokio::time::timeout(limits.connect_timeout + handshake, secured)
                    .await
                    .map_err(|_| in_time("TLS greeting"))?
                    .map_err(|e| ftp_error(e, "the TLS greeting"))?
            }
            _ => {
                let stream = connect_tcp(address, limits).await?;
                let ftp = tokio::time::timeout(handshake, AsyncRustlsFtpStream::connect_with_stream(stream))
                    .await
                    .map_err(|_| in_time("greeting"))?
                    .map_err(|e| ftp_error(e, "the greeting"))?;
                if server.protocol == FileProtocol::FtpExplicitTls {
                    tokio::time::timeout(handshake, ftp.into_secure(connector(limits)?, &host))
                        .await
                        .map_err(|_| in_time("TLS handshake"))?
                        .map_err(|e| match e {
                            FtpError::UnexpectedResponse(r) => TransferError::Tls(format!(
                                "the server does not offer AUTH TLS ({}): nothing was sent",
                                reply_text(&r.body)
                            )),
                            other => ftp_error(other, "AUTH TLS"),
                        })?
                } else {
                    ftp
                }
            }
        };
        let mut ftp = ftp.passive_stream_builder(passive_to(ip, limits.connect_timeout));
        let (user, password) = match user {
            Some(user) => (user, password.unwrap_or_default()),
            None => ("anonymous".to_string(), "anonymous@".to_string()),
        };
        tokio::time::timeout(handshake, ftp.login(user.as_str(), password.as_str()))
            .await
            .map_err(|_| in_time("login"))?
            .map_err(|e| match e {
                FtpError::UnexpectedResponse(r) if matches!(r.status.code(), 530 | 331 | 332) => TransferError::Auth(
                    format!("the FTP server refused the login of {user}: {}", reply_text(&r.body)),
                ),
                other => ftp_error(other, "the login"),
            })?;
        tokio::time::timeout(handshake, ftp.transfer_type(FileType::Binary))
            .await
            .map_err(|_| in_time("TYPE I"))?
            .map_err(|e| ftp_error(e, "TYPE I"))?;
        let machine_listings = match tokio::time::timeout(handshake, ftp.feat()).await {
            Ok(Ok(features)) => features.contains_key("MLST"),
            _ => false,
        };
        Ok(Self { ftp, machine_listings })
    }

    pub(crate) async fn run(&mut self, op: TransferOp, limits: &HttpLimits) -> Result<TransferAnswer, TransferError> {
        let idle = limits.idle_timeout.max(Duration::from_secs(1));
        let answered = |what: String| TransferError::Timeout(format!("{what}: the FTP server did not answer in time"));
        match op {
            TransferOp::Stat(path) => Ok(TransferAnswer::Entry(self.stat(&path, idle).await?)),
            TransferOp::List(path) => {
                let lines = if self.machine_listings {
                    tokio::time::timeout(idle, self.ftp.mlsd(Some(&path))).await
                } else {
                    tokio::time::timeout(idle, self.ftp.list(Some(&path))).await
                }
                .map_err(|_| answered(format!("{path:?}")))?
                .map_err(|e| ftp_error(e, &path))?;
                let mut entries = Vec::new();
                for line in lines {
                    match listing_line(&line, self.machine_listings) {
                        Ok(Some(entry)) => entries.push(entry),
                        Ok(None) => {}
                        Err(error) => tracing::debug!(%error, line, "an FTP listing line not understood"),
                    }
                }
                Ok(TransferAnswer::Entries(entries))
            }
            TransferOp::Upload { path, contents } => {
                let opened = tokio::time::timeout(idle, self.ftp.put_with_stream(&path))
                    .await
                    .map_err(|_| answered(format!("{path:?}")))?
                    .map_err(|e| ftp_error(e, &path))?;
                let mut stream = opened;
                let written = match copy_body(&contents, &mut stream, limits).await {
                    Ok(written) => written,
                    Err(error) => {
                        drop(stream);
                        return Err(self.cleaned_up(&path, error, idle).await);
                    }
                };
                match tokio::time::timeout(idle, stream.finish()).await {
                    Ok(Ok(())) => Ok(TransferAnswer::Written(written)),
                    Ok(Err(error)) => Err(self.cleaned_up(&path, ftp_error(error, &path), idle).await),
                    Err(_) => Err(answered(format!("{path:?}"))),
                }
            }
            TransferOp::Download {
                path,
                offset,
                length,
                mut into,
            } => {
                if let Ok(Ok(size)) = tokio::time::timeout(idle, self.ftp.size(&path)).await {
                    let available = (size as u64).saturating_sub(offset);
                    if length.unwrap_or(available).min(available) > limits.max_blob_bytes {
                        return Err(TransferError::TooLarge(limits.max_blob_bytes));
                    }
                }
                if offset > 0 {
                    let offset = usize::try_from(offset)
                        .map_err(|_| TransferError::InvalidRequest(format!("offset {offset} is too large")))?;
                    self.ftp
                        .resume_transfer(offset)
                        .await
                        .map_err(|e| ftp_error(e, &path))?;
                }
                let mut stream = tokio::time::timeout(idle, self.ftp.retr_as_stream(&path))
                    .await
                    .map_err(|_| answered(format!("{path:?}")))?
                    .map_err(|e| ftp_error(e, &path))?;
                let stopped_early = copy_into_blob(&mut stream, &mut into, length, limits).await?;
                // A range ends by closing the data connection, which the
                // server answers with 426 (or 226 when it had sent all):
                // no ABOR, whose reply servers order differently.
                match tokio::time::timeout(idle, stream.finish())
                    .await
                    .map_err(|_| answered(format!("{path:?}")))?
                {
                    Ok(()) => {}
                    Err(FtpError::UnexpectedResponse(r)) if stopped_early && (400..500).contains(&r.status.code()) => {}
                    Err(error) => return Err(ftp_error(error, &path)),
                }
                finish(into).await
            }
            TransferOp::Remove(path) => {
                tokio::time::timeout(idle, self.ftp.rm(&path))
                    .await
                    .map_err(|_| answered(format!("{path:?}")))?
                    .map_err(|e| ftp_error(e, &path))?;
                Ok(TransferAnswer::Done)
            }
            TransferOp::MakeDirs(path) => {
                for folder in ancestry(&path) {
                    match self.stat(&folder, idle).await? {
                        Some(entry) if entry.is_dir => continue,
                        Some(_) => return Err(TransferError::Refused(format!("{folder:?} is a file, not a folder"))),
                        None => {}
                    }
                    tokio::time::timeout(idle, self.ftp.mkdir(&folder))
                        .await
                        .map_err(|_| answered(format!("{folder:?}")))?
                        .map_err(|e| ftp_error(e, &folder))?;
                }
                Ok(TransferAnswer::Done)
            }
            TransferOp::RemoveDir(path) => {
                tokio::time::timeout(idle, self.ftp.rmdir(&path))
                    .await
                    .map_err(|_| answered(format!("{path:?}")))?
                    .map_err(|e| ftp_error(e, &path))?;
                Ok(TransferAnswer::Done)
            }
            TransferOp::Rename { from, to } => {
                tokio::time::timeout(idle, self.ftp.rename(&from, &to))
                    .await
                    .map_err(|_| answered(format!("{from:?}")))?
                    .map_err(|e| ftp_error(e, &from))?;
                Ok(TransferAnswer::Done)
            }
        }
    }

    /// What is at `path`: `MLST` when the server has it, otherwise `SIZE`
    /// for a file and `CWD` for a folder.
    async fn stat(&mut self, path: &str, idle: Duration) -> Result<Option<FileEntry>, TransferError> {
        let late = || TransferError::Timeout(format!("{path:?}: the FTP server did not answer in time"));
        if self.machine_listings {
            return match tokio::time::timeout(idle, self.ftp.mlst(Some(path)))
                .await
                .map_err(|_| late())?
            {
                Ok(line) => {
                    let file = ListParser::parse_mlst(line.trim()).map_err(|e| {
                        TransferError::Connection(format!("{path:?}: an MLST answer not understood ({e})"))
                    })?;
                    let mut found = entry(&file);
                    found.name = file_name(path);
                    Ok(Some(found))
                }
                Err(FtpError::UnexpectedResponse(r)) if r.status.code() == 550 => Ok(None),
                Err(error) => Err(ftp_error(error, path)),
            };
        }
        if let Ok(size) = tokio::time::timeout(idle, self.ftp.size(path))
            .await
            .map_err(|_| late())?
        {
            let modified = match tokio::time::timeout(idle, self.ftp.mdtm(path)).await {
                Ok(Ok(time)) => u64::try_from(time.and_utc().timestamp()).ok(),
                _ => None,
            };
            return Ok(Some(FileEntry {
                name: file_name(path),
                is_dir: false,
                size: Some(size as u64),
                modified,
            }));
        }
        match tokio::time::timeout(idle, self.ftp.cwd(path))
            .await
            .map_err(|_| late())?
        {
            Ok(()) => {
                let _ = tokio::time::timeout(idle, self.ftp.cwd("/")).await;
                Ok(Some(FileEntry {
                    name: file_name(path),
                    is_dir: true,
                    size: None,
                    modified: None,
                }))
            }
            Err(FtpError::UnexpectedResponse(r)) if r.status.code() == 550 => Ok(None),
            Err(error) => Err(ftp_error(error, path)),
        }
    }

    /// Removes the partial file of an upload that failed, and says so.
    async fn cleaned_up(&mut self, path: &str, error: TransferError, idle: Duration) -> TransferError {
        let removed = tokio::time::timeout(idle, self.ftp.rm(path)).await;
        after_cleanup(error, matches!(removed, Ok(Ok(()))))
    }
}

/// One line of a listing the server sent: `MLSD` facts when it has them,
/// else a Unix `ls -l` or a DOS line; `None` for `.` and `..`, and for a
/// name no path could hold (empty, with a `/` or a control character).
pub(crate) fn listing_line(line: &str, machine: bool) -> Result<Option<FileEntry>, String> {
    let parsed = if machine {
        ListParser::parse_mlsd(line)
    } else {
        ListParser::parse_posix(line).or_else(|_| ListParser::parse_dos(line))
    };
    let file = parsed.map_err(|e| e.to_string())?;
    let name = file.name();
    if !super::one_segment(name) {
        return Ok(None);
    }
    Ok(Some(entry(&file)))
}

fn entry(file: &suppaftp::list::File) -> FileEntry {
    let modified = file
        .modified()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
        .filter(|s| *s > 0);
    FileEntry {
        name: file.name().to_string(),
        is_dir: file.is_directory(),
        size: (!file.is_directory()).then_some(file.size() as u64),
        modified,
    }
}

fn reply_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).trim().to_string()
}

/// An FTP error as the guest sees it, naming the path or step.
fn ftp_error(error: FtpError, place: &str) -> TransferError {
    match error {
        FtpError::UnexpectedResponse(r) => {
            let code = r.status.code();
            let reply = reply_text(&r.body);
            let text = if reply.starts_with(&code.to_string()) {
                format!("{place}: {reply}")
            } else {
                format!("{place}: {code} {reply}")
            };
            let lower = text.to_ascii_lowercase();
            match code {
                530 => TransferError::Auth(text),
                550 | 450
                    if lower.contains("no such") || lower.contains("not found") || lower.contains("not exist") =>
                {
                    TransferError::NotFound(text)
                }
                421 | 425 | 426 => TransferError::Connection(text),
                _ => TransferError::Refused(text),
            }
        }
        FtpError::SecureError(m) => TransferError::Tls(format!("{place}: {m}")),
        FtpError::ConnectionError(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            TransferError::Timeout(format!("{place}: {e}"))
        }
        FtpError::ConnectionError(e) => TransferError::Connection(format!("{place}: {e}")),
        other => TransferError::Connection(format!("{place}: {other}")),
    }
}
