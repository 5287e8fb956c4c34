//! SFTP sessions (russh, russh-sftp): SSH to the checked address, the host
//! key checked against the operator's pins before anything is sent, a login
//! by private key or password, then the SFTP subsystem.

use std::sync::{Arc, Mutex};

use russh::client::{self, AuthResult, Handle};
use russh::keys::ssh_key::public::KeyData;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession as Sftp;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, StatusCode};
use tokio::io::{AsyncSeekExt as _, AsyncWriteExt as _};

use super::io::{after_cleanup, connect_tcp, copy_body, copy_into_blob, finish};
use super::{Connect, FileEntry, HostKeyTrust, TransferAnswer, TransferError, TransferOp, ancestry, file_name};
use crate::HttpLimits;

/// What the operator pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pin {
    Key(PublicKey),
    Fingerprint(String),
}

/// How the server's key is judged.
#[derive(Debug, Clone)]
pub(crate) enum Trust {
    AcceptAny,
    Pinned(Vec<Pin>),
}

/// Reads a host key setting's value: `accept-any`, or lines of OpenSSH
/// public keys (a `known_hosts` or `ssh-keyscan` line, whose host names
/// are skipped) and `SHA256:` fingerprints; `#` starts a comment.
pub(crate) fn trust(setting: &str, value: &str) -> Result<Trust, String> {
    if value.trim() == "accept-any" {
        return Ok(Trust::AcceptAny);
    }
    let mut pins = Vec::new();
    for (n, line) in value.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("SHA256:") {
            pins.push(Pin::Fingerprint(
                line.split_whitespace().next().unwrap_or(line).to_string(),
            ));
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let start = words
            .iter()
            .position(|w| w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-"))
            .ok_or_else(|| {
                format!(
                    "the setting {setting:?}, line {}: neither a public key (ssh-ed25519 AAAA…) nor a SHA256: fingerprint",
                    n + 1
                )
            })?;
        let key = PublicKey::from_openssh(&words[start..].join(" "))
            .map_err(|e| format!("the setting {setting:?}, line {}: not a public key ({e})", n + 1))?;
        pins.push(Pin::Key(key));
    }
    if pins.is_empty() {
        return Err(format!("the setting {setting:?} pins no host key"));
    }
    Ok(Trust::Pinned(pins))
}

/// The SSH client's handler: judges the host key and remembers it.
struct Client {
    trust: Trust,
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, offered: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let key: &KeyData = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.key_data(),
            PublicKeyOrCertificate::Certificate(certificate) => certificate.public_key(),
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        *self.seen.lock().expect("not poisoned") = Some(format!("{} {fingerprint}", key.algorithm()));
        Ok(match &self.trust {
            Trust::AcceptAny => true,
            Trust::Pinned(pins) => pins.iter().any(|pin| match pin {
                Pin::Key(pinned) => pinned.key_data() == key,
                Pin::Fingerprint(pinned) => *pinned == fingerprint,
            }),
        })
    }
}

/// A logged-in SFTP session.
pub(crate) struct SftpSession {
    /// Taken when the session is dropped, to say goodbye.
    ssh: Option<Handle<Client>>,
    sftp: Sftp,
}

