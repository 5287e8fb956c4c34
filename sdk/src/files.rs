//! File servers over SFTP and FTP/FTPS, through the host's file-transfer
//! door (contract 0.1.4): the host connects to the checked address, checks
//! the SSH host key against the operator's pin (or the TLS certificate),
//! logs in with credential fields the plugin names but never reads, and
//! moves file contents as [`Blob`]s, so a file larger than the plugin's
//! memory passes through the host. Sessions stay open for the rest of the
//! call: the second operation does not log in again.
//!
//! ```no_run
//! use patchbay_sdk::files::{FileServer, Login, Protocol};
//! # fn demo() -> patchbay_sdk::Result<()> {
//! let server = FileServer::new("sftp://files.example.com:22", Protocol::Sftp)
//!     .login(Login {
//!         user_field: "username".into(),
//!         password_field: Some("password".into()),
//!         private_key_field: Some("private_key".into()),
//!     })
//!     .host_key_setting("host_key");
//! server.make_dirs("/upload/2026")?;
//! server.upload_bytes("/upload/2026/hello.txt", b"hello")?;
//! for entry in server.list_dir("/upload/2026")? {
//!     println!("{} {:?}", entry.name, entry.size);
//! }
//! # Ok(()) }
//! ```

use crate::bindings::imports::patchbay::connector::file_transfer as wit;
use crate::blob::Blob;
use crate::{Error, Result};

pub use wit::{Entry, Login, Protocol, TransferError};

/// Largest read of a blob at once (the host's limit).
const READ: u32 = 1024 * 1024;

/// A file server and how to reach it.
#[derive(Debug, Clone)]
pub struct FileServer {
    server: wit::Server,
}

impl FileServer {
    /// A server, `sftp://host:port`, `ftp://host:port` or
    /// `ftps://host:port`, and its protocol.
    pub fn new(url: impl Into<String>, protocol: Protocol) -> Self {
        Self {
            server: wit::Server {
                url: url.into(),
                protocol,
                login: None,
                host_key_setting: None,
            },
        }
    }

    /// Logs in with these credential fields (filled in by the host).
    pub fn login(mut self, login: Login) -> Self {
        self.server.login = Some(login);
        self
    }

    /// The connection setting that pins the SSH server's host key (SFTP).
    pub fn host_key_setting(mut self, setting: impl Into<String>) -> Self {
        self.server.host_key_setting = Some(setting.into());
        self
    }

    /// What is at `path` (absolute), or none.
    pub fn stat(&self, path: &str) -> Result<Option<Entry>> {
        wit::stat(&self.server, path).map_err(from_transfer_error)
    }

    /// The entries of the folder `path`.
    pub fn list_dir(&self, path: &str) -> Result<Vec<Entry>> {
        wit::list_dir(&self.server, path).map_err(from_transfer_error)
    }

    /// Writes `contents` to `path`; the bytes written. A failed upload
    /// leaves no partial file.
    pub fn upload(&self, path: &str, contents: &Blob) -> Result<u64> {
        wit::upload(&self.server, path, contents).map_err(from_transfer_error)
    }

    /// Writes small contents from memory to `path`.
    pub fn upload_bytes(&self, path: &str, contents: &[u8]) -> Result<()> {
        wit::upload_bytes(&self.server, path, contents).map_err(from_transfer_error)
    }

    /// `length` bytes of `path` from `offset` (to its end when none), as a
    /// blob the host wrote.
    pub fn download(&self, path: &str, offset: u64, length: Option<u64>) -> Result<Blob> {
        wit::download(&self.server, path, offset, length).map_err(from_transfer_error)
    }

