//! Patchbay plugin for Meta catalogue feeds (Facebook and Instagram shops,
//! Advantage+ catalogue ads).
//!
//! A shop's products become catalogue items, one per variant (their
//! `item_group_id` the product's id), checked against Meta's catalogue
//! fields (<https://developers.facebook.com/docs/commerce-platform/catalog/fields>)
//! and written as CSV (RFC 4180, a header row; additional images a quoted,
//! comma-separated list) or as RSS 2.0 XML with the `g:` namespace, both
//! formats Meta reads. Meta's vocabulary differs from Google's: availability
//! is `in stock`, `out of stock`, `preorder` or `available for order`, and
//! `condition` is always written. Products with errors are left out and
//! counted; warnings go in the result. The manifest is `patchbay.toml`.

use patchbay_sdk::feed::{self, Issues, Item};
use patchbay_sdk::prelude::*;

/// The Meta catalogue feed.
pub struct MetaCatalog;

/// CSV with a header row.
pub const CSV: &str = "meta-catalog-csv";
/// RSS 2.0 XML.
pub const XML: &str = "meta-catalog-xml";

/// Meta's limits, in characters.
const LIMITS: feed::Limits = feed::Limits {
    id: 100,
    title: 200,
    description: 9999,
    link: 2000,
};
const BRAND_MAX: usize = 100;
/// Additional images Meta reads.
const MORE_IMAGES: usize = 20;

/// Meta's availability: the `availability` attribute when it says more
/// than the stock can (`preorder`; a backorder is `available for order`),
/// else from the stock (untracked stock is in stock).
fn availability(item: &Item) -> &'static str {
    match item.availability.as_deref().map(|a| a.replace('_', " ")).as_deref() {
        Some("preorder") => "preorder",
        Some("backorder" | "available for order") => "available for order",
        Some("out of stock") => "out of stock",
        Some("in stock") => "in stock",
        _ => match item.stock {
            Some(n) if n <= 0 => "out of stock",
            _ => "in stock",
        },
    }
}

/// One item's fields, in Meta's names and in the feed's order.
pub fn row(item: &Item) -> feed::Row {
    let mut out: feed::Row = vec![
        ("id", item.id.clone()),
        ("title", item.title.clone()),
        ("description", item.description.clone()),
        ("availability", availability(item).to_string()),
        ("condition", item.condition.clone().unwrap_or_else(|| "new".into())),
        ("price", item.price_text()),
        ("link", item.link.clone()),
        ("image_link", item.image_link.clone().unwrap_or_default()),
        ("brand", item.brand.clone().unwrap_or_default()),
    ];
    for link in item.additional_image_links.iter().take(MORE_IMAGES) {
        out.push(("additional_image_link", link.clone()));
    }
    out.extend([
        ("gtin", item.gtin.clone().unwrap_or_default()),
        ("mpn", item.mpn.clone().unwrap_or_default()),
        ("item_group_id", item.item_group_id.clone().unwrap_or_default()),
        ("product_type", item.product_type.clone().unwrap_or_default()),
        (
            "quantity_to_sell_on_facebook",
            item.stock.map(|n| n.max(0).to_string()).unwrap_or_default(),
        ),
    ]);
    feed::push_variant_attributes(item, &mut out);
    out
}

/// Checks one item against Meta's catalogue fields.
pub fn check(item: &Item, issues: &mut Issues) {
    let product = item.product_id.as_str();
    issues.basics(item, &LIMITS);
    match &item.brand {
        Some(brand) if brand.chars().count() > BRAND_MAX => {
            issues.error(product, "brand", format!("brand has more than {BRAND_MAX} characters"));
        }
        Some(_) => {}
        None if item.gtin.is_none() && item.mpn.is_none() => {
            issues.error(product, "brand", "Meta needs a brand, a gtin or an mpn");
        }
        None => issues.warning(product, "brand", "no brand: Meta shows the brand in shops and ads"),
    }
}

impl Connector for MetaCatalog {
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "Feeds are written here; nothing to connect to".into(),
            details: "{}".into(),
        })
    }
}

impl Feed for MetaCatalog {
    fn supported_formats() -> Vec<FeedFormat> {
        vec![
            FeedFormat {
                id: CSV.into(),
                content_type: "text/csv".into(),
                description: "CSV with a header row (RFC 4180)".into(),
            },
            FeedFormat {
                id: XML.into(),
                content_type: "application/xml".into(),
                description: "RSS 2.0 XML with the g: namespace".into(),
            },
        ]
    }

    fn validate_products(products: Vec<Product>) -> Result<FeedValidationResult> {
        Ok(feed::validate(&products, check))
    }

    fn generate_feed(products: Vec<Product>, format: String) -> Result<FeedResult> {
        let (content_type, writer) = match format.as_str() {
            CSV => ("text/csv", feed::Writer::Table(feed::csv_record)),
            XML => ("application/xml", feed::Writer::Rss),
            other => {
                return Err(Error::Validation(format!(
                    "unknown format {other:?}; this plugin writes {CSV} and {XML}"
                )));
            }
        };
        feed::generate(&products, format, content_type, check, row, writer)
    }
}

patchbay_sdk::export!(MetaCatalog: feed);
