//! The traits a plugin implements and the [`export!`](crate::export) macro.

use crate::bindings as b;

/// Generic actions.
pub use b::actions::exports::patchbay::connector::actions::Guest as Actions;
/// Capability: bulk product updates.
pub use b::bulk_update::exports::patchbay::connector::bulk_update::Guest as BulkUpdate;
/// Every plugin: its manifest and a connection check.
pub use b::connector::exports::patchbay::connector::connector::Guest as Connector;
/// The courier port.
pub use b::courier::exports::patchbay::connector::courier::Guest as Courier;
/// Capability: embeddings.
pub use b::embedding::exports::patchbay::connector::embedding::Guest as Embedding;
/// The feed port.
pub use b::feed::exports::patchbay::connector::feed::Guest as Feed;
/// Capability: image generation.
pub use b::image_generation::exports::patchbay::connector::image_generation::Guest as ImageGeneration;
/// Capability: invoices attached to orders.
pub use b::invoice_attachment::exports::patchbay::connector::invoice_attachment::Guest as InvoiceAttachment;
/// The LLM port.
pub use b::llm::exports::patchbay::connector::llm::Guest as Llm;
/// The messaging port.
pub use b::messaging::exports::patchbay::connector::messaging::Guest as Messaging;
/// Capability: a non-standard OAuth flow.
pub use b::oauth::exports::patchbay::connector::oauth::Guest as OAuth;
/// The payment port.
pub use b::payment::exports::patchbay::connector::payment::Guest as Payment;
/// Capability: a shop's own catalogue feed.
pub use b::product_feed::exports::patchbay::connector::product_feed::Guest as ProductFeed;
/// The shop port.
pub use b::shop::exports::patchbay::connector::shop::Guest as Shop;
/// The storage port.
pub use b::storage::exports::patchbay::connector::storage::Guest as Storage;
/// Capability: streamed completions.
pub use b::streaming::exports::patchbay::connector::streaming::Guest as Streaming;
/// Capability: transcription.
pub use b::transcription::exports::patchbay::connector::transcription::Guest as Transcription;
/// Capability: webhooks.
pub use b::webhooks::exports::patchbay::connector::webhooks::Guest as Webhooks;

/// Exports a plugin type: always its [`Connector`](crate::Connector)
/// implementation, then each interface named after the colon — the port of
/// its family first, then any capabilities.
///
/// Names: `shop`, `courier`, `payment`, `messaging`, `storage`, `llm`,
/// `feed`, `actions`, `webhooks`, `oauth`, `bulk_update`,
/// `invoice_attachment`, `product_feed`, `embedding`, `transcription`,
/// `streaming`, `image_generation`.
///
/// ```ignore
/// patchbay_sdk::export!(WooCommerce: shop);
/// patchbay_sdk::export!(Stripe: payment, webhooks);
/// ```
#[macro_export]
macro_rules! export {
    ($plugin:ident : $($interface:ident),+ $(,)?) => {
        // The export glue exists only in the component; a native build (unit
        // tests of a plugin's mapping code) has nothing to export.
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        mod __patchbay_exports {
            use super::*;
            $crate::__private::bindings::connector::__export_connector!($plugin with_types_in ::patchbay_sdk::__private::bindings::connector);
            $( $crate::__export_interface!($plugin, $interface); )+
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_interface {
    ($plugin:ident, shop) => { $crate::__private::bindings::shop::__export_shop!($plugin with_types_in ::patchbay_sdk::__private::bindings::shop); };
    ($plugin:ident, courier) => { $crate::__private::bindings::courier::__export_courier!($plugin with_types_in ::patchbay_sdk::__private::bindings::courier); };
    ($plugin:ident, payment) => { $crate::__private::bindings::payment::__export_payment!($plugin with_types_in ::patchbay_sdk::__private::bindings::payment); };
    ($plugin:ident, messaging) => { $crate::__private::bindings::messaging::__export_messaging!($plugin with_types_in ::patchbay_sdk::__private::bindings::messaging); };
    ($plugin:ident, storage) => { $crate::__private::bindings::storage::__export_storage!($plugin with_types_in ::patchbay_sdk::__private::bindings::storage); };
    ($plugin:ident, llm) => { $crate::__private::bindings::llm::__export_llm!($plugin with_types_in ::patchbay_sdk::__private::bindings::llm); };
    ($plugin:ident, feed) => { $crate::__private::bindings::feed::__export_feed!($plugin with_types_in ::patchbay_sdk::__private::bindings::feed); };
    ($plugin:ident, actions) => { $crate::__private::bindings::actions::__export_actions!($plugin with_types_in ::patchbay_sdk::__private::bindings::actions); };
    ($plugin:ident, webhooks) => { $crate::__private::bindings::webhooks::__export_webhooks!($plugin with_types_in ::patchbay_sdk::__private::bindings::webhooks); };
    ($plugin:ident, oauth) => { $crate::__private::bindings::oauth::__export_oauth!($plugin with_types_in ::patchbay_sdk::__private::bindings::oauth); };
    ($plugin:ident, bulk_update) => { $crate::__private::bindings::bulk_update::__export_bulk_update!($plugin with_types_in ::patchbay_sdk::__private::bindings::bulk_update); };
    ($plugin:ident, invoice_attachment) => { $crate::__private::bindings::invoice_attachment::__export_invoice_attachment!($plugin with_types_in ::patchbay_sdk::__private::bindings::invoice_attachment); };
    ($plugin:ident, product_feed) => { $crate::__private::bindings::product_feed::__export_product_feed!($plugin with_types_in ::patchbay_sdk::__private::bindings::product_feed); };
    ($plugin:ident, embedding) => { $crate::__private::bindings::embedding::__export_embedding!($plugin with_types_in ::patchbay_sdk::__private::bindings::embedding); };
    ($plugin:ident, transcription) => { $crate::__private::bindings::transcription::__export_transcription!($plugin with_types_in ::patchbay_sdk::__private::bindings::transcription); };
    ($plugin:ident, streaming) => { $crate::__private::bindings::streaming::__export_streaming!($plugin with_types_in ::patchbay_sdk::__private::bindings::streaming); };
    ($plugin:ident, image_generation) => { $crate::__private::bindings::image_generation::__export_image_generation!($plugin with_types_in ::patchbay_sdk::__private::bindings::image_generation); };
    ($plugin:ident, $other:ident) => {
        compile_error!(concat!("patchbay_sdk::export!: unknown interface `", stringify!($other), "`"));
    };
}