    /// The whole of a small file, into memory.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let blob = self.download(path, 0, None)?;
        let mut out = Vec::with_capacity(usize::try_from(blob.size()).unwrap_or(0));
        while (out.len() as u64) < blob.size() {
            let chunk = blob
                .read(out.len() as u64, READ)
                .map_err(crate::blob::from_blob_error)?;
            if chunk.is_empty() {
                break;
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Removes the file `path`.
    pub fn remove(&self, path: &str) -> Result<()> {
        wit::remove(&self.server, path).map_err(from_transfer_error)
    }

    /// Makes the folder `path` and its missing parents.
    pub fn make_dirs(&self, path: &str) -> Result<()> {
        wit::make_dirs(&self.server, path).map_err(from_transfer_error)
    }

    /// Removes the empty folder `path`.
    pub fn remove_dir(&self, path: &str) -> Result<()> {
        wit::remove_dir(&self.server, path).map_err(from_transfer_error)
    }

    /// Renames `from` to `to`.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        wit::rename(&self.server, from, to).map_err(from_transfer_error)
    }
}

/// Maps why a file operation failed to the plugin's error: a refused
/// login or an unpinned host key is `auth`/`config`, a missing file
/// `not-found`, a refusal `permanent`, the network `provider`.
pub fn from_transfer_error(error: TransferError) -> Error {
    match error {
        TransferError::Denied(why) => Error::Config(format!("denied by host policy: {why}")),
        TransferError::Timeout(why) => Error::provider(format!("timed out: {why}")),
        TransferError::Connection(why) => Error::provider(format!("connection failed: {why}")),
        TransferError::Tls(why) => Error::provider(format!("TLS failed: {why}")),
        TransferError::Auth(why) => Error::Auth(why),
        TransferError::NotFound(why) => Error::NotFound(why),
        TransferError::Refused(why) => Error::permanent(format!("the server refused: {why}")),
        TransferError::RateLimited(after) => Error::RateLimited(after),
        TransferError::CircuitOpen(why) => Error::provider(format!("circuit open: {why}")),
        TransferError::InvalidRequest(why) => Error::Validation(why),
        TransferError::TooLarge(limit) => Error::permanent(format!("the file is larger than the host's {limit} bytes")),
    }
}

/// The storage port over a file server: a folder on it (`root`) that the
/// connection's names are relative to and cannot climb out of. What the
/// SFTP and FTP adapters share; each builds it from its settings.
#[derive(Debug, Clone)]
pub struct Tree {
    server: FileServer,
    /// The folder's absolute path, without a trailing `/` (empty for `/`).
    root: String,
}

impl Tree {
    /// The folder named by the path of `url` (`sftp://host:port/srv/files`,
    /// percent-encoded) on the server at its origin; `configure` adds the
    /// login and the host key setting.
    pub fn from_url(url: &str, protocol: Protocol, configure: impl FnOnce(FileServer) -> FileServer) -> Result<Self> {
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::Config(format!("{url:?} is not a URL (scheme://host:port/folder)")))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains('@') {
            return Err(Error::Config(format!(
                "{url:?}: the server is scheme://host:port/folder, without user information (the login comes from the credentials)"
            )));
        }
        let root = crate::storage::normalize(&crate::storage::decode(path), true)?;
        Ok(Self {
            server: configure(FileServer::new(format!("{scheme}://{authority}"), protocol)),
            root: if root.is_empty() {
                String::new()
            } else {
                format!("/{root}")
            },
        })
    }

    /// The server.
    pub fn server(&self) -> &FileServer {
        &self.server
    }

    /// The absolute path on the server of a normalized name.
    pub fn remote(&self, path: &str) -> String {
        match (self.root.as_str(), path) {
            ("", "") => "/".to_string(),
            (root, "") => root.to_string(),
            (root, path) => format!("{root}/{path}"),
        }
    }

    /// The root folder is there: the connection check.
    pub fn check(&self) -> Result<()> {
        match self.server.stat(&self.remote(""))? {
            Some(entry) if entry.is_dir => Ok(()),
            Some(_) => Err(Error::Config(format!("{} is a file, not a folder", self.remote("")))),
            None => Err(Error::Config(format!(
                "the folder {} does not exist on the server",
                self.remote("")
            ))),
        }
    }

