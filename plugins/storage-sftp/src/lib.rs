//! Patchbay storage plugin for SFTP servers (OpenSSH, and any SSH server
//! with the SFTP subsystem). The plugin never touches a socket or a
//! secret: the host's file-transfer door connects to the checked address,
//! refuses a host key the operator did not pin (the `host_key` setting),
//! logs in with the `private_key` or `password` credential field, and moves
//! the files' bytes as blobs, so a file of any size passes with little
//! guest memory. Names are relative to the folder in the `url` setting and
//! cannot climb out of it. The manifest is `patchbay.toml`.

use patchbay_sdk::client::connected;
use patchbay_sdk::files::{Login, Protocol, Tree};
use patchbay_sdk::prelude::*;

/// The SFTP adapter.
pub struct Sftp;

/// The connection's folder on its server.
fn tree() -> Result<Tree> {
    let url = config::require("url")?;
    if !url.trim().starts_with("sftp://") {
        return Err(Error::Config(format!(
            "the setting url is {url:?}: an sftp://host:port/folder URL"
        )));
    }
    Tree::from_url(&url, Protocol::Sftp, |server| {
        server
            .login(Login {
                user_field: "username".into(),
                password_field: Some("password".into()),
                private_key_field: Some("private_key".into()),
            })
            .host_key_setting("host_key")
    })
}

impl Connector for Sftp {
    fn test_connection() -> Result<ConnectionTest> {
        let tree = tree()?;
        match tree.check() {
            Ok(()) => connected(format!("Connected to {}", tree.remote(""))),
            Err(Error::Auth(why)) => patchbay_sdk::client::refused(format!("the server refused the login: {why}")),
            Err(other) => Err(other),
        }
    }
}

patchbay_sdk::tree_storage!(Sftp, tree);
patchbay_sdk::export!(Sftp: storage, blob_storage);
