//! What providers say about their rate limits before they answer 429: in
//! headers, for every plugin ([`header_pause`]), and in the body, where a
//! plugin declared where its provider reports a cost budget
//! ([`CostBudget`], the contract's `rate-signals`).
//!
//! The budgets themselves (token buckets per provider and connection, and
//! the pauses a 429 asks for) live behind [`RateStore`](patchbay_store::RateStore).

use std::time::Duration;

use serde_json::Value;

/// The longest pause a cost budget may ask for: a budget restored slower than
/// this is a misreading, not a reason to stall a connection for hours.
const MAX_BUDGET_PAUSE: Duration = Duration::from_secs(600);

/// An answer that refuses for want of budget although its status is 2xx:
/// an item of the list at `items` whose value at `code` is `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetRefusal {
    /// JSON pointer to a list in the answer (`/errors`).
    pub items: String,
    /// JSON pointer within each item to its code (`/extensions/code`).
    pub code: String,
    /// The code meaning "over budget" (`THROTTLED`).
    pub value: String,
}

/// A cost budget the provider reports in the JSON body of its answers (a
/// leaky bucket of query cost, as Shopify's GraphQL Admin API reports in
/// `extensions.cost`): where each figure is, as JSON pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostBudget {
    /// Units available after the request.
    pub available: String,
    /// Units restored per second.
    pub restore_rate: String,
    /// What the request cost, or would have cost.
    pub cost: String,
    /// How a 2xx refusal for want of budget reads.
    pub refusal: Option<BudgetRefusal>,
}

/// What one answer said of the budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetReading {
    /// Units available.
    pub available: f64,
    /// Units restored per second.
    pub restore_rate: f64,
    /// The request's cost.
    pub cost: f64,
    /// Whether the answer refused the request for want of budget.
    pub refused: bool,
}

impl BudgetReading {
    /// How long until the budget holds the request's cost again: the pause
    /// to put on the connection's budget, when there is one to wait for.
    pub fn pause(&self) -> Option<Duration> {
        let missing = self.cost - self.available;
        if missing <= 0.0 || self.restore_rate <= 0.0 {
            return None;
        }
        // Rate stores keep time in whole milliseconds, their `now` cut
        // down: round the pause up and add one, so that it never ends a
        // hair before the budget holds the cost (the provider would refuse).
        let millis = (missing / self.restore_rate * 1000.0).ceil() + 1.0;
        Some(Duration::from_secs_f64(millis / 1000.0).min(MAX_BUDGET_PAUSE))
    }
}

fn pointer_ok(pointer: &str) -> bool {
    pointer.starts_with('/')
}

impl CostBudget {
    /// Checks a plugin's declaration: every pointer an RFC 6901 pointer
    /// into the body (`/…`), a refusal code to look for.
    pub fn validate(&self) -> Result<(), String> {
        for (field, pointer) in [
            ("available", &self.available),
            ("restore-rate", &self.restore_rate),
            ("cost", &self.cost),
        ] {
            if !pointer_ok(pointer) {
                return Err(format!(
                    "rate-signals.budget: {field} {pointer:?} is not a JSON pointer into the answer (/…)"
                ));
            }
        }
        if let Some(refusal) = &self.refusal {
            for (field, pointer) in [("refusal.items", &refusal.items), ("refusal.code", &refusal.code)] {
                if !pointer_ok(pointer) {
                    return Err(format!(
                        "rate-signals.budget: {field} {pointer:?} is not a JSON pointer (/…)"
                    ));
                }
            }
            if refusal.value.is_empty() {
                return Err("rate-signals.budget: refusal.value is empty".into());
            }
        }
        Ok(())
    }

