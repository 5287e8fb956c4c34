//! Patchbay plugin for Shopify, on the GraphQL Admin API (the REST Admin API
//! is legacy for new apps).
//!
//! Orders and products with cursor paging (`first`/`after`, `pageInfo`) and
//! `since` as a search query (`updated_at:>…`); money from the `*Set {
//! shopMoney }` fields; stock through `inventorySetQuantities`, prices
//! through `productVariantsBulkUpdate`, order status where Shopify lets an
//! app set it; the `bulk-update` capability; Shopify's signed webhooks. The
//! API throttles by query cost: the plugin declares where the answers report
//! the budget (`rate-signals`) and the host paces by it. The manifest is
//! `patchbay.toml`.

mod api;
mod install;
/// Shopify's objects → the contract's.
pub mod mapping;
mod queries;
mod webhooks;

use patchbay_sdk::prelude::*;
use patchbay_sdk::{config, kv};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Kind, gid, graphql, kind_of, number, user_errors};

/// The Shopify adapter.
pub struct Shopify;

/// Orders per page: each carries 20 line items, and a query may request
/// at most 1000 points of cost.
const MAX_ORDERS: u32 = 8;
/// Products per page, each with 20 variants and 5 images.
const MAX_PRODUCTS: u32 = 10;
/// Quantities per `inventorySetQuantities` (Shopify's limit: 250).
const MAX_QUANTITIES: usize = 250;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Connection {
    nodes: Vec<Value>,
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
}

fn store_url() -> Result<String> {
    Ok(config::require("store_url")?.trim_end_matches('/').to_string())
}

/// The search query of `since`: Shopify's `updated_at:>'…'`.
fn since_query(since: Option<&str>) -> Result<Option<String>> {
    since
        .map(|since| {
            let seconds = patchbay_sdk::time::unix(since)?;
            Ok(format!("updated_at:>'{}'", patchbay_sdk::time::rfc3339(seconds)))
        })
        .transpose()
}

/// Follows a nested connection (`lineItems`, `variants`) past its first
/// page, appending the rest to `first`.
fn rest_of(first: &mut Value, key: &str, operation: &str, document: &str, root: &str, id: &str) -> Result<()> {
    let mut info: PageInfo = serde_json::from_value(first[key]["pageInfo"].clone()).unwrap_or(PageInfo {
        has_next_page: false,
        end_cursor: None,
    });
    while info.has_next_page {
        let data: Value = graphql(operation, document, json!({ "id": id, "after": info.end_cursor }))?;
        let page: Connection = serde_json::from_value(data[root][key].clone())
            .map_err(|e| Error::provider(format!("Shopify's {key} page: {e}")))?;
        if let Some(nodes) = first[key]["nodes"].as_array_mut() {
            nodes.extend(page.nodes);
        }
        info = page.page_info;
    }
    Ok(())
}

fn order_of(mut node: Value, store: &str) -> Result<Order> {
    let id = node["id"].as_str().unwrap_or_default().to_string();
    rest_of(
        &mut node,
        "lineItems",
        "LineItems",
        &queries::line_items(),
        "order",
        &id,
    )?;
    mapping::order(&node, store)
}

fn fetch_order(id: &str) -> Result<Order> {
    let id = gid(id, Kind::Order)?;
    let data: Value = graphql("Order", &queries::order(), json!({ "id": id }))?;
    match data.get("order") {
        Some(node) if !node.is_null() => order_of(node.clone(), &store_url()?),
        _ => Err(Error::NotFound(format!("Shopify has no order {id}"))),
    }
}

/// What a stock or price change needs of a product or variant id.
struct Target {
    variant: String,
    product: String,
    inventory_item: String,
    currency: String,
}

/// A variant id, or a product id with exactly one variant.
fn target(id: &str) -> Result<Target> {
    let kind = kind_of(id).unwrap_or(Kind::Product);
    if kind == Kind::Variant {
        let id = gid(id, Kind::Variant)?;
        let data: Value = graphql("Variant", queries::VARIANT, json!({ "id": id }))?;
        let variant = &data["productVariant"];
        if variant.is_null() {
            return Err(Error::NotFound(format!("Shopify has no variant {id}")));
        }
        return Ok(Target {
            variant: id,
            product: variant["product"]["id"].as_str().unwrap_or_default().into(),
            inventory_item: variant["inventoryItem"]["id"].as_str().unwrap_or_default().into(),
            currency: data["shop"]["currencyCode"].as_str().unwrap_or_default().into(),
        });
    }
    let id = gid(id, Kind::Product)?;
    let data: Value = graphql("ProductVariants", queries::PRODUCT_VARIANTS, json!({ "id": id }))?;
    let product = &data["product"];
    if product.is_null() {
        return Err(Error::NotFound(format!("Shopify has no product {id}")));
    }
    let variants = product["variants"]["nodes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    match variants {
        [only] => Ok(Target {
            variant: only["id"].as_str().unwrap_or_default().into(),
            product: id,
            inventory_item: only["inventoryItem"]["id"].as_str().unwrap_or_default().into(),
            currency: data["shop"]["currencyCode"].as_str().unwrap_or_default().into(),
        }),
        _ => Err(Error::Validation(format!(
            "product {} has several variants: name the variant (gid://shopify/ProductVariant/…)",
            number(&id)
        ))),
    }
}

