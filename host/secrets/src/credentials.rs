//! Credentials and settings of a connection.
//!
//! Credential values never reach a plugin unless the manifest marks the
//! field non-secret; `Debug` never prints a value.

use std::collections::BTreeMap;
use std::fmt;

/// The credential values of a connection, by field name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials(BTreeMap<String, String>);

impl Credentials {
    /// No credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a field.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every non-empty value, for scrubbing logs.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Sets a default for a field that is absent.
    pub fn set_default(&mut self, name: &str, value: &str) {
        self.0.entry(name.to_string()).or_insert_with(|| value.to_string());
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Credentials {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for Credentials {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.keys().map(|k| (k, "[redacted]"))).finish()
    }
}

/// The non-secret settings of a connection, by name.
pub type Settings = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_values() {
        let creds = Credentials::from([("api_key", "sk_live_123")]);
        let shown = format!("{creds:?}");
        assert!(shown.contains("api_key") && !shown.contains("sk_live_123"), "{shown}");
    }
}
