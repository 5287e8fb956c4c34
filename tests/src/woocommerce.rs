//! A mock WooCommerce REST API v3 (`/wp-json/wc/v3`), serving what the real
//! one serves: JSON arrays, `X-WP-Total` / `X-WP-TotalPages`, Basic auth (or
//! `consumer_key`/`consumer_secret` query parameters), and WooCommerce's
//! error bodies `{"code": ..., "message": ..., "data": {"status": ...}}`.

// Handlers return ready responses as their early-exit errors, as axum does.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::mock::{RequestLog, RunningServer, SeenRequest};

/// The shop the mock serves.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    /// Number of orders, ids 1..=n, one hour apart from 2026-01-01T00:00:00Z.
    pub orders: u32,
    /// Number of products, ids 1..=n.
    pub products: u32,
    /// The valid consumer key.
    pub consumer_key: String,
    /// The valid consumer secret.
    pub consumer_secret: String,
    /// The store currency.
    pub currency: String,
}

impl Default for ShopConfig {
    fn default() -> Self {
        Self {
            orders: 250,
            products: 40,
            consumer_key: "ck_test".into(),
            consumer_secret: "cs_test".into(),
            currency: "RON".into(),
        }
    }
}

const STATUSES: [&str; 7] = [
    "processing",
    "completed",
    "on-hold",
    "pending",
    "cancelled",
    "refunded",
    "failed",
];
const PAYMENT_METHODS: [(&str, &str); 4] = [
    ("cod", "Cash on delivery"),
    ("bacs", "Direct bank transfer"),
    ("stripe", "Credit card"),
    ("cheque", "Check payments"),
];

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn date(id: u32) -> String {
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    (base + Duration::hours(i64::from(id)))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// The order with this id, as WooCommerce returns it.
pub fn order(id: u32) -> Value {
    let status = STATUSES[(id as usize) % STATUSES.len()];
    let (method, method_title) = PAYMENT_METHODS[(id as usize) % PAYMENT_METHODS.len()];
    let lines = 1 + id % 3;
    let mut items = Vec::new();
    let mut subtotal = 0i64;
    for line in 0..lines {
        let product = 1 + (id + line) % 40;
        let quantity = 1 + i64::from((id + line) % 4);
        let unit = 1000 + i64::from(product) * 250;
        subtotal += unit * quantity;
        items.push(json!({
            "id": id * 10 + line, "name": format!("Product {product}"), "product_id": product,
            "variation_id": 0, "quantity": quantity, "tax_class": "", "subtotal": money(unit * quantity),
            "subtotal_tax": "0.00", "total": money(unit * quantity), "total_tax": "0.00", "taxes": [],
            "meta_data": [], "sku": format!("SKU-{product:03}"), "price": unit as f64 / 100.0
        }));
    }
    let shipping = 1500i64;
    let created = date(id);
    let paid = matches!(status, "processing" | "completed" | "refunded");
    json!({
        "id": id, "parent_id": 0, "number": format!("{id}"), "order_key": format!("wc_order_{id:08x}"),
        "created_via": "checkout", "version": "9.4.0", "status": status, "currency": "RON",
        "date_created": created, "date_created_gmt": created, "date_modified": created, "date_modified_gmt": created,
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": money(shipping), "shipping_tax": "0.00",
        "cart_tax": "0.00", "total": money(subtotal + shipping), "total_tax": "0.00", "prices_include_tax": false,
        "customer_id": id % 17, "customer_ip_address": "203.0.113.7", "customer_user_agent": "Mozilla/5.0",
        "customer_note": if id.is_multiple_of(5) { "Please call before delivery" } else { "" },
        "billing": {
            "first_name": "Ana", "last_name": format!("Customer{id}"), "company": if id.is_multiple_of(4) { "Acme SRL" } else { "" },
            "address_1": format!("Strada Lunga {id}"), "address_2": "", "city": "Cluj-Napoca", "state": "CJ",
            "postcode": "400001", "country": "RO", "email": format!("customer{id}@example.com"), "phone": "+40700000000"
        },
        "shipping": {
            "first_name": "Ana", "last_name": format!("Customer{id}"), "company": "", "address_1": format!("Strada Lunga {id}"),
            "address_2": "Ap. 3", "city": "Cluj-Napoca", "state": "CJ", "postcode": "400001", "country": "RO", "phone": ""
        },
        "payment_method": method, "payment_method_title": method_title,
        "transaction_id": if paid && method == "stripe" { format!("ch_{id:06}") } else { String::new() },
        "date_paid": if paid { Value::String(created.clone()) } else { Value::Null },
        "date_paid_gmt": if paid { Value::String(created.clone()) } else { Value::Null },
        "date_completed": if status == "completed" { Value::String(created.clone()) } else { Value::Null },
        "date_completed_gmt": if status == "completed" { Value::String(created) } else { Value::Null },
        "cart_hash": "", "meta_data": [], "line_items": items, "tax_lines": [], "shipping_lines": [],
        "fee_lines": [], "coupon_lines": [], "refunds": [],
        "_links": {"self": [{"href": format!("/wp-json/wc/v3/orders/{id}")}]}
    })
}

/// The product with this id, as WooCommerce returns it.
pub fn product(id: u32) -> Value {
    let price = money(1000 + i64::from(id) * 250);
    let modified = date(id);
    let category = ["Mugs", "Shirts", "Posters"][(id % 3) as usize];
    json!({
        "id": id, "name": format!("Product {id}"), "slug": format!("product-{id}"),
        "permalink": format!("https://shop.example/product/product-{id}/"),
        "date_created_gmt": modified, "date_modified_gmt": modified, "type": "simple",
        "status": if id.is_multiple_of(10) { "draft" } else { "publish" }, "featured": false,
        "description": format!("<p>Description of product {id}</p>"), "short_description": "",
        "sku": format!("SKU-{id:03}"), "price": price, "regular_price": price, "sale_price": "",
        "manage_stock": true, "stock_quantity": (id * 3) % 50, "stock_status": "instock",
        "global_unique_id": if id.is_multiple_of(2) { format!("59{id:011}") } else { String::new() },
        "categories": [{"id": 1 + id % 3, "name": category, "slug": category.to_lowercase()}],
        "tags": [], "images": [{"id": id, "src": format!("https://shop.example/img/{id}.jpg"), "name": "", "alt": ""}],
        "attributes": [{"id": 0, "name": "Color", "position": 0, "visible": true, "variation": false, "options": ["Red", "Blue"]}],
        "variations": []
    })
}

struct Shop {
    config: ShopConfig,
    orders: Mutex<Vec<Value>>,
    /// Order listings as served, rendered once per query and page (a real
    /// shop's page cache): a benchmark's upstream is never its bottleneck.
    /// Cleared by every change to an order.
    rendered_orders: Mutex<HashMap<String, RenderedPage>>,
    products: Mutex<Vec<Value>>,
    /// Webhooks as created through the API, with their secrets.
    webhooks: Mutex<Vec<(Value, String)>>,
    log: RequestLog,
}

type Shared = Arc<Shop>;

/// A rendered page: the JSON bytes and the totals headers.
#[derive(Clone)]
struct RenderedPage {
    body: axum::body::Bytes,
    total: usize,
    pages: usize,
}

impl IntoResponse for RenderedPage {
    fn into_response(self) -> Response {
        let mut response = ([(axum::http::header::CONTENT_TYPE, "application/json")], self.body).into_response();
        let headers = response.headers_mut();
        headers.insert("x-wp-total", HeaderValue::from(self.total));
        headers.insert("x-wp-totalpages", HeaderValue::from(self.pages));
        response
    }
}

fn wc_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "code": code, "message": message, "data": { "status": status.as_u16() } })),
    )
        .into_response()
}

