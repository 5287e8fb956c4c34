//! Patchbay plugin for Google Merchant Center product feeds.
//!
//! A shop's products become Merchant Center items, one per variant (their
//! `item_group_id` the product's id), checked against Google's product data
//! specification (<https://support.google.com/merchants/answer/7052112>)
//! and written as RSS 2.0 with the `g:` namespace
//! (`http://base.google.com/ns/1.0`) or as tab-separated text with a header
//! row. Products with errors are left out of the feed and counted; warnings
//! go in the result. The manifest is `patchbay.toml`.

use patchbay_sdk::feed::{self, Issues, Item};
use patchbay_sdk::prelude::*;

/// The Google Merchant Center feed.
pub struct GoogleMerchant;

/// RSS 2.0 with Google's namespace.
pub const XML: &str = "google-merchant-xml";
/// Tab-separated text.
pub const TSV: &str = "google-merchant-tsv";

/// Google's limits, in characters.
const LIMITS: feed::Limits = feed::Limits {
    id: 50,
    title: 150,
    description: 5000,
    link: 2000,
};
const BRAND_MAX: usize = 70;
const MPN_MAX: usize = 70;
/// Additional images Google reads.
const MORE_IMAGES: usize = 10;

/// One item's attributes, in Google's names and in the feed's order.
pub fn row(item: &Item) -> feed::Row {
    let mut out: feed::Row = vec![
        ("id", item.id.clone()),
        ("title", item.title.clone()),
        ("description", item.description.clone()),
        ("link", item.link.clone()),
        ("image_link", item.image_link.clone().unwrap_or_default()),
    ];
    for link in item.additional_image_links.iter().take(MORE_IMAGES) {
        out.push(("additional_image_link", link.clone()));
    }
    out.extend([
        ("availability", availability(item).to_string()),
        ("price", item.price_text()),
        ("condition", item.condition.clone().unwrap_or_else(|| "new".into())),
        ("brand", item.brand.clone().unwrap_or_default()),
        ("gtin", item.gtin.clone().unwrap_or_default()),
        ("mpn", item.mpn.clone().unwrap_or_default()),
        (
            "identifier_exists",
            if item.gtin.is_none() && item.mpn.is_none() {
                "no"
            } else {
                ""
            }
            .to_string(),
        ),
        ("item_group_id", item.item_group_id.clone().unwrap_or_default()),
        ("product_type", item.product_type.clone().unwrap_or_default()),
    ]);
    feed::push_variant_attributes(item, &mut out);
    out
}

/// Google's availability: the `availability` attribute when it is one of
/// Google's values, else from the stock (untracked stock is in stock).
fn availability(item: &Item) -> &'static str {
    match item.availability.as_deref().map(|a| a.replace(' ', "_")).as_deref() {
        Some("preorder") => "preorder",
        Some("backorder") => "backorder",
        Some("out_of_stock") => "out_of_stock",
        Some("in_stock") => "in_stock",
        _ => match item.stock {
            Some(n) if n <= 0 => "out_of_stock",
            _ => "in_stock",
        },
    }
}

/// Checks one item against Google's specification.
pub fn check(item: &Item, issues: &mut Issues) {
    let product = item.product_id.as_str();
    issues.basics(item, &LIMITS);
    match &item.brand {
        Some(brand) if brand.chars().count() > BRAND_MAX => {
            issues.error(product, "brand", format!("brand has more than {BRAND_MAX} characters"));
        }
        Some(_) => {}
        None if item.mpn.is_some() => issues.error(product, "brand", "an mpn needs a brand"),
        None => issues.warning(
            product,
            "brand",
            "no brand: Google requires one for new products of most categories",
        ),
    }
    if let Some(mpn) = &item.mpn
        && mpn.chars().count() > MPN_MAX
    {
        issues.error(product, "mpn", format!("mpn has more than {MPN_MAX} characters"));
    }
    if item.gtin.is_none() && item.mpn.is_none() {
        issues.warning(
            product,
            "identifier_exists",
            "no gtin or mpn: identifier_exists is set to no",
        );
    }
}

impl Connector for GoogleMerchant {
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "Feeds are written here; nothing to connect to".into(),
            details: "{}".into(),
        })
    }
}

impl Feed for GoogleMerchant {
    fn supported_formats() -> Vec<FeedFormat> {
        vec![
            FeedFormat {
                id: XML.into(),
                content_type: "application/xml".into(),
                description: "RSS 2.0 with the g: namespace".into(),
            },
            FeedFormat {
                id: TSV.into(),
                content_type: "text/tab-separated-values".into(),
                description: "Tab-separated text with a header row".into(),
            },
        ]
    }

    fn validate_products(products: Vec<Product>) -> Result<FeedValidationResult> {
        Ok(feed::validate(&products, check))
    }

    fn generate_feed(products: Vec<Product>, format: String) -> Result<FeedResult> {
        let (content_type, writer) = match format.as_str() {
            XML => ("application/xml", feed::Writer::Rss),
            TSV => ("text/tab-separated-values", feed::Writer::Table(feed::tsv_record)),
            other => {
                return Err(Error::Validation(format!(
                    "unknown format {other:?}; this plugin writes {XML} and {TSV}"
                )));
            }
        };
        feed::generate(&products, format, content_type, check, row, writer)
    }
}

patchbay_sdk::export!(GoogleMerchant: feed);