    /// Writes a file by `upload`, making its missing folders when the
    /// server says the folder is not there; the normalized name.
    fn put(&self, name: &str, upload: impl Fn(&str) -> Result<()>) -> Result<String> {
        let path = crate::storage::normalize(name, false)?;
        let remote = self.remote(&path);
        match upload(&remote) {
            Err(Error::NotFound(_)) => {
                let parent = &remote[..remote.rfind('/').unwrap_or(0)];
                if !parent.is_empty() {
                    self.server.make_dirs(parent)?;
                }
                upload(&remote)?;
            }
            other => other?,
        }
        Ok(path)
    }

    /// The entry of a file; `not-found` when there is none, `validation`
    /// for a folder.
    fn file(&self, name: &str) -> Result<(String, Entry)> {
        let remote = self.remote(&crate::storage::normalize(name, false)?);
        match self.server.stat(&remote)? {
            Some(entry) if entry.is_dir => Err(Error::Validation(format!("{name:?} is a folder, not a file"))),
            Some(entry) => Ok((remote, entry)),
            None => Err(Error::NotFound(format!("no file {name:?}"))),
        }
    }

    /// `storage.save`.
    pub fn save(&self, name: &str, content: &[u8]) -> Result<String> {
        self.put(name, |remote| self.server.upload_bytes(remote, content))
    }

    /// `blob-storage.save-blob`.
    pub fn save_blob(&self, name: &str, content: &Blob) -> Result<String> {
        self.put(name, |remote| self.server.upload(remote, content).map(|_| ()))
    }

    /// `storage.open`.
    pub fn open(&self, name: &str) -> Result<Vec<u8>> {
        let (remote, _) = self.file(name)?;
        self.server.read(&remote)
    }

    /// `blob-storage.open-blob`.
    pub fn open_blob(&self, name: &str) -> Result<Blob> {
        let (remote, _) = self.file(name)?;
        self.server.download(&remote, 0, None)
    }

    /// `blob-storage.open-range`: fewer bytes past the end.
    pub fn open_range(&self, name: &str, offset: u64, length: u64) -> Result<Blob> {
        if length == 0 {
            return Err(Error::Validation("a range of 0 bytes reads nothing".into()));
        }
        let (remote, entry) = self.file(name)?;
        let size = entry.size.unwrap_or(u64::MAX);
        if offset >= size {
            return Err(Error::Validation(format!(
                "offset {offset} lies past the file's {size} bytes"
            )));
        }
        self.server.download(&remote, offset, Some(length.min(size - offset)))
    }

    /// `storage.delete`.
    pub fn delete(&self, name: &str) -> Result<()> {
        let (remote, _) = self.file(name)?;
        self.server.remove(&remote)
    }

    /// `storage.exists`: a file (a folder is not one).
    pub fn exists(&self, name: &str) -> Result<bool> {
        let remote = self.remote(&crate::storage::normalize(name, false)?);
        Ok(self.server.stat(&remote)?.is_some_and(|entry| !entry.is_dir))
    }

    /// `storage.size`.
    pub fn size(&self, name: &str) -> Result<u64> {
        let (_, entry) = self.file(name)?;
        entry
            .size
            .ok_or_else(|| Error::provider(format!("the server gave {name:?} no size")))
    }

    /// The entries of a folder, by its normalized path.
    fn entries(&self, path: &str) -> Result<(String, Vec<Entry>)> {
        let dir = crate::storage::normalize(path, true)?;
        match self.server.list_dir(&self.remote(&dir)) {
            Err(Error::NotFound(_)) => Err(Error::NotFound(format!("no folder {path:?}"))),
            other => Ok((dir, other?)),
        }
    }

    /// `storage.listdir`.
    pub fn listdir(&self, path: &str) -> Result<crate::types::DirectoryListing> {
        let (_, entries) = self.entries(path)?;
        let mut listing = crate::types::DirectoryListing {
            directories: Vec::new(),
            files: Vec::new(),
        };
        for entry in entries {
            if entry.is_dir {
                listing.directories.push(entry.name);
            } else {
                listing.files.push(entry.name);
            }
        }
        listing.directories.sort();
        listing.files.sort();
        Ok(listing)
    }

