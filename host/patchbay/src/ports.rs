//! Typed handles for every port and capability: `conn.shop()?.get_orders(..)`.

use patchbay_contract::Interface;
use patchbay_contract::bindings::exports::patchbay::connector as exports;
use patchbay_contract::types::*;
use patchbay_outbound::BlobRange;
use patchbay_sandbox::{CallError, CallOptions, answered, trapped};

use crate::connection::Connection;

/// Runs one typed guest function through the connection's call path; the
/// result is flattened by `$outcome` (`answered` for `result<T,
/// connector-error>`, `trapped` for functions that cannot fail).
macro_rules! invoke {
    ($self:ident, $options:expr, $outcome:expr, $call:ident ( $($arg:expr),* )) => {{
        let guest = $self.guest;
        $self
            .conn
            .run($options, move |store, instance, _| {
                Box::pin(async move {
                    let guest = trapped(guest.load(&mut *store, instance))?;
                    ($outcome)(guest.$call(&mut *store, $($arg),*).await)
                })
            })
            .await
    }};
}

macro_rules! handle {
    (
        $(#[$doc:meta])*
        $handle:ident, $accessor:ident, $field:ident, $variant:ident, $module:ident {
            $(
                $(#[$mdoc:meta])*
                fn $method:ident => $call:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty $( [$infallible:ident] )?;
            )*
        }
    ) => {
        $(#[$doc])*
        pub struct $handle<'a> {
            conn: &'a Connection,
            guest: &'a exports::$module::GuestIndices,
        }

        impl Connection {
            #[doc = concat!("The `", stringify!($module), "` interface, when the plugin exports it.")]
            pub fn $accessor(&self) -> Result<$handle<'_>, CallError> {
                match self.plugin.guests.$field.as_ref() {
                    Some(guest) => Ok($handle { conn: self, guest }),
                    None => Err(CallError::Unsupported(format!(
                        "{} does not export `{}`",
                        self.plugin.key(),
                        Interface::$variant
                    ))),
                }
            }
        }

        impl $handle<'_> {
            $(
                $(#[$mdoc])*
                pub async fn $method(&self, $($arg: $ty),*) -> Result<$ret, CallError> {
                    invoke!(self, CallOptions::default(), handle!(@outcome $($infallible)?), $call($($arg),*))
                }
            )*
        }
    };
    (@outcome infallible) => { trapped };
    (@outcome) => { answered };
}

handle! {
    /// The shop port.
    ShopPort, shop, shop, Shop, shop {
        /// Lists orders.
        fn get_orders => call_get_orders(query: &OrderQuery) -> OrderPage;
        /// Fetches one order.
        fn get_order => call_get_order(order_id: &str) -> Order;
        /// Lists products.
        fn get_products => call_get_products(query: &ProductQuery) -> ProductPage;
        /// Sets a product's stock.
        fn update_product_stock => call_update_product_stock(product_id: &str, quantity: i64) -> ();
        /// Sets a product's price.
        fn update_product_price => call_update_product_price(product_id: &str, price: &String, currency: &str) -> ();
        /// Moves an order to a new status.
        fn update_order_status => call_update_order_status(order_id: &str, status: OrderStatus) -> Order;
    }
}

handle! {
    /// The courier port.
    CourierPort, courier, courier, Courier, courier {
        /// Creates a shipment.
        fn generate_awb => call_generate_awb(request: &ShipmentRequest) -> AwbLabel;
        /// Tracks a shipment.
        fn get_tracking => call_get_tracking(tracking_number: &str) -> Shipment;
        /// Cancels a shipment.
        fn cancel_shipment => call_cancel_shipment(tracking_number: &str) -> ();
        /// Lists shipments.
        fn get_shipments => call_get_shipments(query: &ShipmentQuery) -> ShipmentPage;
    }
}

handle! {
    /// The payment port.
    PaymentPort, payment, payment, Payment, payment {
        /// Creates a hosted checkout.
        fn create_checkout_session => call_create_checkout_session(request: &CheckoutRequest) -> CheckoutSession;
        /// Fetches a payment.
        fn get_payment => call_get_payment(payment_id: &str) -> PaymentResult;
        /// Refunds a payment.
        fn refund => call_refund(payment_id: &str, amount: Option<&String>, reason: &str) -> RefundResult;
        /// Lists payments.
        fn list_payments => call_list_payments(filter: &PaymentFilter, cursor: Option<&str>) -> PaymentPage;
        /// Captures an authorized payment.
        fn capture_payment => call_capture_payment(payment_id: &str) -> PaymentResult;
    }
}

handle! {
    /// The messaging port.
    MessagingPort, messaging, messaging, Messaging, messaging {
        /// Sends a message.
        fn send => call_send(message: &OutboundMessage) -> DeliveryReport;
        /// Sends several messages.
        fn send_bulk => call_send_bulk(messages: &[OutboundMessage]) -> Vec<DeliveryReport>;
        /// Replies to a received message.
        fn reply => call_reply(to: &InboundMessage, body: &str) -> DeliveryReport;
    }
}

handle! {
    /// The storage port.
    StoragePort, storage, storage, Storage, storage {
        /// Stores a file.
        fn save => call_save(name: &str, content: &[u8]) -> String;
        /// Reads a file.
        fn open => call_open(name: &str) -> Vec<u8>;
        /// Deletes a file.
        fn delete => call_delete(name: &str) -> ();
        /// Whether a file exists.
        fn exists => call_exists(name: &str) -> bool;
        /// Names in a directory.
        fn listdir => call_listdir(path: &str) -> DirectoryListing;
        /// Size of a file.
        fn size => call_size(name: &str) -> u64;
        /// Files in a directory, with details.
        fn list_files => call_list_files(path: &str) -> Vec<FileInfo>;
    }
}

/// Capability: files of any size, passed by reference. The contents stay
/// in host files: a [`BlobRange`] to save is read as the plugin's requests
/// send it, and a file read comes back as one.
pub struct BlobStoragePort<'a> {
    conn: &'a Connection,
    guest: &'a exports::blob_storage::GuestIndices,
}

