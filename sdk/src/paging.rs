//! Paging: from a port's query (an opaque cursor and a size preference) to
//! the provider's paging, and from the provider's answer straight to the
//! port's page type.
//!
//! Providers page four ways, and each has its helper: [`PageNumber`]
//! (`?page=3`, totals in headers or the body), [`Offset`]
//! (`?offset=100&limit=50`), [`cursor_page`] (the provider hands out a
//! cursor) and [`link_page`] (an RFC 8288 `Link: <...>; rel="next"`).
//!
//! ```
//! use patchbay_sdk::paging::PageNumber;
//! use patchbay_sdk::types::OrderPage;
//!
//! let page = PageNumber::from_query(Some("2"), Some(500), 100).unwrap();
//! assert_eq!((page.number, page.size), (2, 100));
//! let orders: OrderPage = page.page(Vec::new(), Some(250), Some(3));
//! assert_eq!(orders.next_cursor.as_deref(), Some("3"));
//! assert!(orders.has_more);
//! assert_eq!(orders.total, Some(250));
//! ```

use crate::http::Response;
use crate::types::{OrderPage, PaymentPage, ProductPage, ShipmentPage};
use crate::{Error, Result};

/// A port's page type: its items, the cursor of the next page, and the
/// total when the provider tells it.
pub trait Page: Sized {
    /// What the page lists.
    type Item;
    /// The page; `has-more` is whether there is a next cursor.
    fn from_parts(items: Vec<Self::Item>, next_cursor: Option<String>, total: Option<u64>) -> Self;
}

macro_rules! page_types {
    ($($page:ty => $item:ty),+ $(,)?) => {$(
        impl Page for $page {
            type Item = $item;
            fn from_parts(items: Vec<$item>, next_cursor: Option<String>, total: Option<u64>) -> Self {
                Self { items, has_more: next_cursor.is_some(), next_cursor, total }
            }
        }
    )+};
}

page_types! {
    OrderPage => crate::types::Order,
    ProductPage => crate::types::Product,
    ShipmentPage => crate::types::Shipment,
    PaymentPage => crate::types::PaymentResult,
}

/// The page size to ask for: the caller's preference within `1..=max`,
/// else `max`.
pub fn size(limit: Option<u32>, max: u32) -> u32 {
    limit.unwrap_or(max).clamp(1, max.max(1))
}

/// Page-number paging (`?page=N&per_page=M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    /// The page to fetch, from 1.
    pub number: u32,
    /// Its size.
    pub size: u32,
}

impl PageNumber {
    /// The page a query asks for: its cursor (`None` is page 1) and its
    /// size preference, at most `max_size`.
    pub fn from_query(cursor: Option<&str>, limit: Option<u32>, max_size: u32) -> Result<Self> {
        Ok(Self {
            number: page_from_cursor(cursor)?,
            size: size(limit, max_size),
        })
    }

    /// The port's page: the next cursor from the provider's number of
    /// pages, or, when it does not say, from whether this page was full.
    pub fn page<P: Page>(self, items: Vec<P::Item>, total: Option<u64>, total_pages: Option<u32>) -> P {
        let more = match total_pages {
            Some(pages) => self.number < pages,
            None => match total {
                Some(total) => u64::from(self.number) * u64::from(self.size) < total,
                None => items.len() >= self.size as usize,
            },
        };
        let next = more.then(|| (self.number + 1).to_string());
        P::from_parts(items, next, total)
    }
}

/// Offset paging (`?offset=N&limit=M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    /// How many items to skip.
    pub offset: u64,
    /// How many to fetch.
    pub limit: u32,
}

impl Offset {
    /// The slice a query asks for: its cursor (`None` is offset 0) and its
    /// size preference, at most `max_limit`.
    ///
    /// ```
    /// use patchbay_sdk::paging::Offset;
    /// use patchbay_sdk::types::PaymentPage;
    /// let slice = Offset::from_query(Some("50"), Some(25), 100).unwrap();
    /// let page: PaymentPage = slice.page(Vec::new(), Some(100));
    /// assert_eq!(page.next_cursor.as_deref(), Some("75"));
    /// assert!(Offset::from_query(Some("-1"), None, 100).is_err());
    /// ```
    pub fn from_query(cursor: Option<&str>, limit: Option<u32>, max_limit: u32) -> Result<Self> {
        let offset = match cursor {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                Error::Validation(format!(
                    "cursor {text:?} is not an offset; pass a next-cursor from a previous page"
                ))
            })?,
        };
        Ok(Self {
            offset,
            limit: size(limit, max_limit),
        })
    }

    /// The port's page: more when the total says so, or, without a total,
    /// when this slice was full.
    pub fn page<P: Page>(self, items: Vec<P::Item>, total: Option<u64>) -> P {
        let end = self.offset + u64::from(self.limit);
        let more = match total {
            Some(total) => end < total,
            None => items.len() >= self.limit as usize,
        };
        P::from_parts(items, more.then(|| end.to_string()), total)
    }
}

/// The port's page when the provider hands out the next cursor itself
/// (`has_more` + `starting_after`, `next_page_token`, ...).
pub fn cursor_page<P: Page>(items: Vec<P::Item>, next_cursor: Option<String>, total: Option<u64>) -> P {
    P::from_parts(items, next_cursor.filter(|c| !c.is_empty()), total)
}

/// The port's page when the next page is a `Link: <url>; rel="next"`
/// header: the cursor is the value of `param` in that URL (Shopify's
/// `page_info`), which the next call sends back as that parameter.
///
/// ```
/// use patchbay_sdk::http::Response;
/// use patchbay_sdk::paging::link_page;
/// use patchbay_sdk::types::{Header, OrderPage};
/// let response = Response {
///     status: 200,
///     headers: vec![Header {
///         name: "Link".into(),
///         value: r#"<https://s.myshopify.com/admin/api/2024-01/orders.json?limit=50&page_info=abc>; rel="next""#.into(),
///     }],
///     body: Vec::new(),
/// };
/// let page: OrderPage = link_page(Vec::new(), &response, "page_info");
/// assert_eq!(page.next_cursor.as_deref(), Some("abc"));
/// ```
pub fn link_page<P: Page>(items: Vec<P::Item>, response: &Response, param: &str) -> P {
    let next = response
        .header("link")
        .and_then(next_link)
        .and_then(|url| query_param(&url, param));
    cursor_page(items, next, None)
}

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
