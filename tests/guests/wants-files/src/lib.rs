//! A plugin that reads a file: its component imports `wasi:filesystem`,
//! which the host links with no preopened directory, so the read fails.

use patchbay_sdk::prelude::*;

/// Wants the filesystem.
pub struct WantsFiles;

impl Actions for WantsFiles {
    fn list_actions() -> Vec<ActionSpec> {
        Vec::new()
    }

    fn execute(_name: String, _input: Json) -> Result<Json> {
        let secret = std::fs::read_to_string("/etc/passwd").or_permanent("reading /etc/passwd")?;
        Ok(serde_json::Value::String(secret).to_string())
    }
}

impl Connector for WantsFiles {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "wants-files".into(),
            family: Family::Other,
            display_name: "Wants files".into(),
            description: "Reads /etc/passwd.".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            contract_version: patchbay_sdk::CONTRACT_VERSION.into(),
            credentials: Vec::new(),
            settings: Vec::new(),
            auth: AuthSpec {
                strategy: AuthStrategy::None,
                oauth2: None,
            },
            allowed_hosts: Vec::new(),
            rate_limit: None,
            retry: None,
            webhooks: None,
        }
    }

    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "files".into(),
            details: "{}".into(),
        })
    }
}

patchbay_sdk::export!(WantsFiles: actions);
