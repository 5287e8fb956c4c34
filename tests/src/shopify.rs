//! A Shopify-shaped GraphQL Admin API mock, written from Shopify's docs:
//!
//! - `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`
//!   (401 `{"errors": "[API] Invalid API key or access token …"}`
//!   otherwise), a body `{query, operationName, variables}`; answers
//!   `{data, extensions: {cost}}` or `{errors: [{message, extensions:
//!   {code}}]}` (<https://shopify.dev/docs/api/admin-graphql>).
//! - The query-cost budget as Shopify keeps it
//!   (<https://shopify.dev/docs/api/usage/limits>): a bucket of
//!   `maximumAvailable` points restored at `restoreRate` per second; a
//!   query must find its `requestedQueryCost` in the bucket, is charged its
//!   `actualQueryCost` (what it returned), and otherwise answers HTTP 200
//!   with a `THROTTLED` error and runs nothing; a query requesting more than
//!   1000 points is `MAX_COST_EXCEEDED`. Every answer reports
//!   `extensions.cost.throttleStatus`.
//! - Connections paged with `first`/`after` and `pageInfo {hasNextPage
//!   endCursor}`; the `updated_at:>'…'` search query; mutations answering
//!   `userErrors {field message code}`; `inventorySetQuantities` requiring
//!   its `@idempotent` key (2026-04) and answering a repeated key with the
//!   first result.
//! - Webhooks signed as Shopify signs them: `X-Shopify-Hmac-Sha256`, base64
//!   HMAC-SHA256 of the raw body with the app's client secret
//!   (<https://shopify.dev/docs/apps/build/webhooks/subscribe/https>).
//!
//! - Installing an app through OAuth
//!   (<https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant>):
//!   `GET /admin/oauth/authorize` (the merchant approves at once) sends the
//!   browser back with `code`, `hmac`, `host`, `shop`, `state` and
//!   `timestamp`, signed with the client secret (hex HMAC-SHA256 of the other
//!   parameters sorted by name); `POST /admin/oauth/access_token` exchanges
//!   the code once for `{access_token, scope}`.
//!
//! The mock does not parse GraphQL: it dispatches on `operationName`,
//! checks the document names that operation and its root field, and reads
//! `variables` — what the plugin sends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::mock::{RequestLog, RunningServer, SeenRequest};

/// The Admin API access token the mock accepts.
pub const ACCESS_TOKEN: &str = "shpat_mock0123456789abcdef";
/// The app's client secret, which signs webhooks.
pub const CLIENT_SECRET: &str = "shpss_mockClientSecret42";
/// The app's client ID.
pub const CLIENT_ID: &str = "mock-client-id-0042";
/// The token an OAuth installation gets.
pub const OAUTH_TOKEN: &str = "shpua_mockOAuthToken77";
/// The store's only location.
pub const LOCATION: &str = "gid://shopify/Location/5501";

/// The budget's state: points available at an instant, its size and rate.
struct Budget {
    maximum: f64,
    restore_rate: f64,
    available: f64,
    at: Instant,
}

impl Budget {
    fn now(&mut self) -> f64 {
        let now = Instant::now();
        self.available =
            (self.available + now.duration_since(self.at).as_secs_f64() * self.restore_rate).min(self.maximum);
        self.at = now;
        self.available
    }
}

struct Inner {
    budget: Budget,
    orders: Vec<Value>,
    products: Vec<Value>,
    /// Inventory item → available at the location.
    stock: HashMap<String, i64>,
    subscriptions: Vec<Value>,
    /// `@idempotent` keys already answered.
    idempotent: HashMap<String, Value>,
    throttled: u32,
    /// Answers still to fail with this HTTP status.
    failing: Option<(u16, u32)>,
    next: u64,
    /// The store's host as `shop` names it, and the codes not yet exchanged.
    shop: String,
    codes: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    log: RequestLog,
    bodies: Arc<Mutex<Vec<Value>>>,
}

/// A running Shopify-shaped mock.
pub struct MockShopify {
    server: RunningServer,
    shared: Shared,
}

fn money(amount: &str) -> Value {
    json!({ "shopMoney": { "amount": amount, "currencyCode": "EUR" } })
}

