//! # patchbay-sdk
//!
//! Write [Patchbay](https://github.com/patchbay-dev/patchbay) connector
//! plugins in Rust. A plugin is a WebAssembly component that adapts one
//! provider's API to a normalized port (`shop`, `courier`, `payment`, ...);
//! the host does the HTTP, the credentials, the retries and the rate limits.
//!
//! A plugin implements [`Connector`] and its port trait, then exports itself
//! with one macro:
//!
//! ```ignore
//! use patchbay_sdk::prelude::*;
//!
//! struct MyShop;
//!
//! impl Connector for MyShop {
//!     fn manifest() -> PluginManifest { /* ... */ }
//!     fn test_connection() -> Result<ConnectionTest> { /* ... */ }
//! }
//!
//! impl Shop for MyShop { /* get_orders, get_order, ... */ }
//!
//! patchbay_sdk::export!(MyShop: shop);
//! // or, with capabilities: patchbay_sdk::export!(MyShop: shop, webhooks, bulk_update);
//! ```
//!
//! Requests go through [`http::Request`]; credentials are named, never read:
//!
//! ```ignore
//! let orders: Vec<serde_json::Value> = Request::get(format!("{base}/orders"))
//!     .query("per_page", "100")
//!     .basic_auth("consumer_key", "consumer_secret")
//!     .send()?
//!     .error_for_status()?
//!     .json()?;
//! ```
#![deny(missing_docs)]

extern crate self as patchbay_sdk;

#[doc(hidden)]
pub mod bindings;
pub mod client;
pub mod config;
pub mod crypto;
mod error;
mod export;
pub mod http;
#[rustfmt::skip]
mod ports;
pub mod kv;
pub mod log;
pub mod paging;
#[cfg(test)]
mod status_cases;

pub use error::{Error, ErrorExt, Result};

/// The contract version this SDK builds plugins against.
pub const CONTRACT_VERSION: &str = "0.1.0";

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
    pub use crate::bindings::webhooks::exports::patchbay::connector::webhooks::{Registration, WebhookEvent};
}

/// Every plugin implements [`Connector`].
pub use export::Connector;
/// The plugin's manifest from its `patchbay.toml`, as a `PluginManifest`
/// expression; [`export!`] uses it, and a plugin's own tests may too.
pub use patchbay_sdk_macros::manifest;
/// What a plugin implements besides [`Connector`]: the port of its family,
/// and any capabilities. Each operation it leaves out answers `unsupported`.
pub use ports::{
    Actions, BulkUpdate, Courier, Embedding, Feed, ImageGeneration, InvoiceAttachment, Llm, Messaging, OAuth, Payment,
    ProductFeed, Shop, Storage, Streaming, Transcription, Webhooks,
};

/// Everything a plugin usually needs, in one import.
pub mod prelude {
    pub use crate::http::{Method, Request, Response};
    pub use crate::types::*;
    pub use crate::{
        Actions, BulkUpdate, Connector, Courier, Embedding, Error, ErrorExt, Feed, ImageGeneration, InvoiceAttachment,
        Llm, Messaging, OAuth, Payment, ProductFeed, Result, Shop, Storage, Streaming, Transcription, Webhooks, config,
        crypto, kv, log, paging,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use wit_bindgen;
}