/// The location whose stock is set: the setting, or the store's first.
fn location() -> Result<String> {
    if let Some(id) = config::get("location_id")?.filter(|l| !l.trim().is_empty()) {
        return gid(&id, Kind::Location);
    }
    const KEY: &str = "shopify/location";
    if let Some(id) = kv::get_string(KEY)? {
        return Ok(id);
    }
    let data: Value = graphql("Locations", queries::LOCATIONS, json!({}))?;
    let id = data["locations"]["nodes"][0]["id"]
        .as_str()
        .ok_or_else(|| Error::Config("the store has no location to keep stock at".into()))?
        .to_string();
    kv::set(KEY, id.as_bytes(), Some(3600))?;
    Ok(id)
}

/// Sets available quantities (inventory item, quantity) at the location,
/// 250 at a time; the failures by index.
fn set_stock(quantities: &[(usize, String, i64)]) -> Result<Vec<BulkError>> {
    let location = location()?;
    let mut errors = Vec::new();
    for chunk in quantities.chunks(MAX_QUANTITIES) {
        let key = api::idempotency_key("stock");
        let input = json!({
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": true,
            "quantities": chunk.iter().map(|(_, item, quantity)| json!({
                "inventoryItemId": item, "locationId": location, "quantity": quantity,
            })).collect::<Vec<_>>(),
        });
        let data: Value = graphql("SetStock", queries::SET_STOCK, json!({ "input": input, "key": key }))?;
        if let Err(Error::Validation(message)) = user_errors(&data["inventorySetQuantities"]) {
            errors.extend(chunk.iter().map(|(index, item, _)| BulkError {
                index: *index as u32,
                id: number(item),
                message: message.clone(),
            }));
        }
    }
    Ok(errors)
}

/// Sets variants' prices, one product at a time.
fn set_prices(product: &str, prices: &[(String, String)]) -> Result<()> {
    let variants: Vec<Value> = prices
        .iter()
        .map(|(variant, price)| json!({ "id": variant, "price": price }))
        .collect();
    let data: Value = graphql(
        "SetPrices",
        queries::SET_PRICES,
        json!({ "productId": product, "variants": variants }),
    )?;
    user_errors(&data["productVariantsBulkUpdate"])
}

/// A price as Shopify reads it: a non-negative decimal, in the store's
/// currency.
fn price(price: &str, currency: &str, store_currency: &str) -> Result<String> {
    let price = price.trim();
    if !price.parse::<f64>().is_ok_and(|p| p.is_finite() && p >= 0.0) {
        return Err(Error::Validation(format!("price {price:?} is not an amount")));
    }
    if !currency.trim().is_empty()
        && !store_currency.is_empty()
        && !currency.trim().eq_ignore_ascii_case(store_currency)
    {
        return Err(Error::Validation(format!(
            "currency {currency:?}: the store prices in {store_currency}"
        )));
    }
    Ok(price.to_string())
}

impl Connector for Shopify {
    fn test_connection() -> Result<ConnectionTest> {
        match graphql::<Value>("Shop", queries::SHOP, json!({})) {
            Ok(data) => {
                let shop = &data["shop"];
                Ok(ConnectionTest {
                    success: true,
                    message: format!("Connected to {}", shop["name"].as_str().unwrap_or("the store")),
                    details: json!({
                        "domain": shop["myshopifyDomain"],
                        "currency": shop["currencyCode"],
                        "plan": shop["plan"]["displayName"],
                    })
                    .to_string(),
                })
            }
            Err(Error::Auth(message)) => Ok(ConnectionTest {
                success: false,
                message,
                details: "{}".into(),
            }),
            Err(other) => Err(other),
        }
    }
}

impl Shop for Shopify {
    fn get_orders(query: OrderQuery) -> Result<OrderPage> {
        let first = query.limit.unwrap_or(MAX_ORDERS).clamp(1, MAX_ORDERS);
        let data: Value = graphql(
            "Orders",
            &queries::orders(),
            json!({
                "first": first,
                "after": query.cursor,
                "query": since_query(query.since.as_deref())?,
            }),
        )?;
        let page: Connection = serde_json::from_value(data["orders"].clone())
            .map_err(|e| Error::provider(format!("Shopify's orders page: {e}")))?;
        let store = store_url()?;
        Ok(OrderPage {
            items: page
                .nodes
                .into_iter()
                .map(|node| order_of(node, &store))
                .collect::<Result<_>>()?,
            next_cursor: page.page_info.end_cursor.filter(|_| page.page_info.has_next_page),
            has_more: page.page_info.has_next_page,
            total: None,
        })
    }

