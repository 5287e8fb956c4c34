//! The contract's types, as the typed Rust API uses them.
//!
//! These are generated from the WIT contract (`wit/`); their documentation
//! is the contract's. Money is a decimal string, timestamps are RFC 3339
//! strings, `extra` and raw payloads are JSON strings.

pub use crate::bindings::exports::patchbay::connector::actions::ActionSpec;
pub use crate::bindings::exports::patchbay::connector::bulk_update::StockUpdate;
pub use crate::bindings::exports::patchbay::connector::connector::{
    AuthSpec, AuthStrategy, ClientAuthStyle, CredentialField, Family, Oauth2Config, Oauth2Flow, PluginManifest,
    RateLimitHint, RetryHint, SettingField, SettingType, WebhookSpec,
};
pub use crate::bindings::exports::patchbay::connector::invoice_attachment::Invoice;
pub use crate::bindings::exports::patchbay::connector::oauth::{AuthorizeParams, TokenGrant, TokenRequestSpec};
pub use crate::bindings::exports::patchbay::connector::rate_signals::{BudgetRefusal, CostBudget};
pub use crate::bindings::exports::patchbay::connector::webhook_handshake::{HandshakeOutcome, InboundRequest, Reply};
pub use crate::bindings::exports::patchbay::connector::webhooks::{Registration, WebhookEvent};
pub use crate::bindings::patchbay::connector::courier_types::{
    AwbLabel, Parcel, Shipment, ShipmentPage, ShipmentQuery, ShipmentRequest, ShipmentStatus, TrackingEvent,
};
pub use crate::bindings::patchbay::connector::feed_types::{
    FeedFormat, FeedIssue, FeedResult, FeedValidationResult, IssueSeverity,
};
pub use crate::bindings::patchbay::connector::llm_types::{
    ChatMessage, ChatRole, CompletionOptions, EmbeddingResult, GeneratedImage, ImageOptions, ImageResult, LlmResponse,
    ModelInfo, StreamChunk, TokenUsage, ToolCall, ToolDefinition, TranscriptionOptions, TranscriptionResult,
};
pub use crate::bindings::patchbay::connector::messaging_types::{
    Attachment, Channel, DeliveryReport, DeliveryStatus, InboundMessage, OutboundMessage, TemplateVar,
};
pub use crate::bindings::patchbay::connector::payment_types::{
    BillingDetails, CheckoutRequest, CheckoutSession, MetadataEntry, PaymentFilter, PaymentPage, PaymentResult,
    PaymentState, RefundResult, RefundState,
};
pub use crate::bindings::patchbay::connector::shop_types::{
    Order, OrderItem, OrderPage, OrderQuery, OrderStatus, PaymentStatus, PaymentType, Product, ProductAttribute,
    ProductPage, ProductQuery, ProductUpdate, ProductVariant,
};
pub use crate::bindings::patchbay::connector::storage_types::{DirectoryListing, FileInfo};
pub use crate::bindings::patchbay::connector::types::{
    Address, BulkError, BulkResult, ConnectionTest, ConnectorError, Contact, Header, ProviderFailure, ProviderMeta,
};

/// A one-line description of a connector error: `auth: bad key`.
pub fn describe_error(error: &ConnectorError) -> String {
    match error {
        ConnectorError::Auth(m) => format!("auth: {m}"),
        ConnectorError::Config(m) => format!("config: {m}"),
        ConnectorError::Validation(m) => format!("validation: {m}"),
        ConnectorError::RateLimited(Some(s)) => format!("rate-limited: retry after {s} s"),
        ConnectorError::RateLimited(None) => "rate-limited".to_string(),
        ConnectorError::Provider(f) => failure("provider", f),
        ConnectorError::Permanent(f) => failure("permanent", f),
        ConnectorError::Unsupported(m) => format!("unsupported: {m}"),
        ConnectorError::WebhookVerification(m) => format!("webhook-verification: {m}"),
        ConnectorError::NotFound(m) => format!("not-found: {m}"),
    }
}

fn failure(kind: &str, f: &ProviderFailure) -> String {
    match f.status {
        Some(status) => format!("{kind} (HTTP {status}): {}", f.message),
        None => format!("{kind}: {}", f.message),
    }
}

/// A connector error in the JSON bridge's shape: `{"auth": "bad key"}`,
/// `{"provider": {"status": 503, "message": "down"}}`.
pub fn error_json(error: &ConnectorError) -> serde_json::Value {
    use serde_json::json;
    let failure = |f: &ProviderFailure| json!({ "status": f.status, "message": f.message });
    match error {
        ConnectorError::Auth(m) => json!({ "auth": m }),
        ConnectorError::Config(m) => json!({ "config": m }),
        ConnectorError::Validation(m) => json!({ "validation": m }),
        ConnectorError::RateLimited(s) => json!({ "rate-limited": s }),
        ConnectorError::Provider(f) => json!({ "provider": failure(f) }),
        ConnectorError::Permanent(f) => json!({ "permanent": failure(f) }),
        ConnectorError::Unsupported(m) => json!({ "unsupported": m }),
        ConnectorError::WebhookVerification(m) => json!({ "webhook-verification": m }),
        ConnectorError::NotFound(m) => json!({ "not-found": m }),
    }
}
