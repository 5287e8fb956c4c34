//! Patchbay storage plugin for WebDAV servers (RFC 4918: Nextcloud,
//! ownCloud, Apache mod_dav, wsgidav, ...). The host logs in with HTTP
//! Basic from the `username` and `password` credential fields, which never
//! enter the sandbox. Listings are `PROPFIND` (Depth 0 or 1) read from their
//! `207 Multi-Status`; a save whose folder is missing makes it (`MKCOL`, one
//! level at a time) and tries again; files of any size pass by reference
//! (`blob-storage`), and an upload cut off midway removes what the server
//! kept of it. The manifest is `patchbay.toml`.

mod multistatus;

use patchbay_sdk::blob::{self, Blob};
use patchbay_sdk::client::{Call, Client, connected};
use patchbay_sdk::http::{Method, Response};
use patchbay_sdk::prelude::*;
use patchbay_sdk::{storage, time};

use multistatus::Entry;

/// The WebDAV adapter.
pub struct WebDav;

/// Errors WebDAV adds to the status table: a full server (`507`) will not
/// take the file however often it is asked.
fn dav_error(response: &Response) -> Option<Error> {
    (response.status == 507).then(|| {
        Error::Permanent(patchbay_sdk::types::ProviderFailure {
            status: Some(507),
            message: "the WebDAV server has no room for the file (507 Insufficient Storage)".into(),
        })
    })
}

/// The connection's folder and a client that logs in to it.
struct Dav {
    /// The folder's URL, without a trailing `/`.
    base: String,
    /// The folder's path on the server, decoded, without a trailing `/`
    /// (empty for the server's root).
    root: String,
    client: Client,
}

impl Dav {
    fn new() -> Result<Self> {
        let url = config::require("url")?;
        let base = url.trim().trim_end_matches('/').to_string();
        let Some((_, rest)) = base
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
        else {
            return Err(Error::Config(format!(
                "the setting url is {url:?}: an http:// or https:// URL"
            )));
        };
        let root = rest.find('/').map_or(String::new(), |i| storage::decode(&rest[i..]));
        let client = Client::new(&base).basic_auth("username", "password").errors(dav_error);
        Ok(Self {
            base,
            root: root.trim_end_matches('/').to_string(),
            client,
        })
    }

    /// The URL of a normalized path; a directory's ends in `/`.
    fn url(&self, path: &str, directory: bool) -> String {
        match (path, directory) {
            ("", _) => format!("{}/", self.base),
            (path, true) => format!("{}/{}/", self.base, storage::encode(path, true)),
            (path, false) => format!("{}/{}", self.base, storage::encode(path, true)),
        }
    }

    /// A server path from a listing, relative to the folder (`""` for the
    /// folder itself); `None` for one outside it.
    fn relative(&self, server_path: &str) -> Option<String> {
        let server_path = server_path.trim_end_matches('/');
        if server_path == self.root {
            return Some(String::new());
        }
        server_path
            .strip_prefix(&self.root)
            .and_then(|rest| rest.strip_prefix('/'))
            .map(str::to_string)
    }