/// An order as the `OrderFields` fragment reads it, with `lines` line items.
pub fn order(number: u64, updated_at: &str, lines: usize) -> Value {
    let items: Vec<Value> = (1..=lines)
        .map(|i| {
            json!({
                "id": format!("gid://shopify/LineItem/{}{i:03}", number),
                "title": format!("Wool sweater {i}"),
                "sku": format!("SW-{i:03}"),
                "quantity": 2,
                "variant": { "id": format!("gid://shopify/ProductVariant/{}", 7000 + i) },
                "product": { "id": "gid://shopify/Product/700" },
                "originalUnitPriceSet": money("49.95"),
                "totalDiscountSet": money("5.00"),
                "taxLines": [{ "rate": 0.19 }],
            })
        })
        .collect();
    let address = json!({
        "name": "Ana Popescu", "firstName": "Ana", "lastName": "Popescu", "company": "Atelier Ana",
        "address1": "Strada Lipscani 12", "address2": "Bloc A", "city": "Bucuresti", "province": "Bucuresti",
        "provinceCode": "B", "zip": "030031", "countryCodeV2": "RO", "phone": "+40722000111",
    });
    json!({
        "id": format!("gid://shopify/Order/{number}"),
        "name": format!("#{number}"),
        "createdAt": "2026-11-01T09:00:00Z",
        "updatedAt": updated_at,
        "processedAt": "2026-11-01T09:00:01Z",
        "cancelledAt": null,
        "closedAt": null,
        "note": "Leave at the door",
        "email": "ana@example.ro",
        "phone": null,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "currencyCode": "EUR",
        "paymentGatewayNames": ["shopify_payments"],
        "tags": ["vip"],
        "totalPriceSet": money("104.85"),
        "subtotalPriceSet": money("99.90"),
        "totalTaxSet": money("15.95"),
        "totalShippingPriceSet": money("9.95"),
        "totalDiscountsSet": money("5.00"),
        "customer": { "id": "gid://shopify/Customer/42", "firstName": "Ana", "lastName": "Popescu", "email": "ana@example.ro", "phone": null },
        "billingAddress": address,
        "shippingAddress": address,
        "lineItems": { "nodes": items },
        "fulfillmentOrders": { "nodes": [{ "id": format!("gid://shopify/FulfillmentOrder/{number}"), "status": "OPEN" }] },
    })
}

/// A product with `variants` variants (inventory items `…/InventoryItem/{variant}`).
pub fn product(number: u64, title: &str, updated_at: &str, variants: usize) -> Value {
    let nodes: Vec<Value> = (1..=variants)
        .map(|i| {
            let id = number * 100 + i as u64;
            json!({
                "id": format!("gid://shopify/ProductVariant/{id}"),
                "title": format!("Size {i}"),
                "sku": format!("{title}-{i}").to_uppercase().replace(' ', "-"),
                "barcode": format!("59{id:011}"),
                "price": format!("{}.00", 20 + i),
                "compareAtPrice": null,
                "inventoryQuantity": 5,
                "inventoryItem": { "id": format!("gid://shopify/InventoryItem/{id}") },
                "selectedOptions": [{ "name": "Size", "value": format!("{i}") }],
            })
        })
        .collect();
    json!({
        "id": format!("gid://shopify/Product/{number}"),
        "title": title,
        "handle": title.to_lowercase().replace(' ', "-"),
        "descriptionHtml": "<p>Soft &amp; warm</p>",
        "status": "ACTIVE",
        "vendor": "Atelier",
        "productType": "Sweaters",
        "tags": ["wool"],
        "onlineStoreUrl": null,
        "createdAt": "2026-10-01T00:00:00Z",
        "updatedAt": updated_at,
        "totalInventory": 5 * variants as i64,
        "media": { "nodes": [{ "image": { "url": format!("https://cdn.shopify.com/{number}.jpg") } }, {}] },
        "variants": { "nodes": nodes },
    })
}

fn cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:{index}"))
}

fn uncursor(cursor: &Value) -> usize {
    cursor
        .as_str()
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("cursor:").and_then(|n| n.parse::<usize>().ok()))
        .map_or(0, |n| n + 1)
}