impl Connection {
    /// The `blob-storage` interface, when the plugin exports it.
    pub fn blob_storage(&self) -> Result<BlobStoragePort<'_>, CallError> {
        match self.plugin.guests.blob_storage.as_ref() {
            Some(guest) => Ok(BlobStoragePort { conn: self, guest }),
            None => Err(CallError::Unsupported(format!(
                "{} does not export `blob-storage`",
                self.plugin.key()
            ))),
        }
    }
}

impl BlobStoragePort<'_> {
    /// Stores `content` (a whole [`Blob`](crate::outbound::Blob) or a
    /// range of one) as `name`; returns the name it was stored under.
    pub async fn save_blob(&self, name: &str, content: BlobRange) -> Result<String, CallError> {
        let guest = self.guest;
        self.conn
            .run(CallOptions::default(), move |store, instance, _| {
                Box::pin(async move {
                    let blob = trapped(store.data_mut().lend_blob(content))?;
                    let guest = trapped(guest.load(&mut *store, instance))?;
                    answered(guest.call_save_blob(&mut *store, name, blob).await)
                })
            })
            .await
    }

    /// Reads the file `name` into a blob.
    pub async fn open_blob(&self, name: &str) -> Result<BlobRange, CallError> {
        self.read(name, None).await
    }

    /// Reads `length` bytes of the file `name` from `offset` into a blob
    /// (fewer at the end of the file).
    pub async fn open_range(&self, name: &str, offset: u64, length: u64) -> Result<BlobRange, CallError> {
        self.read(name, Some((offset, length))).await
    }

    /// Reads a file, or a range of it, and takes the blob the plugin answers.
    async fn read(&self, name: &str, range: Option<(u64, u64)>) -> Result<BlobRange, CallError> {
        let guest = self.guest;
        self.conn
            .run(CallOptions::default(), move |store, instance, _| {
                Box::pin(async move {
                    let loaded = trapped(guest.load(&mut *store, instance))?;
                    let answer = match range {
                        None => loaded.call_open_blob(&mut *store, name).await,
                        Some((offset, length)) => loaded.call_open_range(&mut *store, name, offset, length).await,
                    };
                    let blob = answered(answer)?;
                    trapped(store.data_mut().take_blob(blob))
                })
            })
            .await
    }
}

