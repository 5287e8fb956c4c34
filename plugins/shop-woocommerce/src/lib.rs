//! Patchbay plugin for the WooCommerce REST API v3.
//!
//! Orders and products of a WooCommerce shop: `GET /wp-json/wc/v3/orders`
//! (paged with `page`/`per_page`, totals in `X-WP-Total`/`X-WP-TotalPages`,
//! `after` for `since`), single orders, products, and stock, price and
//! status updates. The consumer key and secret are secret credentials: the
//! host sends them as HTTP Basic; this plugin only names them. The manifest
//! is `patchbay.toml`.

mod api;
/// WooCommerce JSON to the contract's types; public so that the benchmark
/// can run the same mapping natively.
pub mod mapping;
mod webhooks;

use patchbay_sdk::paging::PageNumber;
use patchbay_sdk::prelude::*;
use serde_json::json;

/// The WooCommerce adapter.
pub struct WooCommerce;

/// How long the store currency is cached in `kv`.
const CURRENCY_TTL_SECONDS: u32 = 3600;

/// The store's currency: the `currency` setting, else WooCommerce's
/// general setting, cached in `kv`.
fn store_currency() -> Result<String> {
    if let Some(currency) = config::get("currency")? {
        return Ok(currency);
    }
    if let Some(currency) = kv::get_string("store-currency")? {
        return Ok(currency);
    }
    #[derive(serde::Deserialize)]
    struct Setting {
        value: String,
    }
    let setting: Setting = api::client()?.get("settings/general/woocommerce_currency").json()?;
    if setting.value.is_empty() {
        return Err(Error::permanent("WooCommerce did not report the store currency"));
    }
    kv::set("store-currency", setting.value.as_bytes(), Some(CURRENCY_TTL_SECONDS))?;
    Ok(setting.value)
}

impl Connector for WooCommerce {
    fn test_connection() -> Result<ConnectionTest> {
        let site = api::site_url()?;
        api::client()?
            .get("products")
            .query("per_page", "1")
            .test_connection(|response| {
                let products = response.header("x-wp-total").and_then(|v| v.trim().parse::<u64>().ok());
                Ok(ConnectionTest {
                    success: true,
                    message: format!("Connected to {site}"),
                    details: json!({ "site": site, "products": products }).to_string(),
                })
            })
    }
}

impl Shop for WooCommerce {
    fn get_orders(query: OrderQuery) -> Result<OrderPage> {
        let page = PageNumber::from_query(query.cursor.as_deref(), query.limit, api::MAX_PAGE_SIZE)?;
        let site = api::site_url()?;
        let call = api::client()?
            .get("orders")
            .query("orderby", "date")
            .query("order", "desc")
            .query_opt("after", query.since.as_deref())
            .query_opt("dates_are_gmt", query.since.as_ref().map(|_| "true"));
        let keep_raw = config::keep_raw_payload()?;
        api::list(call, page, |raw| mapping::order_with(raw, &site, keep_raw))
    }

    fn get_order(order_id: String) -> Result<Order> {
        let id = numeric_id(&order_id, "order")?;
        let raw = api::client()?.get(&format!("orders/{id}")).json()?;
        mapping::order_with(raw, &api::site_url()?, config::keep_raw_payload()?)
    }

    fn get_products(query: ProductQuery) -> Result<ProductPage> {
        let page = PageNumber::from_query(query.cursor.as_deref(), query.limit, api::MAX_PAGE_SIZE)?;
        let currency = store_currency()?;
        let call = api::client()?
            .get("products")
            .query_opt("modified_after", query.since.as_deref())
            .query_opt("dates_are_gmt", query.since.as_ref().map(|_| "true"));
        let keep_raw = config::keep_raw_payload()?;
        api::list(call, page, |raw| mapping::product_with(raw, &currency, keep_raw))
    }

    fn update_product_stock(product_id: String, quantity: i64) -> Result<()> {
        let id = numeric_id(&product_id, "product")?;
        let body = json!({ "manage_stock": true, "stock_quantity": quantity });
        api::client()?.put(&format!("products/{id}")).body_json(&body)?.send()?;
        Ok(())
    }

    fn update_product_price(product_id: String, price: Decimal, currency: String) -> Result<()> {
        let id = numeric_id(&product_id, "product")?;
        let valid_price = !price.is_empty()
            && price.chars().all(|c| c.is_ascii_digit() || c == '.')
            && price.matches('.').count() <= 1;
        if !valid_price {
            return Err(Error::Validation(format!(
                "price {price:?} is not a non-negative decimal like \"19.99\""
            )));
        }
        let store = store_currency()?;
        if !currency.eq_ignore_ascii_case(&store) {
            return Err(Error::Validation(format!(
                "the shop prices in {store}; a price in {currency} cannot be set"
            )));
        }
        let body = json!({ "regular_price": price });
        api::client()?.put(&format!("products/{id}")).body_json(&body)?.send()?;
        Ok(())
    }

    fn update_order_status(order_id: String, status: OrderStatus) -> Result<Order> {
        let id = numeric_id(&order_id, "order")?;
        let body = json!({ "status": mapping::wc_status(status)? });
        let raw = api::client()?.put(&format!("orders/{id}")).body_json(&body)?.json()?;
        mapping::order_with(raw, &api::site_url()?, config::keep_raw_payload()?)
    }
}

/// WooCommerce ids are positive integers; anything else never reaches the API.
fn numeric_id(id: &str, what: &str) -> Result<u64> {
    id.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::Validation(format!("{what} id {id:?} is not a WooCommerce id (a positive integer)")))
}

impl Webhooks for WooCommerce {
    fn verify(headers: Vec<Header>, body: Vec<u8>) -> Result<()> {
        webhooks::verify(&headers, &body)
    }

    fn parse(headers: Vec<Header>, body: Vec<u8>) -> Result<Vec<WebhookEvent>> {
        webhooks::parse(&headers, &body)
    }

    fn register(url: String, events: Vec<String>) -> Result<Registration> {
        webhooks::register(url, events)
    }

    fn list_registrations() -> Result<Vec<Registration>> {
        webhooks::list_registrations()
    }

    fn unregister(id: String) -> Result<()> {
        webhooks::unregister(id)
    }
}

impl WebhookHandshake for WooCommerce {
    fn handshake(request: InboundRequest) -> Result<HandshakeOutcome> {
        webhooks::handshake(&request)
    }
}

patchbay_sdk::export!(WooCommerce: shop, webhooks, webhook_handshake);
