//! The WooCommerce adapter's work done natively: the same mapping code
//! (`shop_woocommerce::mapping`), with `reqwest` instead of the host.

use patchbay_sdk::client::Raw;
use patchbay_sdk::types::Order;
use shop_woocommerce::mapping::WcOrder;

/// A native client for the mock shop.
pub struct NativeShop {
    pub client: reqwest::Client,
    pub site: String,
    pub consumer_key: String,
    pub consumer_secret: String,
}

/// One page: the mapped orders and the page count from `X-WP-TotalPages`.
pub struct NativePage {
    pub orders: Vec<Order>,
    pub total_pages: u32,
}

impl NativeShop {
    /// GETs one page: its body and the page count from `X-WP-TotalPages`.
    pub async fn fetch(&self, page: u32) -> (bytes::Bytes, u32) {
        let response = self
            .client
            .get(format!("{}/wp-json/wc/v3/orders", self.site))
            .query(&[
                ("per_page", "100"),
                ("orderby", "date"),
                ("order", "desc"),
                ("page", &page.to_string()),
            ])
            .basic_auth(&self.consumer_key, Some(&self.consumer_secret))
            .send()
            .await
            .expect("the mock answers");
        assert!(response.status().is_success(), "{}", response.status());
        let total_pages = response
            .headers()
            .get("x-wp-totalpages")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        (response.bytes().await.expect("a body"), total_pages)
    }

    /// Reads a page's orders as the plugin does (one pass, typed, each
    /// with its JSON text).
    pub fn parse(body: &[u8]) -> Vec<Raw<WcOrder>> {
        patchbay_sdk::client::raw_items(body).expect("a JSON array of orders")
    }

    /// Maps raw orders as the plugin does (taking them: each order's JSON
    /// text moves into its raw payload), with or without raw payloads.
    pub fn map(&self, raw: Vec<Raw<WcOrder>>, keep_raw: bool) -> Vec<Order> {
        raw.into_iter()
            .map(|order| shop_woocommerce::mapping::order_with(order, &self.site, keep_raw).expect("mock orders map"))
            .collect()
    }

    /// One page, fetched, parsed and mapped.
    pub async fn page(&self, page: u32) -> NativePage {
        let (body, total_pages) = self.fetch(page).await;
        NativePage {
            orders: self.map(Self::parse(&body), true),
            total_pages,
        }
    }
}
