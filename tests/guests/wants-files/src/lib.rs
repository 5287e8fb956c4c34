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
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "files".into(),
            details: "{}".into(),
        })
    }
}

patchbay_sdk::export!(WantsFiles: actions);