    /// `PROPFIND` of a path at `depth` (0: itself, 1: and its children);
    /// `None` when there is nothing there.
    fn propfind(&self, path: &str, directory: bool, depth: &str) -> Result<Option<Vec<Entry>>> {
        let answer = self
            .client
            .call(Method::Other("PROPFIND".into()), &self.url(path, directory))
            .header("depth", depth)
            .header("content-type", "application/xml; charset=utf-8")
            .body(multistatus::PROPFIND)
            .send();
        match answer {
            Ok(response) if response.status == 207 => multistatus::entries(&response.text()).map(Some),
            Ok(response) => Err(Error::provider(format!(
                "the WebDAV server answered PROPFIND with {} instead of 207 Multi-Status",
                response.status
            ))),
            Err(Error::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// What is at a normalized path: `None` when nothing is.
    fn entry(&self, path: &str) -> Result<Option<Entry>> {
        Ok(self
            .propfind(path, false, "0")?
            .and_then(|entries| entries.into_iter().next()))
    }

    /// The entry of a file; `not-found` when there is none, `validation`
    /// for a directory.
    fn file(&self, name: &str) -> Result<Entry> {
        let entry = self
            .entry(&storage::normalize(name, false)?)?
            .ok_or_else(|| Error::NotFound(format!("no file {name:?}")))?;
        if entry.is_directory {
            return Err(Error::Validation(format!("{name:?} is a directory, not a file")));
        }
        Ok(entry)
    }

    /// The children of a directory, as paths relative to the folder.
    fn children(&self, path: &str) -> Result<Vec<(String, Entry)>> {
        let dir = storage::normalize(path, true)?;
        let entries = self
            .propfind(&dir, true, "1")?
            .ok_or_else(|| Error::NotFound(format!("no directory {path:?}")))?;
        Ok(entries
            .into_iter()
            .filter_map(|entry| Some((self.relative(&entry.path)?, entry)))
            .filter(|(relative, _)| *relative != dir)
            .collect())
    }

    /// `MKCOL` for each missing folder above `path`, from the top.
    fn make_parents(&self, path: &str) -> Result<()> {
        let segments: Vec<&str> = path.split('/').collect();
        for depth in 1..segments.len() {
            let folder = segments[..depth].join("/");
            let made = self
                .client
                .call(Method::Other("MKCOL".into()), &self.url(&folder, true))
                .send();
            match made {
                Ok(_) => {}
                // 405: the folder is there already.
                Err(Error::Permanent(f)) if f.status == Some(405) => {}
                Err(other) => return Err(other.with_context(&format!("while making the folder {folder:?}"))),
            }
        }
        Ok(())
    }

    /// `PUT` of a file, sent by `send`; when its folder is missing (`409`),
    /// the folders are made and it is sent again.
    fn put(&self, path: &str, send: impl Fn(Call) -> Result<Response>) -> Result<()> {
        let call = || {
            let put = self.client.put(&self.url(path, false));
            match storage::content_type(path) {
                Some(kind) => put.header("content-type", kind),
                None => put,
            }
        };
        match send(call()) {
            Err(Error::Permanent(f)) if f.status == Some(409) => {
                self.make_parents(path)?;
                send(call()).map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }
}

fn file_info(path: String, entry: &Entry) -> FileInfo {
    FileInfo {
        name: storage::file_name(&path).to_string(),
        path,
        size: if entry.is_directory { 0 } else { entry.size.unwrap_or(0) },
        content_type: entry.content_type.clone().filter(|_| !entry.is_directory),
        modified_at: entry
            .modified
            .as_deref()
            .and_then(|date| time::http_date(date).ok())
            .map(time::rfc3339),
        is_directory: entry.is_directory,
    }
}

impl Connector for WebDav {
    fn test_connection() -> Result<ConnectionTest> {
        let dav = Dav::new()?;
        match dav.propfind("", true, "0") {
            Ok(Some(_)) => connected(format!("Connected to {}", dav.base)),
            Ok(None) => Err(Error::Config(format!("{} does not exist on the server", dav.base))),
            Err(Error::Auth(why)) => patchbay_sdk::client::refused(format!("the server refused the login: {why}")),
            Err(other) => Err(other),
        }
    }
}

impl Storage for WebDav {
    fn save(name: String, content: Vec<u8>) -> Result<String> {
        let dav = Dav::new()?;
        let path = storage::normalize(&name, false)?;
        dav.put(&path, |call| call.body(content.clone()).send())?;
        Ok(path)
    }

    fn open(name: String) -> Result<Vec<u8>> {
        let dav = Dav::new()?;
        let path = storage::normalize(&name, false)?;
        Ok(dav.client.get(&dav.url(&path, false)).send()?.body)
    }

    fn delete(name: String) -> Result<()> {
        let dav = Dav::new()?;
        let path = storage::normalize(&name, false)?;
        dav.client.delete(&dav.url(&path, false)).send()?;
        Ok(())
    }

    fn exists(name: String) -> Result<bool> {
        let dav = Dav::new()?;
        let path = storage::normalize(&name, false)?;
        // A directory is not a file.
        Ok(dav.entry(&path)?.is_some_and(|entry| !entry.is_directory))
    }

    fn listdir(path: String) -> Result<DirectoryListing> {
        let dav = Dav::new()?;
        let mut listing = DirectoryListing {
            directories: Vec::new(),
            files: Vec::new(),
        };
        for (relative, entry) in dav.children(&path)? {
            let name = storage::file_name(&relative).to_string();
            if entry.is_directory {
                listing.directories.push(name);
            } else {
                listing.files.push(name);
            }
        }
        Ok(listing)
    }

    fn size(name: String) -> Result<u64> {
        let dav = Dav::new()?;
        let entry = dav.file(&name)?;
        entry
            .size
            .ok_or_else(|| Error::provider(format!("the WebDAV server gave {name:?} no getcontentlength")))
    }

    fn list_files(path: String) -> Result<Vec<FileInfo>> {
        let dav = Dav::new()?;
        Ok(dav
            .children(&path)?
            .into_iter()
            .map(|(relative, entry)| file_info(relative, &entry))
            .collect())
    }
}

impl BlobStorage for WebDav {
    fn save_blob(name: String, content: &Blob) -> Result<String> {
        let dav = Dav::new()?;
        let path = storage::normalize(&name, false)?;
        match dav.put(&path, |call| call.send_blob(content)) {
            Ok(()) => Ok(path),
            // Cut off midway (no HTTP status): the server may have kept
            // what arrived. An answered refusal wrote nothing.
            Err(failure @ Error::Provider(ProviderFailure { status: None, .. })) => {
                let removed = match dav.client.delete(&dav.url(&path, false)).send() {
                    Ok(_) | Err(Error::NotFound(_)) => "the partial file was removed".to_string(),
                    Err(why) => format!("removing the partial file failed too ({})", why.message()),
                };
                Err(failure.with_context(&removed))
            }
            Err(other) => Err(other),
        }
    }

    fn open_blob(name: String) -> Result<Blob> {
        let dav = Dav::new()?;
        let path = storage::normalize(&name, false)?;
        dav.client.get(&dav.url(&path, false)).blob()
    }

    fn open_range(name: String, offset: u64, length: u64) -> Result<Blob> {
        if length == 0 {
            return Err(Error::Validation("a range of 0 bytes reads nothing".into()));
        }
        let dav = Dav::new()?;
        let path = storage::normalize(&name, false)?;
        let last = offset.saturating_add(length - 1);
        let answer = dav
            .client
            .get(&dav.url(&path, false))
            .header("range", format!("bytes={offset}-{last}"))
            .blob_response()?;
        let ranged = answer.status == 206;
        let blob = answer.into_blob()?;
        if ranged {
            return Ok(blob);
        }
        // A server without range support answers 200 with the whole file:
        // the range is cut from it here.
        let size = blob.size();
        let start = offset.min(size);
        blob::slice(&blob, start, (size - start).min(length))
    }
}

patchbay_sdk::export!(WebDav: storage, blob_storage);

/// The multistatus reader, for the fuzz target `storage_xml` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::multistatus::entries;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dav(base: &str, root: &str) -> Dav {
        Dav {
            base: base.into(),
            root: root.into(),
            client: Client::new(base),
        }
    }

    #[test]
    fn paths_map_to_urls_and_back() {
        let dav = dav(
            "https://cloud.example.com/remote.php/dav/files/alice",
            "/remote.php/dav/files/alice",
        );
        assert_eq!(
            dav.url("été 2026/q1.pdf", false),
            "https://cloud.example.com/remote.php/dav/files/alice/%C3%A9t%C3%A9%202026/q1.pdf"
        );
        assert_eq!(
            dav.url("a", true),
            "https://cloud.example.com/remote.php/dav/files/alice/a/"
        );
        assert_eq!(
            dav.url("", true),
            "https://cloud.example.com/remote.php/dav/files/alice/"
        );
        assert_eq!(
            dav.relative("/remote.php/dav/files/alice/a/b.txt").as_deref(),
            Some("a/b.txt")
        );
        assert_eq!(dav.relative("/remote.php/dav/files/alice/").as_deref(), Some(""));
        assert_eq!(dav.relative("/remote.php/dav/files/bob/x"), None);
        let top = self::dav("http://127.0.0.1:8080", "");
        assert_eq!(top.relative("/d/x.txt").as_deref(), Some("d/x.txt"));
        assert_eq!(top.relative("/").as_deref(), Some(""));
    }

    #[test]
    fn entries_become_file_infos() {
        let entry = Entry {
            path: "/d/r.pdf".into(),
            is_directory: false,
            size: Some(12),
            content_type: Some("application/pdf".into()),
            modified: Some("Wed, 02 Dec 2026 01:40:42 GMT".into()),
        };
        let info = file_info("d/r.pdf".into(), &entry);
        assert_eq!(info.name, "r.pdf");
        assert_eq!(info.size, 12);
        assert_eq!(info.modified_at.as_deref(), Some("2026-12-02T01:40:42Z"));
        assert!(
            dav_error(&Response {
                status: 507,
                headers: vec![],
                body: vec![]
            })
            .is_some()
        );
    }
}