    /// Reads an answer's body; `None` when it is not JSON or does not
    /// report the budget (an error page, another endpoint).
    pub fn read(&self, body: &[u8]) -> Option<BudgetReading> {
        if !body.trim_ascii_start().starts_with(b"{") {
            return None;
        }
        let doc: Value = serde_json::from_slice(body).ok()?;
        let number = |pointer: &str| {
            let value = doc.pointer(pointer)?;
            value
                .as_f64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n: &f64| n.is_finite() && *n >= 0.0)
        };
        let refused = self.refusal.as_ref().is_some_and(|refusal| {
            doc.pointer(&refusal.items)
                .and_then(Value::as_array)
                .is_some_and(|items| {
                    items
                        .iter()
                        .any(|item| item.pointer(&refusal.code).and_then(Value::as_str) == Some(refusal.value.as_str()))
                })
        });
        Some(BudgetReading {
            available: number(&self.available)?,
            restore_rate: number(&self.restore_rate)?,
            cost: number(&self.cost).unwrap_or(0.0),
            refused,
        })
    }
}

/// A pause a provider asks for in its rate-limit headers before it starts
/// answering 429: Shopify's `X-Shopify-Shop-Api-Call-Limit: 39/40` (leaky
/// bucket nearly full: wait for one leak, half a second at 2 rps), and the
/// common `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After` (seconds,
/// Discord) or `X-RateLimit-Reset` (Unix time, GitHub). Windows of requests
/// and of tokens (LLM APIs): OpenAI's `x-ratelimit-remaining-requests: 0`
/// with `x-ratelimit-reset-requests: 6m0s` (a duration), Anthropic's
/// `anthropic-ratelimit-tokens-remaining: 0` with
/// `anthropic-ratelimit-tokens-reset` (an RFC 3339 time); an exhausted
/// window pauses until it resets, the longest of them when several are.
pub fn header_pause(headers: &[(String, String)], now_unix: u64) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    if let Some(pause) = window_pause(&get, now_unix) {
        return (!pause.is_zero()).then(|| pause.min(Duration::from_secs(3600)));
    }
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

/// The pause the request and token windows of LLM APIs ask for: zero when
/// none is exhausted, `None` when the answer has no such headers.
fn window_pause<'a>(get: &impl Fn(&str) -> Option<&'a str>, now_unix: u64) -> Option<Duration> {
    let exhausted = |remaining: &str| remaining.parse::<f64>().is_ok_and(|left| left <= 0.0);
    let mut pause = None;
    for kind in ["requests", "tokens"] {
        if let Some(remaining) = get(&format!("x-ratelimit-remaining-{kind}")) {
            let reset = get(&format!("x-ratelimit-reset-{kind}")).and_then(go_duration);
            let wait = reset.filter(|_| exhausted(remaining)).unwrap_or_default();
            pause = pause.max(Some(wait));
        }
    }
    for kind in ["requests", "tokens", "input-tokens", "output-tokens"] {
        if let Some(remaining) = get(&format!("anthropic-ratelimit-{kind}-remaining")) {
            let reset = get(&format!("anthropic-ratelimit-{kind}-reset"))
                .and_then(rfc3339_unix)
                .map(|at| Duration::from_secs(at.saturating_sub(now_unix)));
            let wait = reset.filter(|_| exhausted(remaining)).unwrap_or_default();
            pause = pause.max(Some(wait));
        }
    }
    pause
}

/// A Go duration as OpenAI writes its resets: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
fn go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0_f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "\u{b5}s" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    total.is_finite().then(|| Duration::from_secs_f64(total.min(1e9)))
}