handle! {
    /// The LLM port.
    LlmPort, llm, llm, Llm, llm {
        /// Completes a conversation.
        fn complete => call_complete(messages: &[ChatMessage], model: Option<&str>, options: &CompletionOptions) -> LlmResponse;
        /// Lists models.
        fn list_models => call_list_models() -> Vec<ModelInfo>;
    }
}

handle! {
    /// The feed port.
    FeedPort, feed, feed, Feed, feed {
        /// Renders a feed.
        fn generate_feed => call_generate_feed(products: &[Product], format: &str) -> FeedResult;
        /// Validates products for the feed.
        fn validate_products => call_validate_products(products: &[Product]) -> FeedValidationResult;
        /// Formats the plugin produces.
        fn supported_formats => call_supported_formats() -> Vec<FeedFormat> [infallible];
    }
}

handle! {
    /// Generic actions.
    ActionsPort, actions, actions, Actions, actions {
        /// Lists the actions.
        fn list_actions => call_list_actions() -> Vec<ActionSpec> [infallible];
        /// Runs an action with JSON input.
        fn execute => call_execute(name: &str, input: &String) -> String;
    }
}

handle! {
    /// Capability: webhooks.
    WebhooksPort, webhooks, webhooks, Webhooks, webhooks {
        /// Verifies a delivery's signature.
        fn verify => call_verify(headers: &[Header], body: &[u8]) -> ();
        /// Parses a verified delivery into events.
        fn parse => call_parse(headers: &[Header], body: &[u8]) -> Vec<WebhookEvent>;
        /// Subscribes a URL at the provider.
        fn register => call_register(url: &str, events: &[String]) -> Registration;
        /// Lists subscriptions at the provider.
        fn list_registrations => call_list_registrations() -> Vec<Registration>;
        /// Removes a subscription.
        fn unregister => call_unregister(id: &str) -> ();
    }
}

/// What the ingress does with a request, as the plugin decided.
#[derive(Debug, Clone)]
pub enum Reception {
    /// A delivery that passed `verify`: store it, then answer `200`, or
    /// with the plugin's reply.
    Deliver(Option<Reply>),
    /// A challenge the plugin answered: send the reply, store nothing.
    Answer(Reply),
    /// A request other than a `POST` that the handshake did not answer:
    /// deliveries are POSTed, so it is neither (405); nothing was verified.
    Unanswered,
}

impl WebhooksPort<'_> {
    /// Receives a request to the connection's ingress in one call (one
    /// instance): `webhook-handshake.handshake` when the plugin exports it,
    /// then `verify` unless it was a challenge. An error is the plugin's
    /// refusal (or a fault): nothing of the request may be kept.
    pub async fn receive(&self, request: &InboundRequest) -> Result<Reception, CallError> {
        let (webhooks, handshake) = (self.guest, self.conn.plugin.guests.webhook_handshake.as_ref());
        self.conn
            .run(CallOptions::default(), move |store, instance, _| {
                Box::pin(async move {
                    let reply = match handshake {
                        Some(handshake) => {
                            let guest = trapped(handshake.load(&mut *store, instance))?;
                            match answered(guest.call_handshake(&mut *store, request).await)? {
                                HandshakeOutcome::Answer(reply) => return Ok(Reception::Answer(reply)),
                                HandshakeOutcome::DeliverWithReply(reply) => Some(reply),
                                HandshakeOutcome::Deliver => None,
                            }
                        }
                        None => None,
                    };
                    if request.method != "POST" {
                        return Ok(Reception::Unanswered);
                    }
                    let guest = trapped(webhooks.load(&mut *store, instance))?;
                    answered(guest.call_verify(&mut *store, &request.headers, &request.body).await)?;
                    Ok(Reception::Deliver(reply))
                })
            })
            .await
    }
}

