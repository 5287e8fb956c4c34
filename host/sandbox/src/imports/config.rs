//! `config`: settings and non-secret credential fields; secrets refused.

use patchbay_contract::bindings::patchbay::connector::config::{self as wit, ConfigError, Entry};
use wasmtime::component::HasData;

use crate::grant::CallGrant;

/// What `config` sees of a call: the connection's grant (none while a
/// manifest is read).
pub(crate) struct ConfigView<'a> {
    pub grant: Option<&'a CallGrant>,
}

/// Links `config` to a [`ConfigView`].
pub(crate) struct Config;

impl HasData for Config {
    type Data<'a> = ConfigView<'a>;
}

impl wit::Host for ConfigView<'_> {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<Option<String>, ConfigError>> {
        let Some(grant) = self.grant else {
            return Ok(Ok(None));
        };
        if let Some(value) = grant.settings.get(&name) {
            return Ok(Ok(Some(value.clone())));
        }
        if grant.secret_fields.contains(&name) {
            return Ok(Err(ConfigError::SecretField(name)));
        }
        Ok(Ok(grant.credentials.get(&name).map(str::to_string)))
    }

    async fn entries(&mut self) -> wasmtime::Result<Vec<Entry>> {
        let Some(grant) = self.grant else {
            return Ok(Vec::new());
        };
        let settings = grant.settings.iter().map(|(name, value)| Entry {
            name: name.clone(),
            value: value.clone(),
        });
        let readable = grant
            .credentials
            .names()
            .filter(|name| !grant.secret_fields.contains(*name))
            .filter_map(|name| {
                Some(Entry {
                    name: name.to_string(),
                    value: grant.credentials.get(name)?.to_string(),
                })
            });
        Ok(settings.chain(readable).collect())
    }
}