    fn get_order(order_id: String) -> Result<Order> {
        fetch_order(&order_id)
    }

    fn get_products(query: ProductQuery) -> Result<ProductPage> {
        let first = query.limit.unwrap_or(MAX_PRODUCTS).clamp(1, MAX_PRODUCTS);
        let data: Value = graphql(
            "Products",
            &queries::products(),
            json!({
                "first": first,
                "after": query.cursor,
                "query": since_query(query.since.as_deref())?,
            }),
        )?;
        let currency = data["shop"]["currencyCode"].as_str().unwrap_or_default().to_string();
        let page: Connection = serde_json::from_value(data["products"].clone())
            .map_err(|e| Error::provider(format!("Shopify's products page: {e}")))?;
        let store = store_url()?;
        let items = page
            .nodes
            .into_iter()
            .map(|mut node| {
                let id = node["id"].as_str().unwrap_or_default().to_string();
                rest_of(&mut node, "variants", "Variants", &queries::variants(), "product", &id)?;
                mapping::product(&node, &currency, &store)
            })
            .collect::<Result<_>>()?;
        Ok(ProductPage {
            items,
            next_cursor: page.page_info.end_cursor.filter(|_| page.page_info.has_next_page),
            has_more: page.page_info.has_next_page,
            total: None,
        })
    }

    fn update_product_stock(product_id: String, quantity: i64) -> Result<()> {
        let target = target(&product_id)?;
        match set_stock(&[(0, target.inventory_item, quantity)])?.pop() {
            Some(error) => Err(Error::Validation(error.message)),
            None => Ok(()),
        }
    }

    fn update_product_price(product_id: String, price: String, currency: String) -> Result<()> {
        let target = target(&product_id)?;
        let price = self::price(&price, &currency, &target.currency)?;
        set_prices(&target.product, &[(target.variant, price)])
    }

