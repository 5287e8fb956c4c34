//! The traits a plugin implements and the [`export!`](crate::export) macro.

use crate::Result;
use crate::types::ConnectionTest;

/// Every plugin: a check that a connection's credentials and settings work.
/// (Its manifest is its `patchbay.toml`, read at compile time by
/// [`export!`](crate::export).)
pub trait Connector {
    /// Makes one cheap request that needs valid credentials;
    /// [`Call::test_connection`](crate::client::Call::test_connection) does the
    /// usual thing.
    fn test_connection() -> Result<ConnectionTest>;
}

/// Exports a plugin type: its manifest (from `patchbay.toml` beside the
/// plugin's `Cargo.toml`), its [`Connector`](crate::Connector)
/// implementation, then each interface named after the colon — the port of
/// its family first, then any capabilities. The plugin implements the SDK's
/// trait of each ([`Shop`](crate::Shop), [`Webhooks`](crate::Webhooks), ...);
/// operations it leaves out answer `unsupported`.
///
/// Names: `shop`, `courier`, `payment`, `messaging`, `storage`, `llm`,
/// `feed`, `actions`, `webhooks`, `webhook_handshake`, `oauth`,
/// `bulk_update`, `invoice_attachment`, `product_feed`, `embedding`,
/// `transcription`, `streaming`, `image_generation`, `manifest_extension`,
/// `rate_signals`, `oauth_callback`, `blob_storage`.
///
/// ```ignore
/// patchbay_sdk::export!(WooCommerce: shop);
/// patchbay_sdk::export!(Stripe: payment, webhooks);
/// ```
#[macro_export]
macro_rules! export {
    ($plugin:ident : $($interface:ident),+ $(,)?) => {
        impl $crate::__private::bindings::connector::exports::patchbay::connector::connector::Guest for $plugin {
            fn manifest() -> $crate::types::PluginManifest {
                $crate::__private::answer(|| $crate::manifest!())
            }
            fn test_connection() -> $crate::Result<$crate::types::ConnectionTest> {
                $crate::__private::answer(|| <$plugin as $crate::Connector>::test_connection())
            }
        }
        $( $crate::__adapt_interface!($plugin, $interface); )+
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
macro_rules! __adapt_interface {
    ($plugin:ident, shop) => {
        $crate::__adapt_shop!($plugin);
    };
    ($plugin:ident, courier) => {
        $crate::__adapt_courier!($plugin);
    };
    ($plugin:ident, payment) => {
        $crate::__adapt_payment!($plugin);
    };
    ($plugin:ident, messaging) => {
        $crate::__adapt_messaging!($plugin);
    };
    ($plugin:ident, storage) => {
        $crate::__adapt_storage!($plugin);
    };
    ($plugin:ident, llm) => {
        $crate::__adapt_llm!($plugin);
    };
    ($plugin:ident, feed) => {
        $crate::__adapt_feed!($plugin);
    };
    ($plugin:ident, actions) => {
        $crate::__adapt_actions!($plugin);
    };
    ($plugin:ident, webhooks) => {
        $crate::__adapt_webhooks!($plugin);
    };
    ($plugin:ident, webhook_handshake) => {
        $crate::__adapt_webhook_handshake!($plugin);
    };
    ($plugin:ident, oauth) => {
        $crate::__adapt_oauth!($plugin);
    };
    ($plugin:ident, bulk_update) => {
        $crate::__adapt_bulk_update!($plugin);
    };
    ($plugin:ident, invoice_attachment) => {
        $crate::__adapt_invoice_attachment!($plugin);
    };
    ($plugin:ident, product_feed) => {
        $crate::__adapt_product_feed!($plugin);
    };
    ($plugin:ident, embedding) => {
        $crate::__adapt_embedding!($plugin);
    };
    ($plugin:ident, transcription) => {
        $crate::__adapt_transcription!($plugin);
    };
    ($plugin:ident, streaming) => {
        $crate::__adapt_streaming!($plugin);
    };
    ($plugin:ident, image_generation) => {
        $crate::__adapt_image_generation!($plugin);
    };
    ($plugin:ident, manifest_extension) => {
        $crate::__adapt_manifest_extension!($plugin);
    };
    ($plugin:ident, rate_signals) => {
        $crate::__adapt_rate_signals!($plugin);
    };
    ($plugin:ident, oauth_callback) => {
        $crate::__adapt_oauth_callback!($plugin);
    };
    ($plugin:ident, blob_storage) => {
        $crate::__adapt_blob_storage!($plugin);
    };
    ($plugin:ident, $other:ident) => {
        compile_error!(concat!(
            "patchbay_sdk::export!: unknown interface `",
            stringify!($other),
            "`"
        ));
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
    ($plugin:ident, webhook_handshake) => { $crate::__private::bindings::webhook_handshake::__export_webhook_handshake!($plugin with_types_in ::patchbay_sdk::__private::bindings::webhook_handshake); };
    ($plugin:ident, oauth) => { $crate::__private::bindings::oauth::__export_oauth!($plugin with_types_in ::patchbay_sdk::__private::bindings::oauth); };
    ($plugin:ident, bulk_update) => { $crate::__private::bindings::bulk_update::__export_bulk_update!($plugin with_types_in ::patchbay_sdk::__private::bindings::bulk_update); };
    ($plugin:ident, invoice_attachment) => { $crate::__private::bindings::invoice_attachment::__export_invoice_attachment!($plugin with_types_in ::patchbay_sdk::__private::bindings::invoice_attachment); };
    ($plugin:ident, product_feed) => { $crate::__private::bindings::product_feed::__export_product_feed!($plugin with_types_in ::patchbay_sdk::__private::bindings::product_feed); };
    ($plugin:ident, embedding) => { $crate::__private::bindings::embedding::__export_embedding!($plugin with_types_in ::patchbay_sdk::__private::bindings::embedding); };
    ($plugin:ident, transcription) => { $crate::__private::bindings::transcription::__export_transcription!($plugin with_types_in ::patchbay_sdk::__private::bindings::transcription); };
    ($plugin:ident, streaming) => { $crate::__private::bindings::streaming::__export_streaming!($plugin with_types_in ::patchbay_sdk::__private::bindings::streaming); };
    ($plugin:ident, image_generation) => { $crate::__private::bindings::image_generation::__export_image_generation!($plugin with_types_in ::patchbay_sdk::__private::bindings::image_generation); };
    ($plugin:ident, manifest_extension) => { $crate::__private::bindings::manifest_extension::__export_manifest_extension!($plugin with_types_in ::patchbay_sdk::__private::bindings::manifest_extension); };
    ($plugin:ident, rate_signals) => { $crate::__private::bindings::rate_signals::__export_rate_signals!($plugin with_types_in ::patchbay_sdk::__private::bindings::rate_signals); };
    ($plugin:ident, oauth_callback) => { $crate::__private::bindings::oauth_callback::__export_oauth_callback!($plugin with_types_in ::patchbay_sdk::__private::bindings::oauth_callback); };
    ($plugin:ident, blob_storage) => { $crate::__private::bindings::blob_storage::__export_blob_storage!($plugin with_types_in ::patchbay_sdk::__private::bindings::blob_storage); };
    ($plugin:ident, $other:ident) => {
        compile_error!(concat!("patchbay_sdk::export!: unknown interface `", stringify!($other), "`"));
    };
}
