//! The conformance suites: what every backend of the store traits must do.
//! A backend crate runs each suite that fits it against a fresh store:
//!
//! ```ignore
//! #[tokio::test]
//! async fn kv() {
//!     patchbay_store::conformance::kv(&MyStore::new()).await;
//! }
//! ```
//!
//! Each suite panics, naming the broken promise, when the backend breaks it.

use std::collections::BTreeMap;

use crate::ConnectionRecord;

mod api_keys;
mod authorizations;
mod circuits;
mod connections;
mod kv;
mod rates;
mod vault;
mod webhooks;

pub use api_keys::api_keys;
pub use authorizations::authorizations;
pub use circuits::circuits;
pub use connections::{connections, token_leases};
pub use kv::kv;
pub use rates::rates;
pub use vault::vault;
pub use webhooks::{shared_webhooks, webhook_retention, webhooks};

/// A connection record to insert, with recognisable sealed bytes.
pub fn record(tenant: &str, id: &str) -> ConnectionRecord {
    ConnectionRecord {
        id: id.to_string(),
        tenant: tenant.to_string(),
        provider: "shop/test".to_string(),
        display_name: format!("{id} of {tenant}"),
        settings: BTreeMap::from([("domain".to_string(), "https://shop.example.com".to_string())]),
        credentials: format!("sealed-credentials-{id}").into_bytes(),
        tokens: None,
        enabled: true,
        connected: true,
        auth_failures: 0,
        circuit_disabled: false,
        last_failure: None,
        last_failure_at: None,
        created_at: 0,
        updated_at: 0,
    }
}
