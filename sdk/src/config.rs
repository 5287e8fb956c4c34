//! The connection's settings and non-secret credential fields.

use crate::bindings::imports::patchbay::connector::config as wit;
use crate::{Error, Result};

/// The readable entries, asked of the host once per instance: a call runs
/// in an instance of its own, whose configuration does not change, so one
/// host call serves every `get` of it.
fn cached() -> &'static [(String, String)] {
    static ENTRIES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    ENTRIES.get_or_init(entries)
}

/// Reads a setting or non-secret credential; `None` when unset or empty.
///
/// Secret credential fields cannot be read: name them in an auth scheme
/// (see [`crate::http::Request::basic_auth`]) or a `{{secret.NAME}}`
/// placeholder instead.
pub fn get(name: &str) -> Result<Option<String>> {
    if let Some((_, value)) = cached().iter().find(|(entry, _)| entry == name) {
        return Ok(Some(value.clone()).filter(|v| !v.is_empty()));
    }
    // Unset, or a secret field: the host says which.
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

/// The connection setting a plugin declares (`type = "boolean"`) to let its
/// callers go without `provider-meta.raw-payload`:
/// [`keep_raw_payload`] reads it.
pub const RAW_PAYLOAD_SETTING: &str = "raw_payload";

/// Whether objects carry the provider's payload in
/// `provider-meta.raw-payload`: yes unless the connection's
/// [`RAW_PAYLOAD_SETTING`] is `false`. Without it, the payload is `null`
/// and the adapter copies nothing (a list of 100 orders carries ~200 KB of
/// them).
pub fn keep_raw_payload() -> Result<bool> {
    Ok(get(RAW_PAYLOAD_SETTING)?.is_none_or(|v| !v.trim().eq_ignore_ascii_case("false")))
}
