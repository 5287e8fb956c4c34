//! `file-transfer`: the guest's door to SFTP and FTP servers, through the
//! host's file-transfer door (`patchbay_outbound::transfer`) under the
//! call's grant and request limit. Contents come from and go into blobs in
//! the call's resource table.

use patchbay_contract::bindings::patchbay::connector::file_transfer::{
    self as wit, Blob as WitBlob, Entry, Protocol, Server, TransferError as WitError,
};
use patchbay_outbound::{
    FileEntry, FileLogin, FileProtocol, FileServer, RequestBody, TransferAnswer, TransferError, TransferOp,
};
use url::Url;
use wasmtime::component::{HasData, Resource, ResourceTable};

use super::{HttpDoor, blobs};

/// What `file-transfer` sees of a call: its door, shared with `http`, and
/// the table its blobs live in.
pub(crate) struct FileTransferView<'a> {
    pub door: &'a HttpDoor,
    pub table: &'a mut ResourceTable,
}

/// Links `file-transfer` to a [`FileTransferView`].
pub(crate) struct FileTransfer;

impl HasData for FileTransfer {
    type Data<'a> = FileTransferView<'a>;
}

fn guest_error(error: TransferError) -> WitError {
    match error {
        TransferError::Denied(m) => WitError::Denied(m),
        TransferError::Timeout(m) => WitError::Timeout(m),
        TransferError::Connection(m) => WitError::Connection(m),
        TransferError::Tls(m) => WitError::Tls(m),
        TransferError::Auth(m) => WitError::Auth(m),
        TransferError::NotFound(m) => WitError::NotFound(m),
        TransferError::Refused(m) => WitError::Refused(m),
        TransferError::RateLimited(s) => WitError::RateLimited(s),
        TransferError::CircuitOpen(m) => WitError::CircuitOpen(m),
        TransferError::InvalidRequest(m) => WitError::InvalidRequest(m),
        TransferError::TooLarge(n) => WitError::TooLarge(n),
    }
}

fn guest_entry(entry: FileEntry) -> Entry {
    Entry {
        name: entry.name,
        is_dir: entry.is_dir,
        size: entry.size,
        modified: entry.modified,
    }
}

fn protocol(protocol: Protocol) -> FileProtocol {
    match protocol {
        Protocol::Sftp => FileProtocol::Sftp,
        Protocol::FtpExplicitTls => FileProtocol::FtpExplicitTls,
        Protocol::FtpImplicitTls => FileProtocol::FtpImplicitTls,
        Protocol::Ftp => FileProtocol::Ftp,
    }
}

