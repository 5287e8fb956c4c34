//! Amounts between the contract's decimals and Stripe's integers in the
//! currency's smallest unit (cents; yen themselves; fils in thousandths).
//! <https://docs.stripe.com/currencies#zero-decimal>

use patchbay_sdk::prelude::*;

/// Currencies Stripe counts in whole units.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
];

/// Currencies Stripe counts in thousandths.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Decimal places of `currency` in Stripe's amounts.
pub fn exponent(currency: &str) -> u32 {
    let currency = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&currency.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&currency.as_str()) {
        3
    } else {
        2
    }
}

/// `12.34` EUR → 1234; an amount with more places than the currency has,
/// a negative one or one that is not a number is a validation error.
pub fn to_minor(amount: &str, currency: &str) -> Result<i64> {
    let places = exponent(currency) as usize;
    let amount = amount.trim();
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
        return Err(Error::Validation(format!("amount {amount:?} is not a decimal number")));
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > places {
        return Err(Error::Validation(format!(
            "amount {amount:?} has more decimal places than {} has ({places})",
            currency.to_uppercase()
        )));
    }
    let text = format!("{whole}{fraction:0<places$}");
    text.parse::<i64>()
        .map_err(|_| Error::Validation(format!("amount {amount:?} is too large")))
}

/// 1234 EUR → `12.34`; 500 JPY → `500`.
pub fn to_decimal(minor: i64, currency: &str) -> String {
    let places = exponent(currency);
    if places == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(places);
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = places as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_currency() {
        assert_eq!(to_minor("12.34", "eur").unwrap(), 1234);
        assert_eq!(to_minor("12.3", "EUR").unwrap(), 1230);
        assert_eq!(to_minor("12", "EUR").unwrap(), 1200);
        assert_eq!(to_minor("500", "JPY").unwrap(), 500);
        assert_eq!(to_minor("1.005", "KWD").unwrap(), 1005);
        assert!(
            matches!(to_minor("1.50", "JPY"), Err(Error::Validation(m)) if m.contains("more decimal places than JPY"))
        );
        assert!(to_minor("12.345", "EUR").is_err());
        assert!(to_minor("-1", "EUR").is_err());
        assert!(to_minor("1e3", "EUR").is_err());
        assert_eq!(to_decimal(1234, "EUR"), "12.34");
        assert_eq!(to_decimal(5, "usd"), "0.05");
        assert_eq!(to_decimal(500, "JPY"), "500");
        assert_eq!(to_decimal(1005, "KWD"), "1.005");
    }
}