impl SftpSession {
    pub(crate) async fn connect(connect: Connect<'_>) -> Result<Self, TransferError> {
        let Connect {
            server,
            ip,
            user,
            password,
            private_key,
            limits,
        } = connect;
        let trust = match &server.host_keys {
            HostKeyTrust::Unnamed => {
                return Err(TransferError::Denied(
                    "SFTP needs a pinned host key: the plugin names no host key setting".into(),
                ));
            }
            HostKeyTrust::Setting { name, value: None } => {
                return Err(TransferError::Denied(format!(
                    "the connection has no setting {name:?}: set it to the server's host key (a line of \
                     `ssh-keyscan -p {} {}`), its SHA256: fingerprint, or accept-any",
                    server.port(),
                    server.host()
                )));
            }
            HostKeyTrust::Setting {
                name,
                value: Some(value),
            } => trust(name, value).map_err(TransferError::Denied)?,
        };
        if matches!(trust, Trust::AcceptAny) {
            tracing::warn!(server = %server.url, "the SFTP host key is not checked: the operator accepts any");
        }
        let address = std::net::SocketAddr::new(ip, server.port());
        let stream = connect_tcp(address, limits).await?;
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(limits.idle_timeout.max(std::time::Duration::from_secs(1)) * 4),
            nodelay: true,
            ..Default::default()
        });
        let seen = Arc::new(Mutex::new(None));
        let handler = Client {
            trust,
            seen: seen.clone(),
        };
        let handshake = limits.first_byte_timeout;
        let in_time = |what: &str| {
            TransferError::Timeout(format!(
                "the SSH {what} was not over within {} ms",
                handshake.as_millis()
            ))
        };
        let connected = tokio::time::timeout(handshake, client::connect_stream(config, stream, handler))
            .await
            .map_err(|_| in_time("handshake"))?;
        let mut ssh = match connected {
            Ok(ssh) => ssh,
            Err(russh::Error::UnknownKey) => {
                let seen = seen.lock().expect("not poisoned").clone().unwrap_or_default();
                let setting = match &server.host_keys {
                    HostKeyTrust::Setting { name, .. } => name.as_str(),
                    HostKeyTrust::Unnamed => "",
                };
                return Err(TransferError::Denied(format!(
                    "the server's host key ({seen}) is not pinned by the setting {setting:?}: nothing was sent"
                )));
            }
            Err(error) => return Err(TransferError::Connection(format!("SSH handshake failed: {error}"))),
        };
        let user = user.unwrap_or_default();
        let mut accepted = false;
        if let Some(pem) = private_key {
            let key = russh::keys::decode_secret_key(&pem, None).map_err(|e| {
                TransferError::Denied(format!("the private key field holds no usable unencrypted key: {e}"))
            })?;
            let login = async {
                let hash = ssh.best_supported_rsa_hash().await?.flatten();
                ssh.authenticate_publickey(user.clone(), PrivateKeyWithHashAlg::new(Arc::new(key), hash))
                    .await
            };
            let result = tokio::time::timeout(handshake, login)
                .await
                .map_err(|_| in_time("login"))?
                .map_err(|e| TransferError::Connection(format!("SSH login failed: {e}")))?;
            accepted = matches!(result, AuthResult::Success);
        }
        if !accepted && let Some(password) = password {
            let result = tokio::time::timeout(handshake, ssh.authenticate_password(user.clone(), password))
                .await
                .map_err(|_| in_time("login"))?
                .map_err(|e| TransferError::Connection(format!("SSH login failed: {e}")))?;
            accepted = matches!(result, AuthResult::Success);
        }
        if !accepted {
            return Err(TransferError::Auth(format!(
                "the SSH server refused the login of {user}"
            )));
        }
        let open = async {
            let channel = ssh.channel_open_session().await?;
            channel.request_subsystem(true, "sftp").await?;
            Ok::<_, russh::Error>(channel)
        };
        let channel = tokio::time::timeout(handshake, open)
            .await
            .map_err(|_| in_time("channel"))?
            .map_err(|e| TransferError::Connection(format!("the SFTP subsystem is not available: {e}")))?;
        let config = russh_sftp::client::Config {
            request_timeout_secs: limits.idle_timeout.as_secs().max(1),
            ..Default::default()
        };
        let sftp = tokio::time::timeout(handshake, Sftp::new_with_config(channel.into_stream(), config))
            .await
            .map_err(|_| in_time("SFTP start"))?
            .map_err(|e| sftp_error(e, "SFTP start"))?;
        Ok(Self { ssh: Some(ssh), sftp })
    }

    pub(crate) async fn run(&mut self, op: TransferOp, limits: &HttpLimits) -> Result<TransferAnswer, TransferError> {
        let sftp = &self.sftp;
        match op {
            TransferOp::Stat(path) => match sftp.metadata(path.clone()).await {
                Ok(attributes) => Ok(TransferAnswer::Entry(Some(entry(file_name(&path), &attributes)))),
                Err(error) if is_not_found(&error) => Ok(TransferAnswer::Entry(None)),
                Err(error) => Err(sftp_error(error, &path)),
            },
            TransferOp::List(path) => {
                let entries = sftp.read_dir(path.clone()).await.map_err(|e| sftp_error(e, &path))?;
                Ok(TransferAnswer::Entries(
                    entries
                        .filter(|e| super::one_segment(&e.file_name()))
                        .map(|e| entry(e.file_name(), &e.metadata()))
                        .collect(),
                ))
            }
            TransferOp::Upload { path, contents } => {
                let mut file = sftp.create(path.clone()).await.map_err(|e| sftp_error(e, &path))?;
                let written = match copy_body(&contents, &mut file, limits).await {
                    Ok(written) => written,
                    Err(error) => {
                        drop(file);
                        return Err(self.cleaned_up(&path, error).await);
                    }
                };
                match tokio::time::timeout(limits.idle_timeout, file.shutdown()).await {
                    Ok(Ok(())) => Ok(TransferAnswer::Written(written)),
                    Ok(Err(error)) => {
                        let error =
                            TransferError::Connection(format!("{path:?}: the upload was not confirmed: {error}"));
                        Err(self.cleaned_up(&path, error).await)
                    }
                    Err(_) => {
                        let error = TransferError::Timeout(format!("{path:?}: the server did not confirm the upload"));
                        Err(self.cleaned_up(&path, error).await)
                    }
                }
            }
            TransferOp::Download {
                path,
                offset,
                length,
                mut into,
            } => {
                let attributes = sftp.metadata(path.clone()).await.map_err(|e| sftp_error(e, &path))?;
                if attributes.is_dir() {
                    return Err(TransferError::Refused(format!("{path:?} is a folder")));
                }
                let size = attributes.size.unwrap_or(0);
                let want = length.unwrap_or(size.saturating_sub(offset));
                if want.min(size.saturating_sub(offset)) > limits.max_blob_bytes {
                    return Err(TransferError::TooLarge(limits.max_blob_bytes));
                }
                let mut file = sftp.open(path.clone()).await.map_err(|e| sftp_error(e, &path))?;
                if offset > 0 {
                    file.seek(std::io::SeekFrom::Start(offset))
                        .await
                        .map_err(|e| TransferError::Connection(format!("cannot seek in {path:?}: {e}")))?;
                }
                copy_into_blob(&mut file, &mut into, length, limits).await?;
                finish(into).await
            }
            TransferOp::Remove(path) => {
                sftp.remove_file(path.clone()).await.map_err(|e| sftp_error(e, &path))?;
                Ok(TransferAnswer::Done)
            }
            TransferOp::MakeDirs(path) => {
                for folder in ancestry(&path) {
                    match sftp.metadata(folder.clone()).await {
                        Ok(attributes) if attributes.is_dir() => continue,
                        Ok(_) => return Err(TransferError::Refused(format!("{folder:?} is a file, not a folder"))),
                        Err(error) if is_not_found(&error) => {}
                        Err(error) => return Err(sftp_error(error, &folder)),
                    }
                    sftp.create_dir(folder.clone())
                        .await
                        .map_err(|e| sftp_error(e, &folder))?;
                }
                Ok(TransferAnswer::Done)
            }
            TransferOp::RemoveDir(path) => {
                sftp.remove_dir(path.clone()).await.map_err(|e| sftp_error(e, &path))?;
                Ok(TransferAnswer::Done)
            }
            TransferOp::Rename { from, to } => {
                sftp.rename(from.clone(), to).await.map_err(|e| sftp_error(e, &from))?;
                Ok(TransferAnswer::Done)
            }
        }
    }

    /// Removes the partial file of an upload that failed, and says so.
    async fn cleaned_up(&self, path: &str, error: TransferError) -> TransferError {
        let removed = tokio::time::timeout(std::time::Duration::from_secs(10), self.sftp.remove_file(path)).await;
        after_cleanup(error, matches!(removed, Ok(Ok(()))))
    }
}

