//! # Patchbay
//!
//! A WebAssembly plugin host for integration connectors. Provider adapters
//! (a shop, a courier, a payment gateway, ...) are sandboxed components that
//! implement the `patchbay:connector` contract; the host gives them HTTP,
//! storage, logging and configuration, and does the shared hard parts for
//! all of them: credentials that never enter the sandbox, allowlists,
//! timeouts, size limits and redacted logs.
//!
//! This crate is the embedder API: [`Host`] and its [`HostBuilder`], the
//! plugin registry, [`Connection`]s with typed port handles and dynamic JSON
//! calls, stored [`Connections`] per tenant with OAuth2. The rooms it is
//! built from are crates of their own: `patchbay-contract`,
//! `patchbay-secrets`, `patchbay-store` (+ `-sqlite`), `patchbay-outbound`
//! and `patchbay-sandbox`.
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

mod api_keys;
mod builder;
mod connect;
mod connection;
mod connections;
mod error;
mod host;
mod ingress;
mod json_call;
mod manifest;
mod metrics;
mod oauth;
mod plugin;
mod ports;
mod registry;
mod vault_key;
mod watch;
mod webhooks;

pub use api_keys::{ApiKeyInfo, ApiKeys, NewApiKey, valid_tenant};
pub use builder::HostBuilder;
pub use connection::{ConnectOptions, Connection};
pub use connections::{Authorization, ConnectionInfo, Connections, ConnectionsError, NewConnection};
pub use error::{ConnectError, HostError, LoadError, Problem};
pub use host::Host;
pub use ingress::IngressTarget;
pub use json_call::{JsonAnswer, JsonOutput};
pub use oauth::OAuthError;
pub use patchbay_contract::{Interface, SUPPORTED_CONTRACT_VERSIONS, bridge, family_name, types};
pub use patchbay_sandbox::{CacheOutcome, CallError, ErrorKind, Limits};
pub use patchbay_secrets::{Credentials, Settings};
pub use plugin::{FunctionSchema, Plugin};
pub use ports::*;
pub use registry::ReloadReport;
pub use watch::PluginWatcher;
pub use webhooks::{EndpointError, EndpointInfo, INGRESS_PREFIX, NewEndpoint, SECRET_PREFIX, Webhooks, now_ms};

/// The outbound HTTP pipeline's configuration, and what a custom
/// [`OutboundPolicy`](outbound::OutboundPolicy) implements.
pub mod outbound {
    pub use patchbay_outbound::{
        AuthScheme, Blob, BlobRange, BlobResponse, BlobWriter, CircuitConfig, HostGrant, HostPattern, HttpLimits,
        Method, OutboundError, OutboundPolicy, OutboundRequest, OutboundResponse, PatternError, RateQuota, Reflections,
        RequestBody, RequestContext, RetryMode, RetryPolicy, Spool, Swept, TimeoutPhase, Timeouts, TokenSource,
    };
}

/// What the fuzz targets (`tests/fuzz`) drive: the manifest checks and the
/// JSON bridge's argument conversion, as the host runs them. Not part of
/// the API: built only with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::json_call::arguments;
    pub use crate::manifest::validate_manifest;

    /// One function a plugin exports, with its types.
    pub struct FunctionTypes {
        /// `interface.function`.
        pub name: String,
        /// Its parameters and their types.
        pub params: Vec<(String, wasmtime::component::Type)>,
        /// Its result's type.
        pub result: Option<wasmtime::component::Type>,
    }

    /// Every function the plugin exports, with its types.
    pub fn function_types(plugin: &crate::Plugin) -> Vec<FunctionTypes> {
        plugin.function_types()
    }
}

/// Where the host keeps its state: the store traits (implement them for
/// another backend), the embedded SQLite backend, PostgreSQL for several
/// replicas, and Redis for the rate budgets they share.
pub mod store {
    pub use patchbay_store::{
        ApiKeyRecord, ApiKeyStore, AuthorizationStore, CircuitRecord, CircuitStore, ConnectionRecord, ConnectionStore,
        KvLimits, KvStore, LocalLeases, MemoryStore, PendingAuthorization, QuotaShare, RateQuota, RateStore,
        Reservation, StoreError, Stores, TokenLease, VaultMeta, VaultStore, WebhookStore, webhooks,
    };
    pub use patchbay_store_postgres::{PostgresConfig, PostgresStore};
    pub use patchbay_store_redis::{RedisConfig, RedisRates};
    pub use patchbay_store_sqlite::SqliteStore;
}

/// The vault key that seals stored credentials and tokens.
pub mod vault {
    pub use patchbay_secrets::vault::KEY_ENV;
    pub use patchbay_secrets::{KeyOrigin, VaultError, VaultKey};
}