/// Checks Basic auth or the query-parameter form, as WooCommerce does.
fn authenticate(shop: &Shop, headers: &HeaderMap, query: &HashMap<String, String>) -> Result<(), Response> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(k, s)| (k.to_string(), s.to_string())));
    let credentials = basic.or_else(|| {
        Some((
            query.get("consumer_key")?.clone(),
            query.get("consumer_secret")?.clone(),
        ))
    });
    let Some((key, secret)) = credentials else {
        return Err(wc_error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        ));
    };
    if key != shop.config.consumer_key {
        return Err(wc_error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            "Consumer key is invalid.",
        ));
    }
    if secret != shop.config.consumer_secret {
        return Err(wc_error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            "Consumer secret is invalid.",
        ));
    }
    Ok(())
}

fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let number = |name: &str, default: usize| -> Result<usize, Response> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                wc_error(
                    StatusCode::BAD_REQUEST,
                    "rest_invalid_param",
                    &format!("Invalid parameter(s): {name}"),
                )
            }),
        }
    };
    let per_page = number("per_page", 10)?;
    if per_page > 100 {
        return Err(wc_error(
            StatusCode::BAD_REQUEST,
            "rest_invalid_param",
            "Invalid parameter(s): per_page",
        ));
    }
    Ok((number("page", 1)?, per_page))
}