/// A page of `items` after `after`, `first` long, as a connection.
fn page(items: &[Value], first: usize, after: &Value, shape: impl Fn(&Value) -> Value) -> Value {
    let start = uncursor(after);
    let chosen: Vec<Value> = items.iter().skip(start).take(first).map(shape).collect();
    let end = start + chosen.len();
    json!({
        "nodes": chosen,
        "pageInfo": { "hasNextPage": end < items.len(), "endCursor": (end > start).then(|| cursor(end - 1)) },
    })
}

/// `updated_at:>'…'`, when the search query says it.
fn updated_after(query: &Value) -> Option<String> {
    let q = query.as_str()?;
    let rest = q.strip_prefix("updated_at:>'")?;
    Some(rest.trim_end_matches('\'').to_string())
}

/// An order as queried: its first 20 line items and their page info.
fn shape_order(order: &Value) -> Value {
    let mut shaped = order.clone();
    let all = order["lineItems"]["nodes"].as_array().cloned().unwrap_or_default();
    shaped["lineItems"] = page(&all, 20, &Value::Null, Value::clone);
    shaped.as_object_mut().map(|o| o.remove("fulfillmentOrders"));
    shaped
}

fn shape_product(product: &Value) -> Value {
    let mut shaped = product.clone();
    let all = product["variants"]["nodes"].as_array().cloned().unwrap_or_default();
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().map(|o| o.remove("inventoryItem"));
        v
    };
    shaped["variants"] = page(&all, 20, &Value::Null, strip);
    shaped
}

impl MockShopify {
    /// Starts the mock with a bucket of `maximum` points restored at
    /// `restore_rate` per second, full.
    pub async fn start(maximum: f64, restore_rate: f64) -> std::io::Result<Self> {
        let shared = Shared {
            inner: Arc::new(Mutex::new(Inner {
                budget: Budget {
                    maximum,
                    restore_rate,
                    available: maximum,
                    at: Instant::now(),
                },
                orders: Vec::new(),
                products: Vec::new(),
                stock: HashMap::new(),
                subscriptions: Vec::new(),
                idempotent: HashMap::new(),
                throttled: 0,
                failing: None,
                next: 0,
                shop: String::new(),
                codes: Vec::new(),
            })),
            log: RequestLog::default(),
            bodies: Arc::default(),
        };
        let router = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/admin/oauth/authorize", axum::routing::get(authorize))
            .route("/admin/oauth/access_token", post(access_token))
            .with_state(shared.clone());
        let server = RunningServer::start(router, 0).await?;
        shared.inner.lock().expect("mock state").shop = server.addr.to_string();
        Ok(Self { server, shared })
    }

