//! # patchbay-secrets
//!
//! What a connection knows that a plugin must not: [`Credentials`] (whose
//! `Debug` never prints a value) and [`Settings`]; the [`Redactor`] that
//! scrubs secret values from anything the host logs or hands back; the
//! vault key and the AEAD that seals secrets at rest ([`vault`]); and the
//! one parser of `{{secret.NAME}}` / `{{setting.NAME}}` templates
//! ([`template`]).
//!
//! Nothing here knows about WebAssembly, HTTP or storage.
#![deny(missing_docs)]

mod credentials;
mod redact;
pub mod template;
pub mod vault;

pub use credentials::{Credentials, Settings};
pub use redact::{REDACTED, Redactor};
pub use template::TemplateError;
pub use vault::{KeyOrigin, SealContext, VaultError, VaultKey};
