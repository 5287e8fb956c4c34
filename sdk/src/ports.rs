// @generated from wit/ by `patchbay-cli`'s test `the_sdk_is_generated_from_the_contract`
// (PATCHBAY_BLESS=1 rewrites it). Do not edit.
//! The ports and capabilities a plugin implements. Every operation has a
//! default that answers `unsupported`, naming the operation; a plugin
//! writes only what its provider can do.

#![allow(unused_variables)]

use crate::types::*;
use crate::{Error, Result};

fn unsupported(operation: &str) -> Error {
    Error::Unsupported(format!("{operation} is not supported by this plugin"))
}

/// The shop port: orders and products of an online shop or marketplace.
pub trait Shop {
    /// Lists orders, newest first where the provider allows.
    fn get_orders(query: OrderQuery) -> Result<OrderPage> {
        Err(unsupported("shop.get-orders"))
    }
    /// Fetches one order by its identifier.
    fn get_order(order_id: String) -> Result<Order> {
        Err(unsupported("shop.get-order"))
    }
    /// Lists products.
    fn get_products(query: ProductQuery) -> Result<ProductPage> {
        Err(unsupported("shop.get-products"))
    }
    /// Sets the stock level of a product.
    fn update_product_stock(product_id: String, quantity: i64) -> Result<()> {
        Err(unsupported("shop.update-product-stock"))
    }
    /// Sets the price of a product.
    fn update_product_price(product_id: String, price: Decimal, currency: String) -> Result<()> {
        Err(unsupported("shop.update-product-price"))
    }
    /// Moves an order to a new status; returns the updated order.
    fn update_order_status(order_id: String, status: OrderStatus) -> Result<Order> {
        Err(unsupported("shop.update-order-status"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_shop {
    ($plugin:ident) => {
        impl $crate::__private::bindings::shop::exports::patchbay::connector::shop::Guest for $plugin {
            fn get_orders(query: $crate::types::OrderQuery) -> $crate::Result<$crate::types::OrderPage> {
                $crate::__private::answer(|| <$plugin as $crate::Shop>::get_orders(query))
            }
            fn get_order(order_id: String) -> $crate::Result<$crate::types::Order> {
                $crate::__private::answer(|| <$plugin as $crate::Shop>::get_order(order_id))
            }
            fn get_products(query: $crate::types::ProductQuery) -> $crate::Result<$crate::types::ProductPage> {
                $crate::__private::answer(|| <$plugin as $crate::Shop>::get_products(query))
            }
            fn update_product_stock(product_id: String, quantity: i64) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::Shop>::update_product_stock(product_id, quantity))
            }
            fn update_product_price(product_id: String, price: $crate::types::Decimal, currency: String) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::Shop>::update_product_price(product_id, price, currency))
            }
            fn update_order_status(order_id: String, status: $crate::types::OrderStatus) -> $crate::Result<$crate::types::Order> {
                $crate::__private::answer(|| <$plugin as $crate::Shop>::update_order_status(order_id, status))
            }
        }
    };
}