    fn update_order_status(order_id: String, status: OrderStatus) -> Result<Order> {
        let id = gid(&order_id, Kind::Order)?;
        match status {
            OrderStatus::Cancelled => {
                let data: Value = graphql("CancelOrder", queries::CANCEL_ORDER, json!({ "orderId": id }))?;
                user_errors(&data["orderCancel"])?;
            }
            OrderStatus::Shipped => {
                let data: Value = graphql("FulfillmentOrders", queries::FULFILLMENT_ORDERS, json!({ "id": id }))?;
                if data["order"].is_null() {
                    return Err(Error::NotFound(format!("Shopify has no order {id}")));
                }
                let open: Vec<Value> = data["order"]["fulfillmentOrders"]["nodes"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter(|f| matches!(f["status"].as_str(), Some("OPEN" | "IN_PROGRESS")))
                    .map(|f| json!({ "fulfillmentOrderId": f["id"] }))
                    .collect();
                if open.is_empty() {
                    return Err(Error::Validation(format!(
                        "order {} has nothing left to ship",
                        number(&id)
                    )));
                }
                let fulfillment = json!({ "lineItemsByFulfillmentOrder": open, "notifyCustomer": false });
                let data: Value = graphql("Fulfill", queries::FULFILL, json!({ "fulfillment": fulfillment }))?;
                user_errors(&data["fulfillmentCreate"])?;
            }
            OrderStatus::Processing | OrderStatus::Accepted => {
                let data: Value = graphql("OpenOrder", queries::OPEN_ORDER, json!({ "input": { "id": id } }))?;
                user_errors(&data["orderOpen"])?;
            }
            other => {
                return Err(Error::Validation(format!(
                    "Shopify does not let an app set an order to {other:?}: it follows from payments \
                     (pending, refunded), returns (returned) and the carrier's tracking (delivered)"
                )));
            }
        }
        fetch_order(&id)
    }
}

impl BulkUpdate for Shopify {
    fn update_products(updates: Vec<ProductUpdate>) -> Result<BulkResult> {
        let total = updates.len() as u32;
        let mut errors: Vec<BulkError> = Vec::new();
        let mut stock: Vec<(usize, String, i64)> = Vec::new();
        // Prices grouped by product: one productVariantsBulkUpdate each.
        let mut prices: Vec<(String, Vec<PriceChange>)> = Vec::new();
        for (index, update) in updates.iter().enumerate() {
            let outcome = (|| -> Result<()> {
                let needs_target = update.stock.is_some() || update.price.is_some();
                let target = if needs_target {
                    Some(target(&update.product_id)?)
                } else {
                    None
                };
                if let (Some(target), Some(quantity)) = (&target, update.stock) {
                    stock.push((index, target.inventory_item.clone(), quantity));
                }
                if let (Some(target), Some(amount)) = (&target, &update.price) {
                    let amount = price(amount, update.currency.as_deref().unwrap_or_default(), &target.currency)?;
                    match prices.iter_mut().find(|(p, _)| *p == target.product) {
                        Some((_, list)) => list.push((index, target.variant.clone(), amount)),
                        None => prices.push((target.product.clone(), vec![(index, target.variant.clone(), amount)])),
                    }
                }
                if update.name.is_some() || update.description.is_some() || update.active.is_some() {
                    let id = match kind_of(&update.product_id) {
                        Some(Kind::Variant) => target
                            .as_ref()
                            .map(|t| t.product.clone())
                            .ok_or_else(|| Error::Validation("name the product, not a variant, to rename it".into()))?,
                        _ => gid(&update.product_id, Kind::Product)?,
                    };
                    let mut product = json!({ "id": id });
                    if let Some(name) = &update.name {
                        product["title"] = json!(name);
                    }
                    if let Some(description) = &update.description {
                        product["descriptionHtml"] = json!(description);
                    }
                    if let Some(active) = update.active {
                        product["status"] = json!(if active { "ACTIVE" } else { "DRAFT" });
                    }
                    let data: Value = graphql("UpdateProduct", queries::UPDATE_PRODUCT, json!({ "product": product }))?;
                    user_errors(&data["productUpdate"])?;
                }
                Ok(())
            })();
            if let Err(error) = outcome {
                if !matches!(error, Error::Validation(_) | Error::NotFound(_)) {
                    return Err(error);
                }
                errors.push(BulkError {
                    index: index as u32,
                    id: update.product_id.clone(),
                    message: error.message(),
                });
            }
        }
        for (product, list) in &prices {
            let pairs: Vec<(String, String)> = list.iter().map(|(_, v, p)| (v.clone(), p.clone())).collect();
            if let Err(error) = set_prices(product, &pairs) {
                if !matches!(error, Error::Validation(_)) {
                    return Err(error);
                }
                errors.extend(list.iter().map(|(index, variant, _)| BulkError {
                    index: *index as u32,
                    id: number(variant),
                    message: error.message(),
                }));
            }
        }
        errors.extend(set_stock(&stock)?);
        Ok(result(total, errors))
    }

    fn update_stock(updates: Vec<StockUpdate>) -> Result<BulkResult> {
        let total = updates.len() as u32;
        let mut errors = Vec::new();
        let mut stock = Vec::new();
        for (index, update) in updates.iter().enumerate() {
            match target(&update.product_id) {
                Ok(target) => stock.push((index, target.inventory_item, update.quantity)),
                Err(error @ (Error::Validation(_) | Error::NotFound(_))) => errors.push(BulkError {
                    index: index as u32,
                    id: update.product_id.clone(),
                    message: error.message(),
                }),
                Err(other) => return Err(other),
            }
        }
        errors.extend(set_stock(&stock)?);
        Ok(result(total, errors))
    }
}

/// A variant's new price: the update's index, the variant, the price.
type PriceChange = (usize, String, String);

fn result(total: u32, mut errors: Vec<BulkError>) -> BulkResult {
    errors.sort_by_key(|e| e.index);
    errors.dedup_by_key(|e| e.index);
    let failed = errors.len() as u32;
    BulkResult {
        total,
        succeeded: total - failed,
        failed,
        errors,
    }
}

impl Webhooks for Shopify {
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

/// Shopify signs the OAuth callback: checked before the host exchanges the
/// code.
impl OAuthCallback for Shopify {
    fn check_callback(params: Vec<Header>) -> Result<()> {
        install::check_callback(&params)
    }
}

/// Where Shopify's answers report the query-cost budget:
/// `extensions.cost` (<https://shopify.dev/docs/api/usage/limits>), and how
/// a `THROTTLED` refusal reads.
impl RateSignals for Shopify {
    fn budget() -> CostBudget {
        CostBudget {
            available: "/extensions/cost/throttleStatus/currentlyAvailable".into(),
            restore_rate: "/extensions/cost/throttleStatus/restoreRate".into(),
            cost: "/extensions/cost/requestedQueryCost".into(),
            refusal: Some(BudgetRefusal {
                items: "/errors".into(),
                code: "/extensions/code".into(),
                value: "THROTTLED".into(),
            }),
        }
    }
}

patchbay_sdk::export!(Shopify: shop, bulk_update, webhooks, rate_signals, oauth_callback);
