//! Rate-limit headers an upstream sends (`Retry-After`, `X-RateLimit-*`,
//! OpenAI's and Anthropic's windows, Shopify's call limit): never a panic
//! on any names and values, and never a pause past the hour the host caps
//! it at.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use patchbay_outbound::{ratelimit, retry};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let (Ok(headers), Ok(now)) = (u.arbitrary::<Vec<(String, String)>>(), u.arbitrary::<u64>()) else {
        return;
    };
    // Known names with arbitrary values, and arbitrary names.
    const NAMES: &[&str] = &[
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-tokens",
        "anthropic-ratelimit-requests-remaining",
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-tokens-remaining",
        "anthropic-ratelimit-tokens-reset",
        "x-shopify-shop-api-call-limit",
    ];
    let headers: Vec<(String, String)> = headers
        .into_iter()
        .enumerate()
        .map(|(i, (name, value))| {
            let name = if i % 2 == 0 {
                NAMES[i / 2 % NAMES.len()].to_string()
            } else {
                name
            };
            (name, value)
        })
        .collect();
    if let Some(pause) = ratelimit::header_pause(&headers, now) {
        assert!(pause <= Duration::from_secs(3600), "{pause:?} from {headers:?}");
    }
    for (_, value) in &headers {
        let _ = retry::retry_after(value, SystemTime::UNIX_EPOCH + Duration::from_secs(now % (1 << 40)));
    }
});
