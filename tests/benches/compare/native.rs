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
    /// GETs one page of raw orders (no mapping).
    pub async fn fetch(&self, page: u32) -> (Vec<Raw<WcOrder>>, u32) {
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
        let body = response.bytes().await.expect("a body");
        let raw: Vec<Raw<WcOrder>> = serde_json::from_slice(&body).expect("a JSON array of orders");
        (raw, total_pages)
    }

    /// Maps raw orders as the plugin does.
    pub fn map(&self, raw: &[Raw<WcOrder>]) -> Vec<Order> {
        raw.iter()
            .map(|order| shop_woocommerce::mapping::order(order, &self.site).expect("mock orders map"))
            .collect()
    }

    /// One page, fetched and mapped.
    pub async fn page(&self, page: u32) -> NativePage {
        let (raw, total_pages) = self.fetch(page).await;
        NativePage {
            orders: self.map(&raw),
            total_pages,
        }
    }
}
