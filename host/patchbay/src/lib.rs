//! # Patchbay
//!
//! A WebAssembly plugin host for integration connectors. Provider adapters
//! (a shop, a courier, a payment gateway, ...) are sandboxed components that
//! implement the `patchbay:connector` contract; the host gives them HTTP,
//! storage, logging and configuration, and does the shared hard parts for
//! all of them: credentials that never enter the sandbox, allowlists,
//! timeouts, size limits and redacted logs.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use patchbay::{Credentials, Host, Settings};
//!
//! let host = Host::builder().plugins_dir("target/plugins").build().await?;
//! for plugin in host.providers() {
//!     println!("{} ({})", plugin.key(), plugin.manifest().display_name);
//! }
//! let conn = host.connect(
//!     "shop/woocommerce",
//!     Credentials::from([("consumer_key", "ck"), ("consumer_secret", "cs")]),
//!     Settings::from([("domain".to_string(), "http://127.0.0.1:8080".to_string())]),
//! )?;
//! let orders = conn.call_json("shop.get-orders", &serde_json::json!({"query": {}})).await?;
//! println!("{orders}");
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod anomaly;
#[allow(missing_docs, unsafe_code, clippy::all)]
mod bindings;
pub mod bridge;
mod cache;
mod call;
mod connection;
mod connections;
mod credentials;
mod error;
mod host;
mod imports;
mod interfaces;
mod limits;
mod metrics;
mod oauth;
pub mod outbound;
mod plugin;
mod ports;
mod redact;
mod registry;
mod runtime;
mod services;
pub mod store;
pub mod types;
pub mod vault;

pub use cache::{CacheOutcome, CompileCache};
pub use connection::{ConnectOptions, Connection};
pub use connections::{Authorization, ConnectionInfo, Connections, ConnectionsError, NewConnection};
pub use credentials::{Credentials, Settings};
pub use error::{CallError, ConnectError, LoadError};
pub use host::{Host, HostBuilder, HostError, PluginWatcher};
pub use interfaces::{Interface, SUPPORTED_CONTRACT_VERSIONS, family_name};
pub use limits::Limits;
pub use metrics::Metrics;
pub use oauth::OAuthError;
pub use plugin::Plugin;
pub use ports::*;
pub use redact::Redactor;
pub use registry::{PluginRegistry, ReloadReport};
