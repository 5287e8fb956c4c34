//! Pagination helpers: page-number cursors and `Link: rel="next"` headers.
//!
//! Ports page with opaque string cursors. Most providers page by number or
//! by a link to the next page; these helpers turn both into cursors.

use crate::{Error, Result};

/// Reads a page-number cursor: `None` is page 1.
///
/// ```
/// use patchbay_sdk::paging::page_from_cursor;
/// assert_eq!(page_from_cursor(None).unwrap(), 1);
/// assert_eq!(page_from_cursor(Some("3")).unwrap(), 3);
/// assert!(page_from_cursor(Some("zero")).is_err());
/// ```
pub fn page_from_cursor(cursor: Option<&str>) -> Result<u32> {
    match cursor {
        None => Ok(1),
        Some(text) => match text.parse::<u32>() {
            Ok(page) if page >= 1 => Ok(page),
            _ => Err(Error::Validation(format!(
                "cursor {text:?} is not a page number; pass a next-cursor from a previous page"
            ))),
        },
    }
}

/// The cursor of the page after `page`, when `total_pages` says there is one.
///
/// ```
/// use patchbay_sdk::paging::next_page_cursor;
/// assert_eq!(next_page_cursor(1, Some(3)), Some("2".to_string()));
/// assert_eq!(next_page_cursor(3, Some(3)), None);
/// ```
pub fn next_page_cursor(page: u32, total_pages: Option<u32>) -> Option<String> {
    match total_pages {
        Some(total) if page < total => Some((page + 1).to_string()),
        _ => None,
    }
}

/// The URL of the `rel="next"` link in an RFC 8288 `Link` header.
///
/// ```
/// use patchbay_sdk::paging::next_link;
/// let header = r#"<https://s.myshopify.com/admin/api/2024-01/orders.json?page_info=abc&limit=50>; rel="next""#;
/// assert_eq!(
///     next_link(header).as_deref(),
///     Some("https://s.myshopify.com/admin/api/2024-01/orders.json?page_info=abc&limit=50")
/// );
/// assert_eq!(next_link(r#"<https://x/a>; rel="previous""#), None);
/// ```
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|param| {
            let param = param.trim();
            param
                .strip_prefix("rel=")
                .map(|rel| {
                    rel.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                })
                .unwrap_or(false)
        });
        is_next.then(|| target.to_string())
    })
}

/// The value of a query parameter of a URL, decoded.
///
/// ```
/// use patchbay_sdk::paging::query_param;
/// assert_eq!(query_param("https://x/y?limit=5&page_info=a%2Bb", "page_info").as_deref(), Some("a+b"));
/// ```
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