handle! {
    /// Capability: a non-standard OAuth flow.
    OAuthPort, oauth, oauth, OAuth, oauth {
        /// The authorization URL.
        fn authorize_url => call_authorize_url(params: &AuthorizeParams) -> String;
        /// Describes a token request.
        fn token_request => call_token_request(grant: &TokenGrant, redirect_uri: &str) -> TokenRequestSpec;
    }
}

handle! {
    /// Capability: bulk updates.
    BulkUpdatePort, bulk_update, bulk_update, BulkUpdate, bulk_update {
        /// Partial product updates.
        fn update_products => call_update_products(updates: &[ProductUpdate]) -> BulkResult;
        /// Stock levels.
        fn update_stock => call_update_stock(updates: &[StockUpdate]) -> BulkResult;
    }
}

handle! {
    /// Capability: invoices on orders.
    InvoiceAttachmentPort, invoice_attachment, invoice_attachment, InvoiceAttachment, invoice_attachment {
        /// Attaches an invoice to an order.
        fn attach_invoice => call_attach_invoice(order_id: &str, invoice: &Invoice) -> ();
    }
}

handle! {
    /// Capability: a shop's own catalogue feed.
    ProductFeedPort, product_feed, product_feed, ProductFeed, product_feed {
        /// Exports the catalogue.
        fn export_products => call_export_products(format: &str) -> FeedResult;
    }
}

handle! {
    /// Capability: embeddings.
    EmbeddingPort, embedding, embedding, Embedding, embedding {
        /// Embeds texts.
        fn embed => call_embed(inputs: &[String], model: Option<&str>) -> EmbeddingResult;
    }
}

handle! {
    /// Capability: transcription.
    TranscriptionPort, transcription, transcription, Transcription, transcription {
        /// Transcribes audio.
        fn transcribe => call_transcribe(audio: &[u8], filename: &str, options: &TranscriptionOptions) -> TranscriptionResult;
    }
}

handle! {
    /// Capability: image generation.
    ImageGenerationPort, image_generation, image_generation, ImageGeneration, image_generation {
        /// Generates images.
        fn generate_images => call_generate_images(prompt: &str, options: &ImageOptions) -> ImageResult;
    }
}

/// Capability: streamed completions.
pub struct StreamingPort<'a> {
    conn: &'a Connection,
    guest: &'a exports::streaming::GuestIndices,
}

impl Connection {
    /// The `streaming` interface, when the plugin exports it.
    pub fn streaming(&self) -> Result<StreamingPort<'_>, CallError> {
        match self.plugin.guests.streaming.as_ref() {
            Some(guest) => Ok(StreamingPort { conn: self, guest }),
            None => Err(CallError::Unsupported(format!(
                "{} does not export `streaming`",
                self.plugin.key()
            ))),
        }
    }
}

impl StreamingPort<'_> {
    /// Completes a conversation; each chunk is sent to `sink` as it arrives.
    pub async fn stream_complete(
        &self,
        messages: &[ChatMessage],
        model: Option<&str>,
        options: &CompletionOptions,
        sink: tokio::sync::mpsc::UnboundedSender<StreamChunk>,
    ) -> Result<LlmResponse, CallError> {
        let options_ = CallOptions { stream: Some(sink) };
        invoke!(self, options_, answered, call_stream_complete(messages, model, options))
    }
}

handle! {
    /// Capability: a check of an authorization's callback before its code is
    /// exchanged.
    OAuthCallbackPort, oauth_callback, oauth_callback, OAuthCallback, oauth_callback {
        /// Checks the callback's query parameters.
        fn check_callback => call_check_callback(params: &[Header]) -> ();
    }
}
