//! Key-value storage private to the connection: tokens, cursors, caches.

use crate::bindings::imports::patchbay::connector::kv as wit;
use crate::{Error, Result};

fn from_kv_error(error: wit::KvError) -> Error {
    match error {
        wit::KvError::QuotaExceeded(why) => Error::permanent(format!("storage quota exceeded: {why}")),
        wit::KvError::InvalidKey(why) => Error::Validation(format!("invalid storage key: {why}")),
        wit::KvError::Unavailable(why) => Error::provider(format!("storage unavailable: {why}")),
    }
}

/// Reads a value; `None` when absent or expired.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    wit::get(key).map_err(from_kv_error)
}

/// Reads a UTF-8 string value.
pub fn get_string(key: &str) -> Result<Option<String>> {
    get(key)?
        .map(|bytes| {
            String::from_utf8(bytes).map_err(|_| Error::permanent(format!("stored value {key:?} is not UTF-8")))
        })
        .transpose()
}

/// Reads a JSON value.
pub fn get_json<T: serde::de::DeserializeOwned>(key: &str) -> Result<Option<T>> {
    get(key)?
        .map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| Error::permanent(format!("stored value {key:?} is not the expected JSON: {e}")))
        })
        .transpose()
}

/// Writes a value, expiring after `ttl_seconds` when given.
pub fn set(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<()> {
    wit::set(key, value, ttl_seconds).map_err(from_kv_error)
}

/// Writes a value as JSON.
pub fn set_json<T: serde::Serialize + ?Sized>(key: &str, value: &T, ttl_seconds: Option<u32>) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| Error::Validation(format!("cannot encode {key:?}: {e}")))?;
    set(key, &bytes, ttl_seconds)
}

/// Deletes a key; returns whether it existed.
pub fn delete(key: &str) -> Result<bool> {
    wit::delete(key).map_err(from_kv_error)
}

/// Lists live keys starting with `prefix`, in lexical order.
pub fn list_keys(prefix: &str) -> Result<Vec<String>> {
    wit::list_keys(prefix).map_err(from_kv_error)
}
