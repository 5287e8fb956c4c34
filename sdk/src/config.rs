//! The connection's settings and non-secret credential fields.

use crate::bindings::imports::patchbay::connector::config as wit;
use crate::{Error, Result};

/// Reads a setting or non-secret credential; `None` when unset or empty.
///
/// Secret credential fields cannot be read: name them in an auth scheme
/// (see [`crate::http::Request::basic_auth`]) or a `{{secret.NAME}}`
/// placeholder instead.
pub fn get(name: &str) -> Result<Option<String>> {
    match wit::get(name) {
        Ok(value) => Ok(value.filter(|v| !v.is_empty())),
        Err(wit::ConfigError::SecretField(field)) => Err(Error::Config(format!(
            "{field:?} is a secret credential field: plugins name it, they never read it"
        ))),
    }
}

/// Reads a setting that must be present, or fails with a `Config` error
/// naming it.
pub fn require(name: &str) -> Result<String> {
    get(name)?.ok_or_else(|| Error::Config(format!("the setting {name:?} is required")))
}

/// Reads a setting, trimmed, or `default` when it is unset or blank.
pub fn get_or(name: &str, default: &str) -> Result<String> {
    Ok(get(name)?
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| default.to_string()))
}

/// Every readable setting and non-secret credential, as `(name, value)`.
pub fn entries() -> Vec<(String, String)> {
    wit::entries().into_iter().map(|e| (e.name, e.value)).collect()
}
