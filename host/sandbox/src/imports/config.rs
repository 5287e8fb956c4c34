//! `config`: settings and non-secret credential fields; secrets refused.

use crate::state::CallState;
use patchbay_contract::bindings::patchbay::connector::config::{self as wit, ConfigError, Entry};

impl wit::Host for CallState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<Option<String>, ConfigError>> {
        let Some(connection) = &self.ctx.connection else {
            return Ok(Ok(None));
        };
        if let Some(value) = connection.settings.get(&name) {
            return Ok(Ok(Some(value.clone())));
        }
        if connection.secret_fields.contains(&name) {
            return Ok(Err(ConfigError::SecretField(name)));
        }
        Ok(Ok(connection.credentials.get(&name).map(str::to_string)))
    }

    async fn entries(&mut self) -> wasmtime::Result<Vec<Entry>> {
        let Some(connection) = &self.ctx.connection else {
            return Ok(Vec::new());
        };
        let settings = connection.settings.iter().map(|(name, value)| Entry {
            name: name.clone(),
            value: value.clone(),
        });
        let readable = connection
            .credentials
            .names()
            .filter(|name| !connection.secret_fields.contains(*name))
            .filter_map(|name| {
                Some(Entry {
                    name: name.to_string(),
                    value: connection.credentials.get(name)?.to_string(),
                })
            });
        Ok(settings.chain(readable).collect())
    }
}