    /// `storage.list-files`.
    pub fn list_files(&self, path: &str) -> Result<Vec<crate::types::FileInfo>> {
        let (dir, entries) = self.entries(path)?;
        let mut files: Vec<_> = entries
            .into_iter()
            .map(|entry| crate::types::FileInfo {
                path: crate::storage::join(&dir, &entry.name),
                content_type: (!entry.is_dir)
                    .then(|| crate::storage::content_type(&entry.name).map(str::to_string))
                    .flatten(),
                size: if entry.is_dir { 0 } else { entry.size.unwrap_or(0) },
                modified_at: entry
                    .modified
                    .and_then(|s| i64::try_from(s).ok())
                    .map(crate::time::rfc3339),
                is_directory: entry.is_dir,
                name: entry.name,
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

/// Implements [`Storage`](crate::Storage) and
/// [`BlobStorage`](crate::BlobStorage) for `$adapter` over the [`Tree`]
/// that `$tree()` builds from the connection's settings: the whole of a
/// file-server storage adapter but its settings.
///
/// ```ignore
/// pub struct Sftp;
/// fn tree() -> patchbay_sdk::Result<patchbay_sdk::files::Tree> { /* from config */ }
/// patchbay_sdk::tree_storage!(Sftp, tree);
/// patchbay_sdk::export!(Sftp: storage, blob_storage);
/// ```
#[macro_export]
macro_rules! tree_storage {
    ($adapter:ty, $tree:path) => {
        impl $crate::Storage for $adapter {
            fn save(name: String, content: Vec<u8>) -> $crate::Result<String> {
                $tree()?.save(&name, &content)
            }

            fn open(name: String) -> $crate::Result<Vec<u8>> {
                $tree()?.open(&name)
            }

            fn delete(name: String) -> $crate::Result<()> {
                $tree()?.delete(&name)
            }

            fn exists(name: String) -> $crate::Result<bool> {
                $tree()?.exists(&name)
            }

            fn listdir(path: String) -> $crate::Result<$crate::types::DirectoryListing> {
                $tree()?.listdir(&path)
            }

            fn size(name: String) -> $crate::Result<u64> {
                $tree()?.size(&name)
            }

            fn list_files(path: String) -> $crate::Result<Vec<$crate::types::FileInfo>> {
                $tree()?.list_files(&path)
            }
        }

        impl $crate::BlobStorage for $adapter {
            fn save_blob(name: String, content: &$crate::blob::Blob) -> $crate::Result<String> {
                $tree()?.save_blob(&name, content)
            }

            fn open_blob(name: String) -> $crate::Result<$crate::blob::Blob> {
                $tree()?.open_blob(&name)
            }

            fn open_range(name: String, offset: u64, length: u64) -> $crate::Result<$crate::blob::Blob> {
                $tree()?.open_range(&name, offset, length)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_a_folder_on_a_server() {
        let tree = Tree::from_url("sftp://127.0.0.1:2222/home/me/été%202026/", Protocol::Sftp, |s| s).unwrap();
        assert_eq!(tree.server().server.url, "sftp://127.0.0.1:2222");
        assert_eq!(tree.remote(""), "/home/me/été 2026");
        assert_eq!(tree.remote("a/b.txt"), "/home/me/été 2026/a/b.txt");
        let top = Tree::from_url("ftp://files.example.com", Protocol::FtpExplicitTls, |s| s).unwrap();
        assert_eq!(top.remote(""), "/");
        assert_eq!(top.remote("a.txt"), "/a.txt");
        assert!(Tree::from_url("sftp://me@host/x", Protocol::Sftp, |s| s).is_err());
        assert!(Tree::from_url("files.example.com", Protocol::Sftp, |s| s).is_err());
    }
}
