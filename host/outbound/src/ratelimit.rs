//! What providers say about their rate limits before they answer 429.
//!
//! The budgets themselves (token buckets per provider and connection, and
//! the pauses a 429 asks for) live behind [`RateStore`](patchbay_store::RateStore).

use std::time::Duration;

/// A pause a provider asks for in its rate-limit headers before it starts
/// answering 429: Shopify's `X-Shopify-Shop-Api-Call-Limit: 39/40` (leaky
/// bucket nearly full: wait for one leak, half a second at 2 rps), and the
/// common `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After` (seconds,
/// Discord) or `X-RateLimit-Reset` (Unix time, GitHub).
pub fn header_pause(headers: &[(String, String)], now_unix: u64) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    if let Some((used, max)) = get("x-shopify-shop-api-call-limit").and_then(|v| v.split_once('/')) {
        let (used, max) = (used.trim().parse::<u32>().ok()?, max.trim().parse::<u32>().ok()?);
        if max > 0 && used * 10 >= max * 9 {
            return Some(Duration::from_millis(500));
        }
    }
    if get("x-ratelimit-remaining")?.parse::<f64>().ok()? > 0.0 {
        return None;
    }
    if let Some(after) = get("x-ratelimit-reset-after").and_then(|v| v.parse::<f64>().ok().filter(|v| v.is_finite())) {
        return Some(Duration::from_secs_f64(after.clamp(0.0, 3600.0)));
    }
    let reset = get("x-ratelimit-reset")?.parse::<u64>().ok()?;
    // Small values are a delta in seconds, large ones a Unix time.
    Some(Duration::from_secs(
        if reset > 1_000_000_000 {
            reset.saturating_sub(now_unix)
        } else {
            reset
        }
        .min(3600),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_headers_ask_for_pauses() {
        let h = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            header_pause(&h(&[("X-Shopify-Shop-Api-Call-Limit", "39/40")]), 0),
            Some(Duration::from_millis(500))
        );
        assert_eq!(header_pause(&h(&[("X-Shopify-Shop-Api-Call-Limit", "10/40")]), 0), None);
        assert_eq!(
            header_pause(
                &h(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset-after", "1.5")]),
                0
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            header_pause(
                &h(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000030")]),
                1_700_000_000
            ),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            header_pause(&h(&[("x-ratelimit-remaining", "12"), ("x-ratelimit-reset", "5")]), 0),
            None
        );
        assert_eq!(
            header_pause(
                &h(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset-after", "NaN")]),
                0
            ),
            None,
            "a header that is not a number asks for nothing (and panics nothing)"
        );
    }
}