/// One page of the selected items, with WooCommerce's totals headers. Only
/// the page is rendered, so large shops stay cheap to serve.
fn render_page(items: &[&Value], page: usize, per_page: usize) -> RenderedPage {
    let slice: Vec<&Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .copied()
        .collect();
    RenderedPage {
        body: serde_json::to_vec(&slice).expect("JSON values serialize").into(),
        total: items.len(),
        pages: items.len().div_ceil(per_page),
    }
}

/// What every list endpoint does first: authenticate, read the paging
/// parameters.
/// The items whose GMT date `field` is after `after` (all when `None`), by reference.
fn newer_than<'a>(items: &'a [Value], field: &str, after: Option<&String>) -> Vec<&'a Value> {
    let after = after.map(|a| a.trim_end_matches('Z'));
    items
        .iter()
        .filter(|item| after.is_none_or(|after| item[field].as_str().is_some_and(|d| d > after)))
        .collect()
}

fn read_list(shop: &Shop, headers: &HeaderMap, query: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    authenticate(shop, headers, query)?;
    paging(query)
}

async fn list_orders(
    State(shop): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (page, per_page) = match read_list(&shop, &headers, &query) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let key = ["after", "status", "order"]
        .map(|name| query.get(name).map_or("", String::as_str))
        .join("\n")
        + &format!("\n{page}\n{per_page}");
    if let Some(rendered) = shop.rendered_orders.lock().unwrap().get(&key) {
        return rendered.clone().into_response();
    }
    let all = shop.orders.lock().unwrap();
    let mut orders = newer_than(&all, "date_created_gmt", query.get("after"));
    if let Some(status) = query.get("status").filter(|s| *s != "any") {
        orders.retain(|o| o["status"] == *status.as_str());
    }
    orders.sort_by(|a, b| b["date_created_gmt"].as_str().cmp(&a["date_created_gmt"].as_str()));
    if query.get("order").map(String::as_str) == Some("asc") {
        orders.reverse();
    }
    let rendered = render_page(&orders, page, per_page);
    shop.rendered_orders.lock().unwrap().insert(key, rendered.clone());
    rendered.into_response()
}

fn find(items: &Mutex<Vec<Value>>, id: &str) -> Option<usize> {
    let id: u64 = id.parse().ok()?;
    items.lock().unwrap().iter().position(|v| v["id"] == id)
}

async fn get_order(
    State(shop): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(denied) = authenticate(&shop, &headers, &query) {
        return denied;
    }
    match find(&shop.orders, &id) {
        Some(i) => axum::Json(shop.orders.lock().unwrap()[i].clone()).into_response(),
        None => wc_error(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_shop_order_invalid_id",
            "Invalid ID.",
        ),
    }
}

/// What every update endpoint does first: authenticate, parse the JSON
/// body, find the object. Returns its index and the update.
fn read_update(
    shop: &Shop,
    items: &Mutex<Vec<Value>>,
    id: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: &[u8],
    not_found_code: &str,
) -> Result<(usize, Value), Response> {
    authenticate(shop, headers, query)?;
    let update = serde_json::from_slice::<Value>(body).map_err(|_| {
        wc_error(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )
    })?;
    let index = find(items, id).ok_or_else(|| wc_error(StatusCode::NOT_FOUND, not_found_code, "Invalid ID."))?;
    Ok((index, update))
}

