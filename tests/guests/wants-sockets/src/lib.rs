//! A plugin that opens a socket: its component imports `wasi:sockets`,
//! which the host links denying every address, so the connection fails
//! whether it aims at the metadata address or at a server that listens.

use patchbay_sdk::prelude::*;

/// Wants sockets.
pub struct WantsSockets;

impl Actions for WantsSockets {
    fn list_actions() -> Vec<ActionSpec> {
        Vec::new()
    }

    fn execute(_name: String, input: Json) -> Result<Json> {
        let input: serde_json::Value = serde_json::from_str(&input).or_validation("input")?;
        let listening = input["target"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("http://");
        if !listening.is_empty() {
            std::net::TcpStream::connect(listening).or_permanent("connecting to the upstream")?;
        }
        let stream = std::net::TcpStream::connect("169.254.169.254:80").or_permanent("connecting")?;
        Ok(serde_json::Value::String(format!("{:?}", stream.peer_addr())).to_string())
    }
}

impl Connector for WantsSockets {
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "files".into(),
            details: "{}".into(),
        })
    }
}

patchbay_sdk::export!(WantsSockets: actions);