impl Drop for SftpSession {
    fn drop(&mut self) {
        // The SSH session ends when its handle goes; say goodbye first when
        // a runtime is there to carry it.
        if let Some(ssh) = self.ssh.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = ssh.disconnect(russh::Disconnect::ByApplication, "", "en").await;
            });
        }
    }
}

fn entry(name: String, attributes: &FileAttributes) -> FileEntry {
    let is_dir = attributes.is_dir();
    FileEntry {
        name,
        is_dir,
        size: if is_dir { None } else { attributes.size },
        modified: attributes.mtime.map(u64::from),
    }
}

fn is_not_found(error: &SftpError) -> bool {
    matches!(error, SftpError::Status(status) if status.status_code == StatusCode::NoSuchFile)
}

/// An SFTP error as the guest sees it, naming the path.
fn sftp_error(error: SftpError, path: &str) -> TransferError {
    match error {
        SftpError::Status(status) => {
            let text = if status.error_message.is_empty() {
                status.status_code.to_string()
            } else {
                status.error_message.clone()
            };
            match status.status_code {
                StatusCode::NoSuchFile => TransferError::NotFound(format!("{path:?}: {text}")),
                StatusCode::ConnectionLost | StatusCode::NoConnection => {
                    TransferError::Connection(format!("{path:?}: {text}"))
                }
                _ => TransferError::Refused(format!("{path:?}: {text}")),
            }
        }
        SftpError::Timeout => TransferError::Timeout(format!("{path:?}: the SFTP server did not answer in time")),
        SftpError::IO(m) => TransferError::Connection(format!("{path:?}: {m}")),
        other => TransferError::Connection(format!("{path:?}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRX0vZmC8lCpVu0V9m0QPl3rjkTJ0cYLQ4uVp1gEGCo";

    #[test]
    fn pins_are_read_from_keyscan_lines_and_fingerprints() {
        let Trust::Pinned(pins) = trust(
            "host-key",
            &format!("# pinned\n[127.0.0.1]:2222 {KEY}\nSHA256:abc\n{KEY} me@there\n"),
        )
        .unwrap() else {
            panic!("pinned");
        };
        assert_eq!(pins.len(), 3);
        assert!(matches!(&pins[1], Pin::Fingerprint(f) if f == "SHA256:abc"));
        assert!(matches!(trust("host-key", " accept-any\n").unwrap(), Trust::AcceptAny));
        let empty = trust("host-key", "# nothing\n").unwrap_err();
        assert!(empty.contains("pins no host key"), "{empty}");
        let garbage = trust("host-key", "yes please").unwrap_err();
        assert!(garbage.contains("line 1") && garbage.contains("host-key"), "{garbage}");
    }
}