    /// The `store_url` setting.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests seen, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.log.all()
    }

    /// The GraphQL bodies received, in order.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared.bodies.lock().expect("bodies").clone()
    }

    /// Adds an order.
    pub fn add_order(&self, order: Value) {
        self.shared.inner.lock().expect("mock state").orders.push(order);
    }

    /// Adds a product, its variants' stock at the location.
    pub fn add_product(&self, product: Value) {
        let mut inner = self.shared.inner.lock().expect("mock state");
        for variant in product["variants"]["nodes"].as_array().into_iter().flatten() {
            let item = variant["inventoryItem"]["id"].as_str().unwrap_or_default().to_string();
            inner
                .stock
                .insert(item, variant["inventoryQuantity"].as_i64().unwrap_or(0));
        }
        inner.products.push(product);
    }

    /// An order as the mock holds it now.
    pub fn order(&self, number: u64) -> Value {
        let id = format!("gid://shopify/Order/{number}");
        let inner = self.shared.inner.lock().expect("mock state");
        inner
            .orders
            .iter()
            .find(|o| o["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// A product as the mock holds it now.
    pub fn product(&self, number: u64) -> Value {
        let id = format!("gid://shopify/Product/{number}");
        let inner = self.shared.inner.lock().expect("mock state");
        inner
            .products
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Stock of an inventory item at the location.
    pub fn stock(&self, item: &str) -> Option<i64> {
        self.shared.inner.lock().expect("mock state").stock.get(item).copied()
    }

    /// Empties the budget, as a burst of other work would.
    pub fn drain(&self) {
        let mut inner = self.shared.inner.lock().expect("mock state");
        inner.budget.available = 0.0;
        inner.budget.at = Instant::now();
    }

    /// The next `n` requests are answered HTTP `status` with Shopify's error
    /// body (503: Shopify down; 402: the store is frozen; 423: locked).
    pub fn fail(&self, status: u16, n: u32) {
        self.shared.inner.lock().expect("mock state").failing = Some((status, n));
    }

    /// How many answers were `THROTTLED`.
    pub fn throttled(&self) -> u32 {
        self.shared.inner.lock().expect("mock state").throttled
    }

    /// The webhook subscriptions.
    pub fn subscriptions(&self) -> Vec<Value> {
        self.shared.inner.lock().expect("mock state").subscriptions.clone()
    }

    /// Delivers a webhook as Shopify does, to every subscription of
    /// `topic` (`orders/create`); the statuses.
    pub async fn fire(&self, topic: &str, payload: &Value, webhook_id: &str) -> Vec<u16> {
        let uris: Vec<String> = self
            .subscriptions()
            .iter()
            .filter(|s| s["topic"] == topic.replace('/', "_").to_uppercase())
            .filter_map(|s| s["uri"].as_str().map(str::to_string))
            .collect();
        let body = serde_json::to_vec(payload).expect("JSON");
        let mut statuses = Vec::new();
        for uri in uris {
            let mut request = reqwest::Client::new().post(&uri).body(body.clone());
            for (name, value) in delivery_headers(topic, webhook_id, &body, CLIENT_SECRET) {
                request = request.header(name, value);
            }
            statuses.push(request.send().await.map(|r| r.status().as_u16()).unwrap_or(0));
        }
        statuses
    }
}

/// The callback's `hmac`: hex HMAC-SHA256 of the other parameters, sorted
/// by name and joined as `name=value&…` (`%` and `&` escaped, `=` too in
/// names).
pub fn callback_hmac(secret: &str, params: &[(String, String)]) -> String {
    use hmac::{Hmac, Mac};
    let escape = |s: &str, name: bool| {
        let s = s.replace('%', "%25").replace('&', "%26");
        if name { s.replace('=', "%3D") } else { s }
    };
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "hmac" && k != "signature")
        .map(|(k, v)| (escape(k, true), escape(v, false)))
        .collect();
    pairs.sort();
    let message = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The merchant approves the app at once: back to `redirect_uri` with the
/// signed parameters.
async fn authorize(State(shared): State<Shared>, axum::extract::RawQuery(query): axum::extract::RawQuery) -> Response {
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    if params.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (
            StatusCode::BAD_REQUEST,
            "Oauth error invalid_request: The client_id is invalid",
        )
            .into_response();
    }
    let (Some(redirect), Some(state)) = (params.get("redirect_uri"), params.get("state")) else {
        return (
            StatusCode::BAD_REQUEST,
            "Oauth error invalid_request: missing redirect_uri or state",
        )
            .into_response();
    };
    let mut inner = shared.inner.lock().expect("mock state");
    inner.next += 1;
    let code = format!("code{:08}", inner.next);
    inner.codes.push(code.clone());
    let mut back = vec![
        ("code".to_string(), code),
        (
            "host".to_string(),
            base64::engine::general_purpose::STANDARD.encode("admin.shopify.com/store/acme"),
        ),
        ("shop".to_string(), inner.shop.clone()),
        ("state".to_string(), state.clone()),
        ("timestamp".to_string(), chrono::Utc::now().timestamp().to_string()),
    ];
    back.push(("hmac".to_string(), callback_hmac(CLIENT_SECRET, &back)));
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&back)
        .finish();
    (StatusCode::FOUND, [("location", format!("{redirect}?{query}"))]).into_response()
}

/// Exchanges a code, once, for the app's token.
async fn access_token(State(shared): State<Shared>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut inner = shared.inner.lock().expect("mock state");
    let code = form.get("code").cloned().unwrap_or_default();
    let known = inner.codes.iter().position(|c| *c == code);
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
        || known.is_none()
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_request", "error_description": "The authorization code was not found or was already used"})),
        )
            .into_response();
    }
    inner.codes.remove(known.expect("checked"));
    axum::Json(json!({ "access_token": OAUTH_TOKEN, "scope": "read_orders,write_orders,read_products" }))
        .into_response()
}

