//! The WooCommerce REST API v3: where it is, how it authenticates, how it
//! pages.

use patchbay_sdk::client::{Call, Client, Raw};
use patchbay_sdk::paging::PageNumber;
use patchbay_sdk::prelude::*;
use serde::de::DeserializeOwned;

/// Largest page WooCommerce serves (`per_page` ≤ 100).
pub const MAX_PAGE_SIZE: u32 = 100;

/// The shop's API at `{domain}/wp-json/wc/v3`, with the consumer key and
/// secret as HTTP Basic (named; the host fills them in). WooCommerce's error
/// bodies (`{"code", "message", "data": {"status"}}`) read as they are.
pub fn client() -> Result<Client> {
    Ok(Client::from_setting("domain")?
        .path("wp-json/wc/v3")
        .basic_auth("consumer_key", "consumer_secret")
        .header("accept", "application/json"))
}

/// The shop's own address, for links to its admin.
pub fn site_url() -> Result<String> {
    Ok(Client::from_setting("domain")?.base().to_string())
}

/// Where a list call stops in a `just bench` build (the `bench-stop-after-*`
/// features): 0 fetch, 1 parse, 2 map; 3 (always, shipped) runs through.
const BENCH_STOP: u8 = if cfg!(feature = "bench-stop-after-fetch") {
    0
} else if cfg!(feature = "bench-stop-after-parse") {
    1
} else if cfg!(feature = "bench-stop-after-map") {
    2
} else {
    3
};

/// One page of a list endpoint, typed, with the totals WooCommerce sends
/// in `X-WP-Total` / `X-WP-TotalPages`.
pub fn list<T: DeserializeOwned, P: paging::Page>(
    call: Call,
    page: PageNumber,
    map: impl FnMut(Raw<T>) -> Result<P::Item>,
) -> Result<P> {
    let response = call
        .query("page", page.number.to_string())
        .query("per_page", page.size.to_string())
        .send()?;
    if BENCH_STOP == 0 {
        return Ok(page.page(Vec::new(), None, None));
    }
    let raw: Vec<Raw<T>> = response.raw_items()?;
    if BENCH_STOP == 1 {
        return Ok(page.page(Vec::new(), Some(raw.len() as u64), None));
    }
    let items = raw.into_iter().map(map).collect::<Result<Vec<_>>>()?;
    if BENCH_STOP == 2 {
        return Ok(page.page(Vec::new(), Some(items.len() as u64), None));
    }
    let number = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u64>().ok());
    let total_pages = number("x-wp-totalpages").map(|n| n.min(u64::from(u32::MAX)) as u32);
    Ok(page.page(items, number("x-wp-total"), total_pages))
}
