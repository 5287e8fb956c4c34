//! The WooCommerce REST API v3 client: base URL, authentication, paging.

use patchbay_sdk::prelude::*;

/// Largest page WooCommerce serves (`per_page` ≤ 100).
pub const MAX_PAGE_SIZE: u32 = 100;

/// `https://shop.example.com` (or a WordPress sub-directory) from the
/// `domain` setting; a bare host name means HTTPS.
pub fn site_url() -> Result<String> {
    let domain = config::require("domain")?;
    let domain = domain.trim().trim_end_matches('/');
    if domain.is_empty() {
        return Err(Error::Config("the setting \"domain\" is empty".into()));
    }
    Ok(if domain.contains("://") {
        domain.to_string()
    } else {
        format!("https://{domain}")
    })
}

/// The URL of an API path such as `orders/42`.
pub fn endpoint(path: &str) -> Result<String> {
    Ok(format!("{}/wp-json/wc/v3/{path}", site_url()?))
}

/// A request authenticated with the consumer key and secret, by name.
pub fn authed(request: Request) -> Request {
    request
        .basic_auth("consumer_key", "consumer_secret")
        .header("accept", "application/json")
}

/// Sends a request and maps WooCommerce's error bodies
/// (`{"code": "...", "message": "...", "data": {"status": 401}}`).
pub fn send(request: Request) -> Result<Response> {
    authed(request).send()?.error_for_status()
}

/// A page of a list endpoint: the items (raw JSON kept for `provider-meta`)
/// and the totals from `X-WP-Total` / `X-WP-TotalPages`.
pub struct ListPage {
    pub items: Vec<serde_json::Value>,
    pub page: u32,
    pub total: Option<u64>,
    pub total_pages: Option<u32>,
}

impl ListPage {
    pub fn next_cursor(&self) -> Option<String> {
        paging::next_page_cursor(self.page, self.total_pages)
    }
}

/// GETs one page of a list endpoint.
pub fn list(request: Request, page: u32) -> Result<ListPage> {
    let response = send(request.query("page", page.to_string()))?;
    let items: Vec<serde_json::Value> = response.json()?;
    let header_number = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u64>().ok());
    Ok(ListPage {
        items,
        page,
        total: header_number("x-wp-total"),
        total_pages: header_number("x-wp-totalpages").map(|n| n.min(u64::from(u32::MAX)) as u32),
    })
}

/// A page size from an optional preference.
pub fn page_size(limit: Option<u32>) -> u32 {
    limit.unwrap_or(MAX_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)
}