/// `X-Shopify-Hmac-Sha256` of `body` with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The headers of a delivery, as Shopify sends them.
pub fn delivery_headers(topic: &str, webhook_id: &str, body: &[u8], secret: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-shopify-topic".into(), topic.into()),
        ("x-shopify-hmac-sha256".into(), signature(secret, body)),
        ("x-shopify-shop-domain".into(), "acme.myshopify.com".into()),
        ("x-shopify-api-version".into(), "2026-10".into()),
        ("x-shopify-webhook-id".into(), webhook_id.into()),
        ("x-shopify-event-id".into(), format!("evt-{webhook_id}")),
        ("x-shopify-triggered-at".into(), "2026-11-30T10:00:00.123456Z".into()),
    ]
}

/// The points an operation requests: connections cost their `first` times
/// the node's cost, as Shopify computes it.
fn requested(operation: &str, variables: &Value) -> f64 {
    let first = variables["first"].as_f64().unwrap_or(1.0);
    match operation {
        // Per order: ~15 objects, 20 line items of 5.
        "Orders" => 2.0 + first * 115.0,
        // Per product: ~4 objects, 5 media, 20 variants of 3.
        "Products" => 3.0 + first * 70.0,
        "LineItems" | "Variants" => 1.0 + 50.0 * 5.0,
        "Order" => 116.0,
        "SetStock" | "SetPrices" | "UpdateProduct" | "CancelOrder" | "OpenOrder" | "Fulfill" | "Subscribe"
        | "Unsubscribe" => 10.0,
        "Subscriptions" => 101.0,
        _ => 2.0,
    }
}

fn user_error(field: &[&str], message: &str, code: &str) -> Value {
    json!({ "field": field, "message": message, "code": code })
}

async fn graphql(
    State(shared): State<Shared>,
    method: Method,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared
        .log
        .record_parts(&method, &format!("/admin/api/{version}/graphql.json"), "", &headers);
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok());
    if token != Some(ACCESS_TOKEN) && token != Some(OAUTH_TOKEN) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
            ),
        )
            .into_response();
    }
    {
        let mut inner = shared.inner.lock().expect("mock state");
        if let Some((status, left)) = inner.failing.filter(|(_, left)| *left > 0) {
            inner.failing = Some((status, left - 1));
            let message = match status {
                402 => "Unavailable Shop",
                423 => "Locked",
                _ => "Service Unavailable",
            };
            return (
                StatusCode::from_u16(status).expect("a status"),
                axum::Json(json!({ "errors": message })),
            )
                .into_response();
        }
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errors": [{"message": "Invalid JSON in request body"}]})),
        )
            .into_response();
    };
    shared.bodies.lock().expect("bodies").push(request.clone());
    let operation = request["operationName"].as_str().unwrap_or_default().to_string();
    let document = request["query"].as_str().unwrap_or_default();
    let variables = request["variables"].clone();
    if !(document.starts_with(&format!("query {operation}")) || document.starts_with(&format!("mutation {operation}")))
    {
        return axum::Json(json!({"errors": [{"message": format!("No operation named \"{operation}\""), "extensions": {"code": "BAD_REQUEST"}}]}))
            .into_response();
    }
    let mut inner = shared.inner.lock().expect("mock state");
    let cost = requested(&operation, &variables);
    let status = |available: f64, maximum: f64, rate: f64| json!({ "maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate });
    if cost > 1000.0 {
        return axum::Json(json!({"errors": [{
            "message": format!("Query cost is {cost}, which exceeds the single query max cost limit (1000)."),
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": 1000},
        }]}))
        .into_response();
    }
    let available = inner.budget.now();
    let (maximum, rate) = (inner.budget.maximum, inner.budget.restore_rate);
    if available < cost {
        inner.throttled += 1;
        return axum::Json(json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": null, "throttleStatus": status(available, maximum, rate)}},
        }))
        .into_response();
    }
    let data = match run(&mut inner, &operation, document, &variables) {
        Ok(data) => data,
        Err(errors) => return axum::Json(json!({ "errors": errors })).into_response(),
    };
    // Charged what it requested (the mock refunds nothing).
    inner.budget.available -= cost;
    let left = inner.budget.available;
    axum::Json(json!({
        "data": data,
        "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": status(left, maximum, rate)}},
    }))
    .into_response()
}

fn not_found(what: &str) -> Value {
    json!([{ "message": format!("Invalid id: {what}"), "extensions": { "code": "RESOURCE_NOT_FOUND" } }])
}