impl FileTransferView<'_> {
    /// The guest's server, checked where it can be without policy:
    /// `scheme://host:port`, nothing more.
    fn server(&self, server: Server) -> Result<FileServer, WitError> {
        let text = &server.url;
        let url = Url::parse(text).map_err(|e| WitError::InvalidRequest(format!("{text:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "sftp" | "ftp" | "ftps") || url.host_str().is_none_or(str::is_empty) {
            return Err(WitError::InvalidRequest(format!(
                "{text:?} is not an sftp://, ftp:// or ftps://host:port URL"
            )));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || !url.username().is_empty() {
            return Err(WitError::InvalidRequest(format!(
                "{text:?}: the server is scheme://host:port, without a path, a query or user information \
                 (the login comes from credential fields)"
            )));
        }
        Ok(FileServer {
            url,
            protocol: protocol(server.protocol),
            login: server.login.map(|l| FileLogin {
                user_field: l.user_field,
                password_field: l.password_field,
                private_key_field: l.private_key_field,
            }),
            host_keys: self.door.host_key_trust(server.host_key_setting),
        })
    }

    /// Runs `op` on `server`.
    async fn run(&mut self, server: Server, op: TransferOp) -> Result<TransferAnswer, WitError> {
        let server = self.server(server)?;
        self.door.transfer(server, op).await.map_err(guest_error)
    }
}

/// An answer of a kind the operation does not give: a fault of the host.
fn unexpected(answer: TransferAnswer) -> wasmtime::Error {
    wasmtime::Error::msg(format!("the file-transfer door answered {answer:?} out of turn"))
}

impl wit::Host for FileTransferView<'_> {
    async fn stat(&mut self, server: Server, path: String) -> wasmtime::Result<Result<Option<Entry>, WitError>> {
        Ok(match self.run(server, TransferOp::Stat(path)).await {
            Ok(TransferAnswer::Entry(entry)) => Ok(entry.map(guest_entry)),
            Ok(other) => return Err(unexpected(other)),
            Err(error) => Err(error),
        })
    }

    async fn list_dir(&mut self, server: Server, path: String) -> wasmtime::Result<Result<Vec<Entry>, WitError>> {
        Ok(match self.run(server, TransferOp::List(path)).await {
            Ok(TransferAnswer::Entries(entries)) => Ok(entries.into_iter().map(guest_entry).collect()),
            Ok(other) => return Err(unexpected(other)),
            Err(error) => Err(error),
        })
    }

    async fn upload(
        &mut self,
        server: Server,
        path: String,
        contents: Resource<WitBlob>,
    ) -> wasmtime::Result<Result<u64, WitError>> {
        let range = blobs::held(self.table, &contents)?.clone();
        let op = TransferOp::Upload {
            path,
            contents: RequestBody::Blob(range),
        };
        Ok(match self.run(server, op).await {
            Ok(TransferAnswer::Written(n)) => Ok(n),
            Ok(other) => return Err(unexpected(other)),
            Err(error) => Err(error),
        })
    }

    async fn upload_bytes(
        &mut self,
        server: Server,
        path: String,
        contents: Vec<u8>,
    ) -> wasmtime::Result<Result<(), WitError>> {
        let op = TransferOp::Upload {
            path,
            contents: RequestBody::Bytes(contents),
        };
        Ok(match self.run(server, op).await {
            Ok(TransferAnswer::Written(_)) => Ok(()),
            Ok(other) => return Err(unexpected(other)),
            Err(error) => Err(error),
        })
    }

    async fn download(
        &mut self,
        server: Server,
        path: String,
        offset: u64,
        length: Option<u64>,
    ) -> wasmtime::Result<Result<Resource<WitBlob>, WitError>> {
        let into = match self.door.new_blob() {
            Ok(into) => into,
            Err(why) => return Ok(Err(WitError::Connection(why))),
        };
        let op = TransferOp::Download {
            path,
            offset,
            length,
            into,
        };
        Ok(match self.run(server, op).await {
            Ok(TransferAnswer::Blob(blob)) => {
                blobs::lend(self.table, blob.whole()).ok_or_else(|| WitError::Denied(blobs::TOO_MANY.into()))
            }
            Ok(other) => return Err(unexpected(other)),
            Err(error) => Err(error),
        })
    }

    async fn remove(&mut self, server: Server, path: String) -> wasmtime::Result<Result<(), WitError>> {
        self.done(server, TransferOp::Remove(path)).await
    }

    async fn make_dirs(&mut self, server: Server, path: String) -> wasmtime::Result<Result<(), WitError>> {
        self.done(server, TransferOp::MakeDirs(path)).await
    }

    async fn remove_dir(&mut self, server: Server, path: String) -> wasmtime::Result<Result<(), WitError>> {
        self.done(server, TransferOp::RemoveDir(path)).await
    }

    async fn rename(&mut self, server: Server, from: String, to: String) -> wasmtime::Result<Result<(), WitError>> {
        self.done(server, TransferOp::Rename { from, to }).await
    }
}

impl FileTransferView<'_> {
    /// Runs an operation that answers nothing.
    async fn done(&mut self, server: Server, op: TransferOp) -> wasmtime::Result<Result<(), WitError>> {
        Ok(match self.run(server, op).await {
            Ok(TransferAnswer::Done) => Ok(()),
            Ok(other) => return Err(unexpected(other)),
            Err(error) => Err(error),
        })
    }
}