/// An RFC 3339 time (`2026-12-01T10:00:30Z`, `…+02:00`; fractions of a
/// second ignored) as Unix seconds.
fn rfc3339_unix(text: &str) -> Option<u64> {
    let (date, time) = text.trim().split_once(['T', 't', ' '])?;
    let mut date = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let zone_at = time.find(['Z', 'z', '+', '-'])?;
    let (clock, zone) = time.split_at(zone_at);
    let mut clock = clock.split(':');
    let hour: i64 = clock.next()?.parse().ok()?;
    let minute: i64 = clock.next()?.parse().ok()?;
    let second: i64 = clock.next()?.split('.').next()?.parse().ok()?;
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':')?;
            let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
            if !(0..24).contains(&h) || !(0..60).contains(&m) {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let in_range = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..=23).contains(&hour)
        && (0..=59).contains(&minute)
        && (0..=60).contains(&second)
        && offset.abs() < 86_400;
    if !in_range {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second - offset).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_windows_pause_until_the_exhausted_one_resets() {
        let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
        };
        let openai = h(&[
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "1s"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "6m0s"),
        ]);
        assert_eq!(header_pause(&openai, 0), Some(Duration::from_secs(360)));
        let fine = h(&[
            ("x-ratelimit-remaining-requests", "4999"),
            ("x-ratelimit-reset-requests", "12ms"),
            ("x-ratelimit-remaining-tokens", "159976"),
            ("x-ratelimit-reset-tokens", "9ms"),
        ]);
        assert_eq!(header_pause(&fine, 0), None);
        assert_eq!(go_duration("1h2m3.5s"), Some(Duration::from_secs_f64(3723.5)));
        assert_eq!(go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(go_duration("soon"), None);
        let now = rfc3339_unix("2026-12-01T10:00:00Z").unwrap();
        assert_eq!(now, 1_796_119_200);
        let anthropic = h(&[
            ("anthropic-ratelimit-requests-remaining", "12"),
            ("anthropic-ratelimit-requests-reset", "2026-12-01T10:00:01Z"),
            ("anthropic-ratelimit-tokens-remaining", "0"),
            ("anthropic-ratelimit-tokens-reset", "2026-12-01T12:00:30+02:00"),
        ]);
        assert_eq!(header_pause(&anthropic, now), Some(Duration::from_secs(30)));
    }

    fn shopify() -> CostBudget {
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

    #[test]
    fn cost_budgets_are_read_from_answers() {
        let budget = shopify();
        budget.validate().unwrap();
        let ok = br#"{"data":{},"extensions":{"cost":{"requestedQueryCost":102,"actualQueryCost":46,
            "throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1954,"restoreRate":100.0}}}}"#;
        let reading = budget.read(ok).unwrap();
        assert_eq!(
            (reading.available, reading.restore_rate, reading.cost),
            (1954.0, 100.0, 102.0)
        );
        assert!(!reading.refused);
        assert_eq!(reading.pause(), None, "enough in hand for another like it");

        let low = br#"{"data":{},"extensions":{"cost":{"requestedQueryCost":302,
            "throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":102,"restoreRate":50}}}}"#;
        assert_eq!(budget.read(low).unwrap().pause(), Some(Duration::from_millis(4001)));

        let throttled = br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED",
            "documentation":"https://shopify.dev/api/usage/limits#rate-limits"}}],
            "extensions":{"cost":{"requestedQueryCost":752,"actualQueryCost":null,
            "throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":2,"restoreRate":50.0}}}}"#;
        let reading = budget.read(throttled).unwrap();
        assert!(reading.refused);
        assert_eq!(reading.pause(), Some(Duration::from_millis(15_001)));

        for other in [&b"<html>busy</html>"[..], b"{not json", br#"{"data":{}}"#, b"[]"] {
            assert_eq!(budget.read(other), None, "{}", String::from_utf8_lossy(other));
        }
        let silly = br#"{"extensions":{"cost":{"requestedQueryCost":1e9,
            "throttleStatus":{"currentlyAvailable":0,"restoreRate":0.001}}}}"#;
        assert_eq!(budget.read(silly).unwrap().pause(), Some(MAX_BUDGET_PAUSE));
    }

    #[test]
    fn cost_budget_declarations_are_checked() {
        let mut budget = shopify();
        budget.available = "extensions.cost".into();
        assert!(budget.validate().unwrap_err().contains("available"));
        let mut budget = shopify();
        budget.refusal.as_mut().unwrap().value.clear();
        assert!(budget.validate().unwrap_err().contains("refusal.value"));
    }

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