async fn update_order(
    State(shop): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let (i, update) = match read_update(
        &shop,
        &shop.orders,
        &id,
        &headers,
        &query,
        &body,
        "woocommerce_rest_shop_order_invalid_id",
    ) {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Some(status) = update.get("status") {
        let valid = status.as_str().is_some_and(|s| STATUSES.contains(&s) || s == "trash");
        if !valid {
            return wc_error(
                StatusCode::BAD_REQUEST,
                "rest_invalid_param",
                "Invalid parameter(s): status",
            );
        }
        shop.orders.lock().unwrap()[i]["status"] = status.clone();
        shop.rendered_orders.lock().unwrap().clear();
    }
    axum::Json(shop.orders.lock().unwrap()[i].clone()).into_response()
}

async fn list_products(
    State(shop): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (page, per_page) = match read_list(&shop, &headers, &query) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let all = shop.products.lock().unwrap();
    let products = newer_than(&all, "date_modified_gmt", query.get("modified_after"));
    render_page(&products, page, per_page).into_response()
}

async fn update_product(
    State(shop): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let (i, update) = match read_update(
        &shop,
        &shop.products,
        &id,
        &headers,
        &query,
        &body,
        "woocommerce_rest_product_invalid_id",
    ) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut products = shop.products.lock().unwrap();
    let product = &mut products[i];
    if let Some(quantity) = update.get("stock_quantity") {
        if !quantity.is_i64() {
            return wc_error(
                StatusCode::BAD_REQUEST,
                "rest_invalid_param",
                "Invalid parameter(s): stock_quantity",
            );
        }
        product["stock_quantity"] = quantity.clone();
    }
    if let Some(manage) = update.get("manage_stock") {
        product["manage_stock"] = manage.clone();
    }
    if let Some(price) = update.get("regular_price") {
        let valid = price.as_str().is_some_and(|p| p.parse::<f64>().is_ok());
        if !valid {
            return wc_error(
                StatusCode::BAD_REQUEST,
                "rest_invalid_param",
                "Invalid parameter(s): regular_price",
            );
        }
        product["regular_price"] = price.clone();
        product["price"] = price.clone();
    }
    axum::Json(product.clone()).into_response()
}

async fn currency_setting(
    State(shop): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(denied) = authenticate(&shop, &headers, &query) {
        return denied;
    }
    axum::Json(json!({
        "id": "woocommerce_currency", "label": "Currency", "description": "This controls what currency prices are listed at in the catalog and which currency gateways will take payments in.",
        "type": "select", "default": "USD", "value": shop.config.currency
    }))
    .into_response()
}

/// `POST /webhooks`: `topic` and `delivery_url` required; `secret` from
/// the body or the query (WordPress reads both); the webhook as WooCommerce
/// answers it (without its secret).
async fn create_webhook(
    State(shop): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(denied) = authenticate(&shop, &headers, &query) {
        return denied;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return wc_error(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        );
    };
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| query.get(name).cloned())
    };
    let (Some(topic), Some(url)) = (field("topic"), field("delivery_url")) else {
        return wc_error(
            StatusCode::BAD_REQUEST,
            "rest_missing_callback_param",
            "Missing parameter(s): topic, delivery_url",
        );
    };
    let known = ["order", "product", "customer", "coupon"];
    let Some((resource, event)) = topic.split_once('.').filter(|(r, _)| known.contains(r)) else {
        return wc_error(
            StatusCode::BAD_REQUEST,
            "rest_invalid_param",
            "Invalid parameter(s): topic",
        );
    };
    let mut webhooks = shop.webhooks.lock().unwrap();
    let id = webhooks.len() as u64 + 1;
    let webhook = json!({
        "id": id, "name": field("name").unwrap_or_else(|| format!("Webhook {id}")),
        "status": field("status").unwrap_or_else(|| "active".into()),
        "topic": topic, "resource": resource, "event": event,
        "hooks": [format!("woocommerce_{event}_{resource}")],
        "delivery_url": url,
        "date_created": "2026-11-30T10:00:00", "date_created_gmt": "2026-11-30T10:00:00",
        "date_modified": "2026-11-30T10:00:00", "date_modified_gmt": "2026-11-30T10:00:00",
    });
    webhooks.push((webhook.clone(), field("secret").unwrap_or_default()));
    (StatusCode::CREATED, axum::Json(webhook)).into_response()
}

/// `GET /webhooks`.
async fn list_webhooks(
    State(shop): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(denied) = authenticate(&shop, &headers, &query) {
        return denied;
    }
    let webhooks: Vec<Value> = shop.webhooks.lock().unwrap().iter().map(|(w, _)| w.clone()).collect();
    axum::Json(webhooks).into_response()
}

/// `DELETE /webhooks/{id}?force=true`.
async fn delete_webhook(
    State(shop): State<Shared>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(denied) = authenticate(&shop, &headers, &query) {
        return denied;
    }
    if query.get("force").map(String::as_str) != Some("true") {
        return wc_error(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        );
    }
    let mut webhooks = shop.webhooks.lock().unwrap();
    match webhooks.iter().position(|(w, _)| w["id"] == id) {
        Some(at) => axum::Json(webhooks.remove(at).0).into_response(),
        None => wc_error(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_webhook_invalid_id",
            "Invalid ID.",
        ),
    }
}

