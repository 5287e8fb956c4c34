//! A plugin built against the frozen `0.1.0` contract: an `actions` plugin
//! whose actions reach the host's doors (`kv`, `crypto`, `config`, `log`),
//! so a newer host is seen to link a `0.1.0` plugin's imports and to find
//! its `0.1.0` exports.

#![allow(unsafe_code)] // the export glue that wit-bindgen generates

wit_bindgen::generate!({
    path: "wit",
    world: "patchbay:connector/action-provider",
    generate_all,
});

use exports::patchbay::connector::actions::{ActionSpec, Guest as Actions};
use exports::patchbay::connector::connector::{
    AuthSpec, AuthStrategy, Family, Guest as Connector, PluginManifest, SettingField, SettingType,
};
use patchbay::connector::types::{ConnectionTest, ConnectorError};
use patchbay::connector::{config, crypto, kv, log};

struct Legacy;

impl Connector for Legacy {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "contract-0-1-0".into(),
            family: Family::Other,
            display_name: "Contract 0.1.0".into(),
            description: "Built against the frozen 0.1.0 contract.".into(),
            version: "1.0.0".into(),
            contract_version: "0.1.0".into(),
            credentials: Vec::new(),
            settings: vec![SettingField {
                name: "greeting".into(),
                label: "Greeting".into(),
                type_: SettingType::Text,
                required: false,
                default: Some("hello".into()),
                choices: Vec::new(),
                help: "What `greet` answers with.".into(),
            }],
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

    fn test_connection() -> Result<ConnectionTest, ConnectorError> {
        Ok(ConnectionTest {
            success: true,
            message: "nothing to connect to".into(),
            details: "{}".into(),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Actions for Legacy {
    fn list_actions() -> Vec<ActionSpec> {
        vec![ActionSpec {
            name: "greet".into(),
            description: "Answers with the greeting setting, a count kept in kv, and the SHA-256 of the input.".into(),
            input_schema: r#"{"type":"object"}"#.into(),
            output_schema: r#"{"type":"object"}"#.into(),
        }]
    }

    fn execute(name: String, input: String) -> Result<String, ConnectorError> {
        if name != "greet" {
            return Err(ConnectorError::Validation(format!("no action {name:?}")));
        }
        let greeting = config::get("greeting").ok().flatten().unwrap_or_else(|| "hello".into());
        let count = kv::get("count")
            .map_err(|e| ConnectorError::Config(format!("kv: {e:?}")))?
            .and_then(|v| String::from_utf8(v).ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        kv::set("count", count.to_string().as_bytes(), None)
            .map_err(|e| ConnectorError::Config(format!("kv: {e:?}")))?;
        let digest = crypto::digest(crypto::HashAlgorithm::Sha256, input.as_bytes());
        log::write(log::Level::Info, &format!("greeted {count} times"), &[]);
        Ok(format!(
            r#"{{"greeting":"{greeting}","count":{count},"sha256":"{}"}}"#,
            hex(&digest)
        ))
    }
}

export!(Legacy);
