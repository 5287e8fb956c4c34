//! Times as the contract writes them (RFC 3339, UTC) and as providers
//! often send them (Unix seconds), without a date library.

use crate::{Error, Result};

/// RFC 3339 (UTC) of a Unix time in seconds.
pub fn rfc3339(seconds: i64) -> String {
    // Civil from days (Howard Hinnant's algorithm), without a date crate.
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Now, in Unix seconds (the host's wall clock).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Unix seconds of an HTTP date (RFC 9110's IMF-fixdate, `Wed, 02 Dec 2026
/// 01:40:42 GMT`), as `Last-Modified` and WebDAV's `getlastmodified` carry it.
///
/// ```
/// use patchbay_sdk::time::{http_date, rfc3339};
/// assert_eq!(rfc3339(http_date("Wed, 02 Dec 2026 01:40:42 GMT").unwrap()), "2026-12-02T01:40:42Z");
/// ```
pub fn http_date(text: &str) -> Result<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let bad = || Error::Validation(format!("{text:?} is not an HTTP date"));
    let date = text.trim().split_once(", ").map_or(text.trim(), |(_, rest)| rest);
    let mut parts = date.split_whitespace();
    let (day, month, year, clock) = (parts.next(), parts.next(), parts.next(), parts.next());
    let month = month
        .and_then(|m| MONTHS.iter().position(|name| name.eq_ignore_ascii_case(m)))
        .ok_or_else(bad)?;
    let (Some(day), Some(year), Some(clock), Some("GMT" | "UTC"), None) =
        (day, year, clock, parts.next(), parts.next())
    else {
        return Err(bad());
    };
    unix(&format!("{year}-{:02}-{day:0>2}T{clock}Z", month + 1)).map_err(|_| bad())
}

/// Unix seconds of an RFC 3339 time (`2026-11-30T10:00:00Z`, an offset, or
/// a date alone); ISO 8601's basic offsets (`+0200`, `+02`) are read too,
/// as some providers send them.
pub fn unix(timestamp: &str) -> Result<i64> {
    let bad = || Error::Validation(format!("{timestamp:?} is not an RFC 3339 time"));
    let t = timestamp.trim();
    let number = |s: Option<&str>| s.and_then(|s| s.parse::<i64>().ok()).ok_or_else(bad);
    let (date, time) = t.split_once(['T', 't', ' ']).unwrap_or((t, "00:00:00Z"));
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (number(parts.next())?, number(parts.next())?, number(parts.next())?);
    let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => (time, "Z"),
    };
    let mut hms = clock.split(':');
    let (hour, minute) = (number(hms.next())?, number(hms.next())?);
    let second = hms.next().map(|s| s.split('.').next().unwrap_or("0")).unwrap_or("0");
    let second = number(Some(second))?;
    let offset = match offset {
        "Z" | "z" => 0,
        _ => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let digits = &offset[1..];
            let (h, m) = match digits.split_once(':') {
                Some(parts) => parts,
                None if digits.len() == 4 => digits.split_at(2),
                None if digits.len() == 2 => (digits, "0"),
                None => return Err(bad()),
            };
            sign * (number(Some(h))? * 3600 + number(Some(m))? * 60)
        }
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_496_800), "2025-11-30T10:00:00Z");
        assert_eq!(unix("2025-11-30T10:00:00Z").unwrap(), 1_764_496_800);
        assert_eq!(unix("2025-11-30T12:00:00+02:00").unwrap(), 1_764_496_800);
        assert_eq!(unix("2025-11-30T12:00:00+0200").unwrap(), 1_764_496_800);
        assert_eq!(unix("2025-11-30T07:00:00-03").unwrap(), 1_764_496_800);
        assert!(unix("2025-11-30T12:00:00+020").is_err());
        assert!(now() > 1_764_496_800);
        assert_eq!(unix("2024-02-29").unwrap(), 1_709_164_800);
        assert!(unix("yesterday").is_err());
        assert!(unix("2024-13-01").is_err());
    }
}