/// The courier port: air waybills and tracking.
pub trait Courier {
    /// Creates a shipment and returns its air waybill.
    fn generate_awb(request: ShipmentRequest) -> Result<AwbLabel> {
        Err(unsupported("courier.generate-awb"))
    }
    /// Fetches a shipment's status and history.
    fn get_tracking(tracking_number: String) -> Result<Shipment> {
        Err(unsupported("courier.get-tracking"))
    }
    /// Cancels a shipment that has not been picked up.
    fn cancel_shipment(tracking_number: String) -> Result<()> {
        Err(unsupported("courier.cancel-shipment"))
    }
    /// Lists shipments.
    fn get_shipments(query: ShipmentQuery) -> Result<ShipmentPage> {
        Err(unsupported("courier.get-shipments"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_courier {
    ($plugin:ident) => {
        impl $crate::__private::bindings::courier::exports::patchbay::connector::courier::Guest for $plugin {
            fn generate_awb(request: $crate::types::ShipmentRequest) -> $crate::Result<$crate::types::AwbLabel> {
                $crate::__private::answer(|| <$plugin as $crate::Courier>::generate_awb(request))
            }
            fn get_tracking(tracking_number: String) -> $crate::Result<$crate::types::Shipment> {
                $crate::__private::answer(|| <$plugin as $crate::Courier>::get_tracking(tracking_number))
            }
            fn cancel_shipment(tracking_number: String) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::Courier>::cancel_shipment(tracking_number))
            }
            fn get_shipments(query: $crate::types::ShipmentQuery) -> $crate::Result<$crate::types::ShipmentPage> {
                $crate::__private::answer(|| <$plugin as $crate::Courier>::get_shipments(query))
            }
        }
    };
}

/// The payment port: hosted checkouts, payments, captures and refunds.
pub trait Payment {
    /// Creates a hosted checkout session.
    fn create_checkout_session(request: CheckoutRequest) -> Result<CheckoutSession> {
        Err(unsupported("payment.create-checkout-session"))
    }
    /// Fetches a payment.
    fn get_payment(payment_id: String) -> Result<PaymentResult> {
        Err(unsupported("payment.get-payment"))
    }
    /// Refunds a payment, in full when `amount` is `none`.
    fn refund(payment_id: String, amount: Option<Decimal>, reason: String) -> Result<RefundResult> {
        Err(unsupported("payment.refund"))
    }
    /// Lists payments.
    fn list_payments(filter: PaymentFilter, cursor: Option<String>) -> Result<PaymentPage> {
        Err(unsupported("payment.list-payments"))
    }
    /// Captures an authorized payment.
    fn capture_payment(payment_id: String) -> Result<PaymentResult> {
        Err(unsupported("payment.capture-payment"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_payment {
    ($plugin:ident) => {
        impl $crate::__private::bindings::payment::exports::patchbay::connector::payment::Guest for $plugin {
            fn create_checkout_session(request: $crate::types::CheckoutRequest) -> $crate::Result<$crate::types::CheckoutSession> {
                $crate::__private::answer(|| <$plugin as $crate::Payment>::create_checkout_session(request))
            }
            fn get_payment(payment_id: String) -> $crate::Result<$crate::types::PaymentResult> {
                $crate::__private::answer(|| <$plugin as $crate::Payment>::get_payment(payment_id))
            }
            fn refund(payment_id: String, amount: Option<$crate::types::Decimal>, reason: String) -> $crate::Result<$crate::types::RefundResult> {
                $crate::__private::answer(|| <$plugin as $crate::Payment>::refund(payment_id, amount, reason))
            }
            fn list_payments(filter: $crate::types::PaymentFilter, cursor: Option<String>) -> $crate::Result<$crate::types::PaymentPage> {
                $crate::__private::answer(|| <$plugin as $crate::Payment>::list_payments(filter, cursor))
            }
            fn capture_payment(payment_id: String) -> $crate::Result<$crate::types::PaymentResult> {
                $crate::__private::answer(|| <$plugin as $crate::Payment>::capture_payment(payment_id))
            }
        }
    };
}

/// The messaging port: send messages and reply to received ones.
pub trait Messaging {
    /// Sends one message.
    fn send(message: OutboundMessage) -> Result<DeliveryReport> {
        Err(unsupported("messaging.send"))
    }
    /// Sends several messages; one report per message, in order.
    fn send_bulk(messages: Vec<OutboundMessage>) -> Result<Vec<DeliveryReport>> {
        Err(unsupported("messaging.send-bulk"))
    }
    /// Replies to a received message in its conversation.
    fn reply(to: InboundMessage, body: String) -> Result<DeliveryReport> {
        Err(unsupported("messaging.reply"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_messaging {
    ($plugin:ident) => {
        impl $crate::__private::bindings::messaging::exports::patchbay::connector::messaging::Guest for $plugin {
            fn send(message: $crate::types::OutboundMessage) -> $crate::Result<$crate::types::DeliveryReport> {
                $crate::__private::answer(|| <$plugin as $crate::Messaging>::send(message))
            }
            fn send_bulk(messages: Vec<$crate::types::OutboundMessage>) -> $crate::Result<Vec<$crate::types::DeliveryReport>> {
                $crate::__private::answer(|| <$plugin as $crate::Messaging>::send_bulk(messages))
            }
            fn reply(to: $crate::types::InboundMessage, body: String) -> $crate::Result<$crate::types::DeliveryReport> {
                $crate::__private::answer(|| <$plugin as $crate::Messaging>::reply(to, body))
            }
        }
    };
}

/// The storage port: files in a bucket or on a file server. Names are
/// `/`-separated paths relative to the connection's root.
pub trait Storage {
    /// Stores a file, replacing any previous content; returns the name it
    /// was stored under.
    fn save(name: String, content: Vec<u8>) -> Result<String> {
        Err(unsupported("storage.save"))
    }
    /// Reads a whole file.
    fn open(name: String) -> Result<Vec<u8>> {
        Err(unsupported("storage.open"))
    }
    /// Deletes a file.
    fn delete(name: String) -> Result<()> {
        Err(unsupported("storage.delete"))
    }
    /// Tells whether a file exists.
    fn exists(name: String) -> Result<bool> {
        Err(unsupported("storage.exists"))
    }
    /// Lists the names in a directory.
    fn listdir(path: String) -> Result<DirectoryListing> {
        Err(unsupported("storage.listdir"))
    }
    /// The size of a file in bytes.
    fn size(name: String) -> Result<u64> {
        Err(unsupported("storage.size"))
    }
    /// Lists the files in a directory with their details.
    fn list_files(path: String) -> Result<Vec<FileInfo>> {
        Err(unsupported("storage.list-files"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_storage {
    ($plugin:ident) => {
        impl $crate::__private::bindings::storage::exports::patchbay::connector::storage::Guest for $plugin {
            fn save(name: String, content: Vec<u8>) -> $crate::Result<String> {
                $crate::__private::answer(|| <$plugin as $crate::Storage>::save(name, content))
            }
            fn open(name: String) -> $crate::Result<Vec<u8>> {
                $crate::__private::answer(|| <$plugin as $crate::Storage>::open(name))
            }
            fn delete(name: String) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::Storage>::delete(name))
            }
            fn exists(name: String) -> $crate::Result<bool> {
                $crate::__private::answer(|| <$plugin as $crate::Storage>::exists(name))
            }
            fn listdir(path: String) -> $crate::Result<$crate::types::DirectoryListing> {
                $crate::__private::answer(|| <$plugin as $crate::Storage>::listdir(path))
            }
            fn size(name: String) -> $crate::Result<u64> {
                $crate::__private::answer(|| <$plugin as $crate::Storage>::size(name))
            }
            fn list_files(path: String) -> $crate::Result<Vec<$crate::types::FileInfo>> {
                $crate::__private::answer(|| <$plugin as $crate::Storage>::list_files(path))
            }
        }
    };
}

/// The LLM port: chat completions with tools.
pub trait Llm {
    /// Completes a conversation with `model`, or the connection's default model.
    fn complete(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
        Err(unsupported("llm.complete"))
    }
    /// Lists the models the connection can use.
    fn list_models() -> Result<Vec<ModelInfo>> {
        Err(unsupported("llm.list-models"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_llm {
    ($plugin:ident) => {
        impl $crate::__private::bindings::llm::exports::patchbay::connector::llm::Guest for $plugin {
            fn complete(messages: Vec<$crate::types::ChatMessage>, model: Option<String>, options: $crate::types::CompletionOptions) -> $crate::Result<$crate::types::LlmResponse> {
                $crate::__private::answer(|| <$plugin as $crate::Llm>::complete(messages, model, options))
            }
            fn list_models() -> $crate::Result<Vec<$crate::types::ModelInfo>> {
                $crate::__private::answer(|| <$plugin as $crate::Llm>::list_models())
            }
        }
    };
}

/// The feed port: product feeds for marketplaces and comparison sites.
pub trait Feed {
    /// Renders `products` in `format` (an id from `supported-formats`).
    fn generate_feed(products: Vec<Product>, format: String) -> Result<FeedResult> {
        Err(unsupported("feed.generate-feed"))
    }
    /// Checks products against the feed's requirements.
    fn validate_products(products: Vec<Product>) -> Result<FeedValidationResult> {
        Err(unsupported("feed.validate-products"))
    }
    /// The formats this plugin produces.
    fn supported_formats() -> Vec<FeedFormat> {
        Default::default()
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_feed {
    ($plugin:ident) => {
        impl $crate::__private::bindings::feed::exports::patchbay::connector::feed::Guest for $plugin {
            fn generate_feed(products: Vec<$crate::types::Product>, format: String) -> $crate::Result<$crate::types::FeedResult> {
                $crate::__private::answer(|| <$plugin as $crate::Feed>::generate_feed(products, format))
            }
            fn validate_products(products: Vec<$crate::types::Product>) -> $crate::Result<$crate::types::FeedValidationResult> {
                $crate::__private::answer(|| <$plugin as $crate::Feed>::validate_products(products))
            }
            fn supported_formats() -> Vec<$crate::types::FeedFormat> {
                $crate::__private::answer(|| <$plugin as $crate::Feed>::supported_formats())
            }
        }
    };
}

/// Generic actions, for APIs that fit no family (GitHub, HubSpot, ...),
/// and for extra operations of a plugin that has a family.
pub trait Actions {
    /// Lists the actions.
    fn list_actions() -> Vec<ActionSpec> {
        Default::default()
    }
    /// Runs an action with a JSON input; returns its JSON output.
    fn execute(name: String, input: Json) -> Result<Json> {
        Err(unsupported("actions.execute"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_actions {
    ($plugin:ident) => {
        impl $crate::__private::bindings::actions::exports::patchbay::connector::actions::Guest for $plugin {
            fn list_actions() -> Vec<$crate::types::ActionSpec> {
                $crate::__private::answer(|| <$plugin as $crate::Actions>::list_actions())
            }
            fn execute(name: String, input: $crate::types::Json) -> $crate::Result<$crate::types::Json> {
                $crate::__private::answer(|| <$plugin as $crate::Actions>::execute(name, input))
            }
        }
    };
}

/// Capability: receive the provider's webhooks. The host stores a webhook
/// only after `verify` accepts it, then calls `parse`.
pub trait Webhooks {
    /// Checks the signature or token of a delivery (constant time, through
    /// `crypto`); an error means the delivery must be refused.
    fn verify(headers: Vec<Header>, body: Vec<u8>) -> Result<()> {
        Err(unsupported("webhooks.verify"))
    }
    /// Turns a verified delivery into events.
    fn parse(headers: Vec<Header>, body: Vec<u8>) -> Result<Vec<WebhookEvent>> {
        Err(unsupported("webhooks.parse"))
    }
    /// Subscribes `url` to `events` at the provider.
    fn register(url: String, events: Vec<String>) -> Result<Registration> {
        Err(unsupported("webhooks.register"))
    }
    /// Lists the subscriptions at the provider.
    fn list_registrations() -> Result<Vec<Registration>> {
        Err(unsupported("webhooks.list-registrations"))
    }
    /// Removes a subscription.
    fn unregister(id: String) -> Result<()> {
        Err(unsupported("webhooks.unregister"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_webhooks {
    ($plugin:ident) => {
        impl $crate::__private::bindings::webhooks::exports::patchbay::connector::webhooks::Guest for $plugin {
            fn verify(headers: Vec<$crate::types::Header>, body: Vec<u8>) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::Webhooks>::verify(headers, body))
            }
            fn parse(headers: Vec<$crate::types::Header>, body: Vec<u8>) -> $crate::Result<Vec<$crate::types::WebhookEvent>> {
                $crate::__private::answer(|| <$plugin as $crate::Webhooks>::parse(headers, body))
            }
            fn register(url: String, events: Vec<String>) -> $crate::Result<$crate::types::Registration> {
                $crate::__private::answer(|| <$plugin as $crate::Webhooks>::register(url, events))
            }
            fn list_registrations() -> $crate::Result<Vec<$crate::types::Registration>> {
                $crate::__private::answer(|| <$plugin as $crate::Webhooks>::list_registrations())
            }
            fn unregister(id: String) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::Webhooks>::unregister(id))
            }
        }
    };
}

/// Capability: answers what a provider asks of the webhook endpoint itself
/// rather than delivering an event — a challenge when the endpoint is
/// registered (Meta's `hub.challenge` GET, Slack's `url_verification`,
/// Discord's PING) — and the answer a delivery must carry when a plain `200`
/// is not enough (a Discord interaction expects an interaction response).
/// The host calls `handshake` for every request to the connection's ingress,
/// before `verify`; a plugin without it gets `verify` alone.
pub trait WebhookHandshake {
    /// Decides what a request to the ingress is. An error answers 401 when it
    /// is `webhook-verification`, `auth` or `validation`, and 503 otherwise.
    fn handshake(request: InboundRequest) -> Result<HandshakeOutcome> {
        Err(unsupported("webhook-handshake.handshake"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_webhook_handshake {
    ($plugin:ident) => {
        impl $crate::__private::bindings::webhook_handshake::exports::patchbay::connector::webhook_handshake::Guest for $plugin {
            fn handshake(request: $crate::types::InboundRequest) -> $crate::Result<$crate::types::HandshakeOutcome> {
                $crate::__private::answer(|| <$plugin as $crate::WebhookHandshake>::handshake(request))
            }
        }
    };
}

/// Capability: a non-standard OAuth flow. Standard OAuth2 needs no plugin
/// code: the host runs it from the manifest. Here the plugin describes the
/// requests and where the tokens are in the answers; the host sends them,
/// extracts and stores the tokens, and the plugin never sees a token.
pub trait OAuth {
    /// The URL to send the user to.
    fn authorize_url(params: AuthorizeParams) -> Result<String> {
        Err(unsupported("oauth.authorize-url"))
    }
    /// Describes the token request for a grant.
    fn token_request(grant: TokenGrant, redirect_uri: String) -> Result<TokenRequestSpec> {
        Err(unsupported("oauth.token-request"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_oauth {
    ($plugin:ident) => {
        impl $crate::__private::bindings::oauth::exports::patchbay::connector::oauth::Guest for $plugin {
            fn authorize_url(params: $crate::types::AuthorizeParams) -> $crate::Result<String> {
                $crate::__private::answer(|| <$plugin as $crate::OAuth>::authorize_url(params))
            }
            fn token_request(grant: $crate::types::TokenGrant, redirect_uri: String) -> $crate::Result<$crate::types::TokenRequestSpec> {
                $crate::__private::answer(|| <$plugin as $crate::OAuth>::token_request(grant, redirect_uri))
            }
        }
    };
}

/// Capability: update many products in one go, where the provider has a
/// batch API.
pub trait BulkUpdate {
    /// Applies partial updates to products.
    fn update_products(updates: Vec<ProductUpdate>) -> Result<BulkResult> {
        Err(unsupported("bulk-update.update-products"))
    }
    /// Sets stock levels.
    fn update_stock(updates: Vec<StockUpdate>) -> Result<BulkResult> {
        Err(unsupported("bulk-update.update-stock"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_bulk_update {
    ($plugin:ident) => {
        impl $crate::__private::bindings::bulk_update::exports::patchbay::connector::bulk_update::Guest for $plugin {
            fn update_products(updates: Vec<$crate::types::ProductUpdate>) -> $crate::Result<$crate::types::BulkResult> {
                $crate::__private::answer(|| <$plugin as $crate::BulkUpdate>::update_products(updates))
            }
            fn update_stock(updates: Vec<$crate::types::StockUpdate>) -> $crate::Result<$crate::types::BulkResult> {
                $crate::__private::answer(|| <$plugin as $crate::BulkUpdate>::update_stock(updates))
            }
        }
    };
}

/// Capability: attach an invoice to an order at the provider (marketplaces
/// that show invoices to buyers).
pub trait InvoiceAttachment {
    /// Attaches `invoice` to an order.
    fn attach_invoice(order_id: String, invoice: Invoice) -> Result<()> {
        Err(unsupported("invoice-attachment.attach-invoice"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_invoice_attachment {
    ($plugin:ident) => {
        impl $crate::__private::bindings::invoice_attachment::exports::patchbay::connector::invoice_attachment::Guest for $plugin {
            fn attach_invoice(order_id: String, invoice: $crate::types::Invoice) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::InvoiceAttachment>::attach_invoice(order_id, invoice))
            }
        }
    };
}

/// Capability: a shop that can export its own catalogue as a feed.
pub trait ProductFeed {
    /// Exports the whole catalogue in `format`.
    fn export_products(format: String) -> Result<FeedResult> {
        Err(unsupported("product-feed.export-products"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_product_feed {
    ($plugin:ident) => {
        impl $crate::__private::bindings::product_feed::exports::patchbay::connector::product_feed::Guest for $plugin {
            fn export_products(format: String) -> $crate::Result<$crate::types::FeedResult> {
                $crate::__private::answer(|| <$plugin as $crate::ProductFeed>::export_products(format))
            }
        }
    };
}

/// Capability: text embeddings.
pub trait Embedding {
    /// Embeds each input with `model`, or the connection's default.
    fn embed(inputs: Vec<String>, model: Option<String>) -> Result<EmbeddingResult> {
        Err(unsupported("embedding.embed"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_embedding {
    ($plugin:ident) => {
        impl $crate::__private::bindings::embedding::exports::patchbay::connector::embedding::Guest for $plugin {
            fn embed(inputs: Vec<String>, model: Option<String>) -> $crate::Result<$crate::types::EmbeddingResult> {
                $crate::__private::answer(|| <$plugin as $crate::Embedding>::embed(inputs, model))
            }
        }
    };
}

/// Capability: speech to text.
pub trait Transcription {
    /// Transcribes an audio file.
    fn transcribe(audio: Vec<u8>, filename: String, options: TranscriptionOptions) -> Result<TranscriptionResult> {
        Err(unsupported("transcription.transcribe"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_transcription {
    ($plugin:ident) => {
        impl $crate::__private::bindings::transcription::exports::patchbay::connector::transcription::Guest for $plugin {
            fn transcribe(audio: Vec<u8>, filename: String, options: $crate::types::TranscriptionOptions) -> $crate::Result<$crate::types::TranscriptionResult> {
                $crate::__private::answer(|| <$plugin as $crate::Transcription>::transcribe(audio, filename, options))
            }
        }
    };
}

/// Capability: streamed completions. Chunks go to `stream-sink.emit` as
/// they arrive; the return value is the assembled answer.
pub trait Streaming {
    /// Completes a conversation, streaming chunks to `stream-sink`.
    fn stream_complete(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
        Err(unsupported("streaming.stream-complete"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_streaming {
    ($plugin:ident) => {
        impl $crate::__private::bindings::streaming::exports::patchbay::connector::streaming::Guest for $plugin {
            fn stream_complete(messages: Vec<$crate::types::ChatMessage>, model: Option<String>, options: $crate::types::CompletionOptions) -> $crate::Result<$crate::types::LlmResponse> {
                $crate::__private::answer(|| <$plugin as $crate::Streaming>::stream_complete(messages, model, options))
            }
        }
    };
}

/// Capability: image generation.
pub trait ImageGeneration {
    /// Generates images from a prompt.
    fn generate_images(prompt: String, options: ImageOptions) -> Result<ImageResult> {
        Err(unsupported("image-generation.generate-images"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_image_generation {
    ($plugin:ident) => {
        impl $crate::__private::bindings::image_generation::exports::patchbay::connector::image_generation::Guest for $plugin {
            fn generate_images(prompt: String, options: $crate::types::ImageOptions) -> $crate::Result<$crate::types::ImageResult> {
                $crate::__private::answer(|| <$plugin as $crate::ImageGeneration>::generate_images(prompt, options))
            }
        }
    };
}

/// Capability: what a plugin declares beyond `connector.plugin-manifest`,
/// whose record cannot grow within `0.1` (the next minor version folds
/// these into it). Read once, when the plugin is loaded; must be pure.
pub trait ManifestExtension {
    /// Forwarding headers the plugin sets on its own requests because its
    /// provider reads them (`X-Forwarded-For` carrying an end customer's
    /// address for a fraud check or geolocation): any of `Forwarded`,
    /// `X-Forwarded-For`, `X-Forwarded-Host`, `X-Forwarded-Proto`,
    /// `X-Real-IP` and `Via`. The host refuses these headers from every
    /// plugin that does not name them here; `Host`, `Content-Length`,
    /// hop-by-hop and `Proxy-*` headers stay refused whatever is declared.
    /// `patchbay inspect` shows the declaration to the operator.
    fn forwarding_headers() -> Vec<String> {
        Default::default()
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_manifest_extension {
    ($plugin:ident) => {
        impl $crate::__private::bindings::manifest_extension::exports::patchbay::connector::manifest_extension::Guest for $plugin {
            fn forwarding_headers() -> Vec<String> {
                $crate::__private::answer(|| <$plugin as $crate::ManifestExtension>::forwarding_headers())
            }
        }
    };
}

/// Capability: rate budgets a provider reports in the body of its answers,
/// which the host reads after every response of the plugin's connections and
/// paces them by — the in-body counterpart of `Retry-After` and
/// `X-RateLimit-*`, which the host reads from headers for every plugin.
/// Read once, when the plugin is loaded; must be pure.
pub trait RateSignals {
    /// The budget the provider reports in its answers.
    fn budget() -> CostBudget;
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_rate_signals {
    ($plugin:ident) => {
        impl $crate::__private::bindings::rate_signals::exports::patchbay::connector::rate_signals::Guest for $plugin {
            fn budget() -> $crate::types::CostBudget {
                $crate::__private::answer(|| <$plugin as $crate::RateSignals>::budget())
            }
        }
    };
}

/// Capability: a check of the parameters a provider sends the user back
/// with, before the host exchanges the authorization code. For providers that
/// sign their callback (Shopify's `hmac` over the other parameters, keyed by
/// the app's client secret) or name in it what was authorized (Shopify's
/// `shop`): the plugin checks them through `crypto` and its settings; an
/// error refuses the authorization, and no code is exchanged.
pub trait OAuthCallback {
    /// Checks the callback's query parameters, every one as received (name
    /// and value, decoded), `code` and `state` among them.
    fn check_callback(params: Vec<Header>) -> Result<()> {
        Err(unsupported("oauth-callback.check-callback"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_oauth_callback {
    ($plugin:ident) => {
        impl $crate::__private::bindings::oauth_callback::exports::patchbay::connector::oauth_callback::Guest for $plugin {
            fn check_callback(params: Vec<$crate::types::Header>) -> $crate::Result<()> {
                $crate::__private::answer(|| <$plugin as $crate::OAuthCallback>::check_callback(params))
            }
        }
    };
}

/// Capability of a storage adapter: files of any size, passed by
/// reference (`blobs`), so that a file larger than the plugin's memory can
/// be saved and read. The storage port's `save` and `open` carry whole
/// files in the plugin's memory and stay for small ones.
pub trait BlobStorage {
    /// Stores a file from a blob, replacing any previous content; returns
    /// the name it was stored under. A failure leaves no partial file (or
    /// says in its message that it could not clean up).
    fn save_blob(name: String, content: &Blob) -> Result<String> {
        Err(unsupported("blob-storage.save-blob"))
    }
    /// Reads a whole file into a blob.
    fn open_blob(name: String) -> Result<Blob> {
        Err(unsupported("blob-storage.open-blob"))
    }
    /// Reads `length` bytes of a file from `offset` into a blob (fewer at
    /// the end of the file): a resumed download, a look at a part.
    fn open_range(name: String, offset: u64, length: u64) -> Result<Blob> {
        Err(unsupported("blob-storage.open-range"))
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __adapt_blob_storage {
    ($plugin:ident) => {
        impl $crate::__private::bindings::blob_storage::exports::patchbay::connector::blob_storage::Guest for $plugin {
            fn save_blob(name: String, content: &$crate::types::Blob) -> $crate::Result<String> {
                $crate::__private::answer(|| <$plugin as $crate::BlobStorage>::save_blob(name, content))
            }
            fn open_blob(name: String) -> $crate::Result<$crate::types::Blob> {
                $crate::__private::answer(|| <$plugin as $crate::BlobStorage>::open_blob(name))
            }
            fn open_range(name: String, offset: u64, length: u64) -> $crate::Result<$crate::types::Blob> {
                $crate::__private::answer(|| <$plugin as $crate::BlobStorage>::open_range(name, offset, length))
            }
        }
    };
}