fn variant_of<'a>(products: &'a [Value], id: &str) -> Option<(&'a Value, &'a Value)> {
    products.iter().find_map(|p| {
        p["variants"]["nodes"]
            .as_array()?
            .iter()
            .find(|v| v["id"] == id)
            .map(|v| (p, v))
    })
}

/// Runs one operation on the store: its `data`, or GraphQL errors.
fn run(inner: &mut Inner, operation: &str, document: &str, vars: &Value) -> Result<Value, Value> {
    let first = vars["first"].as_u64().unwrap_or(10) as usize;
    let requires = |root: &str| {
        if document.contains(root) {
            Ok(())
        } else {
            Err(json!([{ "message": format!("{operation} does not select {root}") }]))
        }
    };
    match operation {
        "Shop" => Ok(
            json!({"shop": {"name": "Acme Knits", "myshopifyDomain": "acme.myshopify.com", "currencyCode": "EUR", "plan": {"displayName": "Basic"}}}),
        ),
        "Orders" => {
            requires("orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT)")?;
            let mut orders = inner.orders.clone();
            if let Some(after) = updated_after(&vars["query"]) {
                orders.retain(|o| o["updatedAt"].as_str().unwrap_or_default() > after.as_str());
            }
            orders.sort_by(|a, b| a["updatedAt"].as_str().cmp(&b["updatedAt"].as_str()));
            Ok(json!({ "orders": page(&orders, first, &vars["after"], shape_order) }))
        }
        "Order" => {
            requires("order(id: $id)")?;
            let order = inner.orders.iter().find(|o| o["id"] == vars["id"]).map(shape_order);
            Ok(json!({ "order": order }))
        }
        "LineItems" => {
            requires("lineItems(first: 50, after: $after)")?;
            let order = inner
                .orders
                .iter()
                .find(|o| o["id"] == vars["id"])
                .ok_or_else(|| not_found("order"))?;
            let all = order["lineItems"]["nodes"].as_array().cloned().unwrap_or_default();
            Ok(json!({ "order": { "lineItems": page(&all, 50, &vars["after"], Value::clone) } }))
        }
        "Products" => {
            requires("products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT)")?;
            let mut products = inner.products.clone();
            if let Some(after) = updated_after(&vars["query"]) {
                products.retain(|p| p["updatedAt"].as_str().unwrap_or_default() > after.as_str());
            }
            products.sort_by(|a, b| a["updatedAt"].as_str().cmp(&b["updatedAt"].as_str()));
            Ok(
                json!({ "shop": {"currencyCode": "EUR"}, "products": page(&products, first, &vars["after"], shape_product) }),
            )
        }
        "Variants" => {
            requires("variants(first: 50, after: $after)")?;
            let product = inner
                .products
                .iter()
                .find(|p| p["id"] == vars["id"])
                .ok_or_else(|| not_found("product"))?;
            let all = product["variants"]["nodes"].as_array().cloned().unwrap_or_default();
            Ok(json!({ "product": { "variants": page(&all, 50, &vars["after"], Value::clone) } }))
        }
        "Variant" => {
            requires("productVariant(id: $id)")?;
            let id = vars["id"].as_str().unwrap_or_default();
            let found = variant_of(&inner.products, id).map(
                |(p, v)| json!({ "id": v["id"], "product": { "id": p["id"] }, "inventoryItem": v["inventoryItem"] }),
            );
            Ok(json!({ "shop": {"currencyCode": "EUR"}, "productVariant": found }))
        }
        "ProductVariants" => {
            requires("product(id: $id)")?;
            let found = inner.products.iter().find(|p| p["id"] == vars["id"]).map(|p| {
                let variants: Vec<Value> = p["variants"]["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(2)
                    .map(|v| json!({ "id": v["id"], "inventoryItem": v["inventoryItem"] }))
                    .collect();
                json!({ "id": p["id"], "variants": { "nodes": variants } })
            });
            Ok(json!({ "shop": {"currencyCode": "EUR"}, "product": found }))
        }
        "Locations" => Ok(json!({ "locations": { "nodes": [{ "id": LOCATION, "name": "Warehouse" }] } })),
        "SetStock" => {
            requires("inventorySetQuantities(input: $input) @idempotent(key: $key)")?;
            let Some(key) = vars["key"].as_str().filter(|k| !k.is_empty()) else {
                return Err(
                    json!([{ "message": "The @idempotent directive is required for this mutation.", "extensions": { "code": "BAD_REQUEST" } }]),
                );
            };
            if let Some(first) = inner.idempotent.get(key) {
                return Ok(first.clone());
            }
            let input = &vars["input"];
            let mut errors = Vec::new();
            if input["name"] != "available" || input["reason"] != "correction" {
                errors.push(user_error(
                    &["input", "name"],
                    "The quantity name must be available or on_hand.",
                    "INVALID_NAME",
                ));
            }
            let quantities = input["quantities"].as_array().cloned().unwrap_or_default();
            for (i, q) in quantities.iter().enumerate() {
                let item = q["inventoryItemId"].as_str().unwrap_or_default();
                if !inner.stock.contains_key(item) {
                    errors.push(user_error(
                        &["input", "quantities", &i.to_string(), "inventoryItemId"],
                        "The specified inventory item could not be found.",
                        "INVALID_INVENTORY_ITEM",
                    ));
                }
                if q["locationId"] != LOCATION {
                    errors.push(user_error(
                        &["input", "quantities", &i.to_string(), "locationId"],
                        "The specified location could not be found.",
                        "INVALID_LOCATION",
                    ));
                }
            }
            if errors.is_empty() {
                for q in &quantities {
                    let item = q["inventoryItemId"].as_str().unwrap_or_default().to_string();
                    inner.stock.insert(item, q["quantity"].as_i64().unwrap_or(0));
                }
            }
            inner.next += 1;
            let answer = json!({ "inventorySetQuantities": {
                "inventoryAdjustmentGroup": errors.is_empty().then(|| json!({ "id": format!("gid://shopify/InventoryAdjustmentGroup/{}", inner.next) })),
                "userErrors": errors,
            }});
            inner.idempotent.insert(key.to_string(), answer.clone());
            Ok(answer)
        }
        "SetPrices" => {
            requires("productVariantsBulkUpdate(productId: $productId, variants: $variants)")?;
            let Some(product) = inner.products.iter_mut().find(|p| p["id"] == vars["productId"]) else {
                return Ok(
                    json!({ "productVariantsBulkUpdate": { "productVariants": null, "userErrors": [user_error(&["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")] } }),
                );
            };
            let mut errors = Vec::new();
            for (i, change) in vars["variants"].as_array().into_iter().flatten().enumerate() {
                let price = change["price"].as_str().and_then(|p| p.parse::<f64>().ok());
                let variant = product["variants"]["nodes"]
                    .as_array_mut()
                    .and_then(|vs| vs.iter_mut().find(|v| v["id"] == change["id"]));
                match (variant, price) {
                    (None, _) => errors.push(user_error(
                        &["variants", &i.to_string(), "id"],
                        "Product variant does not exist",
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )),
                    (Some(_), None) => errors.push(user_error(
                        &["variants", &i.to_string(), "price"],
                        "Price must be a number",
                        "INVALID",
                    )),
                    (Some(variant), Some(p)) => variant["price"] = json!(format!("{p:.2}")),
                }
            }
            Ok(json!({ "productVariantsBulkUpdate": { "productVariants": [], "userErrors": errors } }))
        }
        "UpdateProduct" => {
            requires("productUpdate(product: $product)")?;
            let change = &vars["product"];
            let Some(product) = inner.products.iter_mut().find(|p| p["id"] == change["id"]) else {
                return Ok(
                    json!({ "productUpdate": { "product": null, "userErrors": [{ "field": ["id"], "message": "Product does not exist" }] } }),
                );
            };
            for (from, to) in [
                ("title", "title"),
                ("descriptionHtml", "descriptionHtml"),
                ("status", "status"),
            ] {
                if !change[from].is_null() {
                    product[to] = change[from].clone();
                }
            }
            Ok(json!({ "productUpdate": { "product": { "id": product["id"] }, "userErrors": [] } }))
        }
        "CancelOrder" => {
            requires("orderCancel(orderId: $orderId")?;
            let Some(order) = inner.orders.iter_mut().find(|o| o["id"] == vars["orderId"]) else {
                return Ok(
                    json!({ "orderCancel": { "job": null, "orderCancelUserErrors": [user_error(&["orderId"], "Order does not exist", "NOT_FOUND")] } }),
                );
            };
            if !order["cancelledAt"].is_null() {
                return Ok(
                    json!({ "orderCancel": { "job": null, "orderCancelUserErrors": [user_error(&["orderId"], "Cannot cancel an order that is already cancelled", "INVALID")] } }),
                );
            }
            order["cancelledAt"] = json!("2026-11-30T12:00:00Z");
            Ok(
                json!({ "orderCancel": { "job": { "id": "gid://shopify/Job/1", "done": false }, "orderCancelUserErrors": [] } }),
            )
        }
        "OpenOrder" => {
            requires("orderOpen(input: $input)")?;
            let Some(order) = inner.orders.iter_mut().find(|o| o["id"] == vars["input"]["id"]) else {
                return Ok(
                    json!({ "orderOpen": { "order": null, "userErrors": [{ "field": ["id"], "message": "Order does not exist" }] } }),
                );
            };
            order["closedAt"] = Value::Null;
            Ok(json!({ "orderOpen": { "order": { "id": order["id"] }, "userErrors": [] } }))
        }
        "FulfillmentOrders" => {
            requires("fulfillmentOrders(first: 10)")?;
            let order = inner
                .orders
                .iter()
                .find(|o| o["id"] == vars["id"])
                .map(|o| json!({ "id": o["id"], "fulfillmentOrders": o["fulfillmentOrders"] }));
            Ok(json!({ "order": order }))
        }
        "Fulfill" => {
            requires("fulfillmentCreate(fulfillment: $fulfillment)")?;
            let ids: Vec<Value> = vars["fulfillment"]["lineItemsByFulfillmentOrder"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| f["fulfillmentOrderId"].clone())
                .collect();
            let mut done = 0;
            for order in &mut inner.orders {
                let mut shipped = false;
                for fo in order["fulfillmentOrders"]["nodes"].as_array_mut().into_iter().flatten() {
                    if ids.contains(&fo["id"]) && fo["status"] == "OPEN" {
                        fo["status"] = json!("CLOSED");
                        done += 1;
                        shipped = true;
                    }
                }
                if shipped {
                    order["displayFulfillmentStatus"] = json!("FULFILLED");
                }
            }
            if done == 0 {
                return Ok(
                    json!({ "fulfillmentCreate": { "fulfillment": null, "userErrors": [{ "field": ["fulfillment"], "message": "Fulfillment order does not exist or is closed." }] } }),
                );
            }
            Ok(
                json!({ "fulfillmentCreate": { "fulfillment": { "id": "gid://shopify/Fulfillment/1", "status": "SUCCESS" }, "userErrors": [] } }),
            )
        }
        "Subscribe" => {
            requires("webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri, format: JSON })")?;
            let (topic, uri) = (vars["topic"].clone(), vars["uri"].clone());
            if inner
                .subscriptions
                .iter()
                .any(|s| s["topic"] == topic && s["uri"] == uri)
            {
                return Ok(
                    json!({ "webhookSubscriptionCreate": { "webhookSubscription": null, "userErrors": [{ "field": ["webhookSubscription", "callbackUrl"], "message": "Address for this topic has already been taken" }] } }),
                );
            }
            inner.next += 1;
            let subscription = json!({ "id": format!("gid://shopify/WebhookSubscription/{}", inner.next), "topic": topic, "uri": uri });
            inner.subscriptions.push(subscription.clone());
            Ok(json!({ "webhookSubscriptionCreate": { "webhookSubscription": subscription, "userErrors": [] } }))
        }
        "Subscriptions" => Ok(json!({ "webhookSubscriptions": { "nodes": inner.subscriptions } })),
        "Unsubscribe" => {
            let before = inner.subscriptions.len();
            inner.subscriptions.retain(|s| s["id"] != vars["id"]);
            if inner.subscriptions.len() == before {
                return Ok(
                    json!({ "webhookSubscriptionDelete": { "deletedWebhookSubscriptionId": null, "userErrors": [{ "field": ["id"], "message": "Webhook subscription does not exist" }] } }),
                );
            }
            Ok(json!({ "webhookSubscriptionDelete": { "deletedWebhookSubscriptionId": vars["id"], "userErrors": [] } }))
        }
        other => Err(json!([{ "message": format!("the mock does not know {other}") }])),
    }
}
