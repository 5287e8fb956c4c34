//! # patchbay-sdk
//!
//! Write [Patchbay](https://github.com/patchbay-dev/patchbay) connector
//! plugins in Rust. A plugin is a WebAssembly component that adapts one
//! provider's API to a normalized port (`shop`, `courier`, `payment`, ...);
//! the host does the HTTP, the credentials, the retries and the rate limits.
//!
//! A plugin is its manifest, `patchbay.toml` beside its `Cargo.toml`
//! (read and checked at compile time: a mistake is a compile error naming
//! the key), and its mapping code: it implements [`Connector`] and the
//! operations of its port it supports, then exports itself with one macro.
//! Operations it leaves out answer `unsupported`.
//!
//! ```ignore
//! use patchbay_sdk::client::{Client, connected};
//! use patchbay_sdk::prelude::*;
//!
//! struct MyShop;
//!
//! fn api() -> Result<Client> {
//!     Ok(Client::from_setting("domain")?.path("api/v2").bearer_auth("api_key"))
//! }
//!
//! impl Connector for MyShop {
//!     fn test_connection() -> Result<ConnectionTest> {
//!         api()?.get("me").test_connection(|_| connected("Connected"))
//!     }
//! }
//!
//! impl Shop for MyShop {
//!     fn get_order(order_id: String) -> Result<Order> { /* ... */ }
//! }
//!
//! patchbay_sdk::export!(MyShop: shop);
//! // or, with capabilities: patchbay_sdk::export!(MyShop: shop, webhooks, bulk_update);
//! ```
//!
//! [`client::Client`] holds what every request to the provider shares;
//! [`client::Raw`] reads typed JSON in one pass and keeps its text;
//! [`paging`] turns a port's query into the provider's paging and the answer
//! into the port's page; [`http::Request`] is the request underneath, with
//! credentials named, never read.
#![deny(missing_docs)]

extern crate self as patchbay_sdk;

mod answer;
#[doc(hidden)]
pub mod bindings;
pub mod blob;
pub mod client;
pub mod config;
pub mod crypto;
pub mod delivery;
mod error;
mod export;
pub mod feed;
pub mod files;
pub mod http;
#[rustfmt::skip]
mod ports;
pub mod kv;
pub mod llm;
pub mod log;
pub mod mail;
pub mod paging;
pub mod sse;
#[cfg(test)]
mod status_cases;
pub mod storage;
pub mod text;
pub mod time;

pub use error::{Error, ErrorExt, Result};

/// The contract version this SDK builds plugins against.
pub const CONTRACT_VERSION: &str = "0.1.4";

/// The normalized types of the contract, shared by every port and capability.
pub mod types {
    pub use crate::bindings::actions::exports::patchbay::connector::actions::ActionSpec;
    pub use crate::bindings::bulk_update::exports::patchbay::connector::bulk_update::StockUpdate;
    pub use crate::bindings::connector::exports::patchbay::connector::connector::{
        AuthSpec, AuthStrategy, ClientAuthStyle, CredentialField, Family, Oauth2Config, Oauth2Flow, PluginManifest,
        RateLimitHint, RetryHint, SettingField, SettingType, WebhookSpec,
    };
    pub use crate::bindings::imports::patchbay::connector::courier_types::*;
    pub use crate::bindings::imports::patchbay::connector::feed_types::*;
    pub use crate::bindings::imports::patchbay::connector::llm_types::*;
    pub use crate::bindings::imports::patchbay::connector::messaging_types::*;
    pub use crate::bindings::imports::patchbay::connector::payment_types::*;
    pub use crate::bindings::imports::patchbay::connector::shop_types::*;
    pub use crate::bindings::imports::patchbay::connector::storage_types::*;
    pub use crate::bindings::imports::patchbay::connector::types::{
        Address, BulkError, BulkResult, ConnectionTest, ConnectorError, Contact, Decimal, Header, Json,
        ProviderFailure, ProviderMeta, Timestamp,
    };
    pub use crate::bindings::invoice_attachment::exports::patchbay::connector::invoice_attachment::Invoice;
    pub use crate::bindings::oauth::exports::patchbay::connector::oauth::{
        AuthorizeParams, TokenGrant, TokenRequestSpec,
    };
    pub use crate::bindings::rate_signals::exports::patchbay::connector::rate_signals::{BudgetRefusal, CostBudget};
    pub use crate::bindings::webhook_handshake::exports::patchbay::connector::webhook_handshake::{
        HandshakeOutcome, InboundRequest, Reply,
    };
    pub use crate::bindings::webhooks::exports::patchbay::connector::webhooks::{Registration, WebhookEvent};
    pub use crate::blob::Blob;
}

/// Every plugin implements [`Connector`].
pub use export::Connector;
/// The plugin's manifest from its `patchbay.toml`, as a `PluginManifest`
/// expression; [`export!`] uses it, and a plugin's own tests may too.
pub use patchbay_sdk_macros::manifest;
/// What a plugin implements besides [`Connector`]: the port of its family,
/// and any capabilities. Each operation it leaves out answers `unsupported`.
pub use ports::{
    Actions, BlobStorage, BulkUpdate, Courier, Embedding, Feed, ImageGeneration, InvoiceAttachment, Llm,
    ManifestExtension, Messaging, OAuth, OAuthCallback, Payment, ProductFeed, RateSignals, Shop, Storage, Streaming,
    Transcription, WebhookHandshake, Webhooks,
};

/// Everything a plugin usually needs, in one import.
pub mod prelude {
    pub use crate::http::{Method, Request, Response};
    pub use crate::types::*;
    pub use crate::{
        Actions, BlobStorage, BulkUpdate, Connector, Courier, Embedding, Error, ErrorExt, Feed, ImageGeneration,
        InvoiceAttachment, Llm, ManifestExtension, Messaging, OAuth, OAuthCallback, Payment, ProductFeed, RateSignals,
        Result, Shop, Storage, Streaming, Transcription, WebhookHandshake, Webhooks, config, crypto, kv, log, paging,
    };
}

#[cfg(test)]
mod tests {
    /// Every SDK builds plugins against the contract in `wit/`: the four
    /// SDKs' contract versions are the package's.
    #[test]
    fn every_sdk_targets_the_contract_in_wit() {
        let sdk = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |path: &str| std::fs::read_to_string(sdk.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let package = read("wit/types.wit");
        assert!(
            package.contains(&format!("package patchbay:connector@{};", super::CONTRACT_VERSION)),
            "the Rust SDK's CONTRACT_VERSION is the contract's"
        );
        for (path, line) in [
            ("Cargo.toml", format!("contract = \"{}\"", super::CONTRACT_VERSION)),
            (
                "js/package.json",
                format!("\"contract\": \"{}\"", super::CONTRACT_VERSION),
            ),
            (
                "js/src/index.ts",
                format!("CONTRACT_VERSION = \"{}\"", super::CONTRACT_VERSION),
            ),
            (
                "python/patchbay_sdk/__init__.py",
                format!("CONTRACT_VERSION = \"{}\"", super::CONTRACT_VERSION),
            ),
            (
                "c/include/patchbay.h",
                format!("PATCHBAY_CONTRACT_VERSION \"{}\"", super::CONTRACT_VERSION),
            ),
        ] {
            assert!(read(path).contains(&line), "{path} declares {line}");
        }
    }
}

#[doc(hidden)]
pub mod __private {
    pub use crate::answer::answer;
    pub use crate::bindings;
    pub use wit_bindgen;
}