async fn not_found() -> Response {
    wc_error(
        StatusCode::NOT_FOUND,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}

async fn record(State(shop): State<Shared>, request: Request, next: Next) -> Response {
    shop.log.record(SeenRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        query: request.uri().query().unwrap_or_default().to_string(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
    });
    next.run(request).await
}

/// A running mock shop.
pub struct MockShop {
    /// The server; dropping it stops it.
    pub server: RunningServer,
    /// Every request it received.
    pub log: RequestLog,
    /// What it serves.
    pub config: ShopConfig,
    shop: Shared,
}

impl MockShop {
    /// Starts a mock shop on 127.0.0.1 at `port` (0: any free port).
    pub async fn start(config: ShopConfig, port: u16) -> std::io::Result<Self> {
        let shop = Arc::new(Shop {
            orders: Mutex::new((1..=config.orders).map(order).collect()),
            rendered_orders: Mutex::default(),
            products: Mutex::new((1..=config.products).map(product).collect()),
            webhooks: Mutex::default(),
            config: config.clone(),
            log: RequestLog::default(),
        });
        let api = Router::new()
            .route("/orders", get(list_orders))
            .route("/orders/{id}", get(get_order).put(update_order))
            .route("/products", get(list_products))
            .route("/products/{id}", axum::routing::put(update_product))
            .route("/settings/general/woocommerce_currency", get(currency_setting))
            .route("/webhooks", get(list_webhooks).post(create_webhook))
            .route("/webhooks/{id}", axum::routing::delete(delete_webhook));
        let router = Router::new()
            .nest("/wp-json/wc/v3", api)
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(shop.clone(), record))
            .with_state(shop.clone());
        let server = RunningServer::start(router, port).await?;
        Ok(Self {
            server,
            log: shop.log.clone(),
            config,
            shop,
        })
    }

    /// The shop's URL, for the `domain` setting.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The current state of a product.
    pub fn product(&self, id: u32) -> Option<Value> {
        self.shop
            .products
            .lock()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
    }

    /// The current state of an order.
    pub fn order(&self, id: u32) -> Option<Value> {
        self.shop.orders.lock().unwrap().iter().find(|o| o["id"] == id).cloned()
    }

    /// The webhooks created through the API, with the secret each was given.
    pub fn webhooks(&self) -> Vec<(Value, String)> {
        self.shop.webhooks.lock().unwrap().clone()
    }

    /// Delivers `resource` to every active webhook of `topic`, as
    /// WooCommerce does: signed with the webhook's secret, its headers set.
    /// The status each delivery URL answered.
    pub async fn fire(&self, topic: &str, resource: &Value) -> Vec<u16> {
        let targets: Vec<(Value, String)> = self
            .webhooks()
            .into_iter()
            .filter(|(w, _)| w["topic"] == topic && w["status"] == "active")
            .collect();
        let http = reqwest::Client::new();
        let mut statuses = Vec::new();
        for (webhook, secret) in targets {
            let id = webhook["id"].as_u64().unwrap_or_default() as u32;
            let (headers, body) = webhook_delivery(&secret, topic, resource, id);
            let mut request = http
                .post(webhook["delivery_url"].as_str().unwrap_or_default())
                .body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            statuses.push(request.send().await.map_or(0, |r| r.status().as_u16()));
        }
        statuses
    }
}

/// A webhook delivery as WooCommerce sends one (`WC_Webhook::deliver`):
/// the resource as JSON, `X-WC-Webhook-Signature` = base64 of HMAC-SHA256
/// of the body keyed by the webhook's secret, and the other headers it
/// sets. Returns the headers and the body.
pub fn webhook_delivery(
    secret: &str,
    topic: &str,
    resource: &Value,
    webhook_id: u32,
) -> (Vec<(String, String)>, Vec<u8>) {
    use hmac::{Hmac, Mac};
    let body = serde_json::to_vec(resource).expect("JSON serializes");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let (resource_name, event) = topic.split_once('.').unwrap_or((topic, ""));
    let delivery_id = {
        let mut digest = Hmac::<sha2::Sha256>::new_from_slice(b"delivery").expect("any key length");
        digest.update(&body);
        digest.update(topic.as_bytes());
        hex::encode(&digest.finalize().into_bytes()[..16])
    };
    let headers = vec![
        (
            "user-agent".into(),
            "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)".into(),
        ),
        ("content-type".into(), "application/json".into()),
        ("x-wc-webhook-source".into(), "https://shop.example.com/".into()),
        ("x-wc-webhook-topic".into(), topic.into()),
        ("x-wc-webhook-resource".into(), resource_name.into()),
        ("x-wc-webhook-event".into(), event.into()),
        ("x-wc-webhook-signature".into(), signature),
        ("x-wc-webhook-id".into(), webhook_id.to_string()),
        ("x-wc-webhook-delivery-id".into(), delivery_id),
    ];
    (headers, body)
}

/// WooCommerce's ping when a webhook is saved: unsigned, `webhook_id=N`.
pub fn webhook_ping(webhook_id: u32) -> (Vec<(String, String)>, Vec<u8>) {
    (
        vec![
            (
                "user-agent".into(),
                "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)".into(),
            ),
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
        ],
        format!("webhook_id={webhook_id}").into_bytes(),
    )
}
