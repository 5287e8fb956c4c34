//! Patchbay plugin for the WooCommerce REST API v3.
//!
//! Orders and products of a WooCommerce shop: `GET /wp-json/wc/v3/orders`
//! (paged with `page`/`per_page`, totals in `X-WP-Total`/`X-WP-TotalPages`,
//! `after` for `since`), single orders, products, and stock, price and
//! status updates. The consumer key and secret are secret credentials: the
//! host sends them as HTTP Basic; this plugin only names them.

mod api;
/// WooCommerce JSON to the contract's types; public so that the benchmark
/// can run the same mapping natively.
pub mod mapping;

use patchbay_sdk::prelude::*;
use serde_json::json;

/// The WooCommerce adapter.
pub struct WooCommerce;

/// How long the store currency is cached in `kv`.
const CURRENCY_TTL_SECONDS: u32 = 3600;

fn text_setting(name: &str, label: &str, kind: SettingType, required: bool, help: &str) -> SettingField {
    SettingField {
        name: name.into(),
        label: label.into(),
        type_: kind,
        required,
        default: None,
        choices: Vec::new(),
        help: help.into(),
    }
}

fn secret(name: &str, label: &str, help: &str) -> CredentialField {
    CredentialField {
        name: name.into(),
        label: label.into(),
        secret: true,
        required: true,
        default: None,
        choices: Vec::new(),
        help: help.into(),
    }
}

/// The store's currency: the `currency` setting, else WooCommerce's
/// general setting, cached in `kv`.
fn store_currency() -> Result<String> {
    if let Some(currency) = config::get("currency")? {
        return Ok(currency);
    }
    if let Some(currency) = kv::get_string("store-currency")? {
        return Ok(currency);
    }
    let setting: serde_json::Value =
        api::send(Request::get(api::endpoint("settings/general/woocommerce_currency")?))?.json()?;
    let currency = setting
        .get("value")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::permanent("WooCommerce did not report the store currency"))?
        .to_string();
    kv::set("store-currency", currency.as_bytes(), Some(CURRENCY_TTL_SECONDS))?;
    Ok(currency)
}

impl Connector for WooCommerce {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "woocommerce".into(),
            family: Family::Shop,
            display_name: "WooCommerce".into(),
            description: "Orders and products of a WooCommerce shop through the WooCommerce REST API v3.".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            contract_version: patchbay_sdk::CONTRACT_VERSION.into(),
            credentials: vec![
                secret(
                    "consumer_key",
                    "Consumer key",
                    "WooCommerce → Settings → Advanced → REST API (ck_...).",
                ),
                secret(
                    "consumer_secret",
                    "Consumer secret",
                    "Shown once, beside the consumer key (cs_...).",
                ),
            ],
            settings: vec![
                text_setting(
                    "domain",
                    "Shop URL",
                    SettingType::Url,
                    true,
                    "The shop's address, e.g. https://shop.example.com; the plugin may reach only this origin.",
                ),
                text_setting(
                    "currency",
                    "Store currency",
                    SettingType::Text,
                    false,
                    "ISO 4217 code of product prices; read from the shop's settings when empty.",
                ),
            ],
            auth: AuthSpec {
                strategy: AuthStrategy::Basic,
                oauth2: None,
            },
            allowed_hosts: vec!["{{setting.domain}}".into()],
            rate_limit: Some(RateLimitHint {
                requests_per_second: 5.0,
                burst: 10,
            }),
            retry: Some(RetryHint {
                max_retries: 3,
                retryable_statuses: vec![429, 500, 502, 503, 504],
            }),
            webhooks: None,
        }
    }

    fn test_connection() -> Result<ConnectionTest> {
        let site = api::site_url()?;
        match api::list(Request::get(api::endpoint("products")?).query("per_page", "1"), 1) {
            Ok(page) => Ok(ConnectionTest {
                success: true,
                message: format!("Connected to {site}"),
                details: json!({ "site": site, "products": page.total }).to_string(),
            }),
            Err(Error::Auth(message)) => Ok(ConnectionTest {
                success: false,
                message: format!("WooCommerce refused the credentials: {message}"),
                details: json!({ "site": site }).to_string(),
            }),
            Err(other) => Err(other),
        }
    }
}

impl Shop for WooCommerce {
    fn get_orders(query: OrderQuery) -> Result<OrderPage> {
        let page = paging::page_from_cursor(query.cursor.as_deref())?;
        let site = api::site_url()?;
        let request = Request::get(api::endpoint("orders")?)
            .query("per_page", api::page_size(query.limit).to_string())
            .query("orderby", "date")
            .query("order", "desc")
            .query_opt("after", query.since.as_deref())
            .query_opt("dates_are_gmt", query.since.as_ref().map(|_| "true"));
        let listed = api::list(request, page)?;
        let items = listed
            .items
            .iter()
            .map(|raw| mapping::order(raw, &site))
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = listed.next_cursor();
        Ok(OrderPage {
            items,
            has_more: next_cursor.is_some(),
            next_cursor,
            total: listed.total,
        })
    }

    fn get_order(order_id: String) -> Result<Order> {
        let id = numeric_id(&order_id, "order")?;
        let raw: serde_json::Value = api::send(Request::get(api::endpoint(&format!("orders/{id}"))?))?.json()?;
        mapping::order(&raw, &api::site_url()?)
    }

    fn get_products(query: ProductQuery) -> Result<ProductPage> {
        let page = paging::page_from_cursor(query.cursor.as_deref())?;
        let currency = store_currency()?;
        let request = Request::get(api::endpoint("products")?)
            .query("per_page", api::page_size(query.limit).to_string())
            .query_opt("modified_after", query.since.as_deref())
            .query_opt("dates_are_gmt", query.since.as_ref().map(|_| "true"));
        let listed = api::list(request, page)?;
        let items = listed
            .items
            .iter()
            .map(|raw| mapping::product(raw, &currency))
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = listed.next_cursor();
        Ok(ProductPage {
            items,
            has_more: next_cursor.is_some(),
            next_cursor,
            total: listed.total,
        })
    }

    fn update_product_stock(product_id: String, quantity: i64) -> Result<()> {
        let id = numeric_id(&product_id, "product")?;
        let body = json!({ "manage_stock": true, "stock_quantity": quantity });
        api::send(Request::put(api::endpoint(&format!("products/{id}"))?).json(&body)?)?;
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
        api::send(Request::put(api::endpoint(&format!("products/{id}"))?).json(&body)?)?;
        Ok(())
    }

    fn update_order_status(order_id: String, status: OrderStatus) -> Result<Order> {
        let id = numeric_id(&order_id, "order")?;
        let body = json!({ "status": mapping::wc_status(status)? });
        let raw: serde_json::Value =
            api::send(Request::put(api::endpoint(&format!("orders/{id}"))?).json(&body)?)?.json()?;
        mapping::order(&raw, &api::site_url()?)
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

patchbay_sdk::export!(WooCommerce: shop);
