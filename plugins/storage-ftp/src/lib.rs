//! Patchbay storage plugin for FTP servers, over TLS (FTPS: `AUTH TLS` on
//! `ftp://` URLs, implicit TLS on `ftps://`) or, for anonymous servers
//! only, plain FTP. The plugin never touches a socket or a secret: the
//! host's file-transfer door connects to the checked address, verifies the
//! certificate, logs in with the `username` and `password` credential
//! fields, opens passive data connections to the control connection's
//! address only, and moves the files' bytes as blobs, so a file of any size
//! passes with little guest memory. Names are relative to the folder in
//! the `url` setting and cannot climb out of it. The manifest is
//! `patchbay.toml`.

use patchbay_sdk::client::connected;
use patchbay_sdk::files::{Login, Protocol, Tree};
use patchbay_sdk::prelude::*;

/// The FTP adapter.
pub struct Ftp;

/// The protocol a URL and the `security` setting name.
fn protocol(url: &str, security: &str) -> Result<Protocol> {
    match (url.split_once("://").map(|(scheme, _)| scheme), security) {
        (Some("ftps"), _) => Ok(Protocol::FtpImplicitTls),
        (Some("ftp"), "explicit-tls") => Ok(Protocol::FtpExplicitTls),
        (Some("ftp"), "none") => Ok(Protocol::Ftp),
        (Some("ftp"), other) => Err(Error::Config(format!(
            "the setting security is {other:?}: explicit-tls or none"
        ))),
        _ => Err(Error::Config(format!(
            "the setting url is {url:?}: an ftp://host:port/folder or ftps://host:port/folder URL"
        ))),
    }
}

/// The connection's folder on its server.
fn tree() -> Result<Tree> {
    let url = config::require("url")?;
    let protocol = protocol(url.trim(), &config::get_or("security", "explicit-tls")?)?;
    let anonymous = config::get("anonymous")?.is_some_and(|v| v == "true");
    Tree::from_url(&url, protocol, |server| {
        if anonymous {
            server
        } else {
            server.login(Login {
                user_field: "username".into(),
                password_field: Some("password".into()),
                private_key_field: None,
            })
        }
    })
}

impl Connector for Ftp {
    fn test_connection() -> Result<ConnectionTest> {
        let tree = tree()?;
        match tree.check() {
            Ok(()) => connected(format!("Connected to {}", tree.remote(""))),
            Err(Error::Auth(why)) => patchbay_sdk::client::refused(format!("the server refused the login: {why}")),
            Err(other) => Err(other),
        }
    }
}

patchbay_sdk::tree_storage!(Ftp, tree);
patchbay_sdk::export!(Ftp: storage, blob_storage);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_and_the_security_setting_name_the_protocol() {
        assert!(matches!(
            protocol("ftps://h/x", "explicit-tls"),
            Ok(Protocol::FtpImplicitTls)
        ));
        assert!(matches!(
            protocol("ftp://h/x", "explicit-tls"),
            Ok(Protocol::FtpExplicitTls)
        ));
        assert!(matches!(protocol("ftp://h/x", "none"), Ok(Protocol::Ftp)));
        assert!(protocol("sftp://h/x", "none").is_err());
        assert!(protocol("ftp://h/x", "tls").is_err());
    }
}
