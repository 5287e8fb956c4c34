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
const ID_MAX: usize = 50;
const TITLE_MAX: usize = 150;
const DESCRIPTION_MAX: usize = 5000;
const BRAND_MAX: usize = 70;
const MPN_MAX: usize = 70;
const LINK_MAX: usize = 2000;
/// Additional images Google reads.
const MORE_IMAGES: usize = 10;

/// One item's attributes, in Google's names and in the feed's order.
pub fn attributes(item: &Item) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("id", item.id.clone()),
        ("title", item.title.clone()),
        ("description", item.description.clone()),
        ("link", item.link.clone()),
        ("image_link", item.image_link.clone().unwrap_or_default()),
        (
            "additional_image_link",
            item.additional_image_links
                .iter()
                .take(MORE_IMAGES)
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        ),
        ("availability", availability(item).to_string()),
        (
            "price",
            item.price
                .as_deref()
                .and_then(feed::price_amount)
                .map(|amount| format!("{amount} {}", item.currency))
                .unwrap_or_default(),
        ),
        ("condition", item.condition.clone().unwrap_or_else(|| "new".into())),
        ("brand", item.brand.clone().unwrap_or_default()),
        ("gtin", item.gtin.clone().unwrap_or_default()),
        ("mpn", item.mpn.clone().unwrap_or_default()),
        (
            "identifier_exists",
            if item.gtin.is_none() && item.mpn.is_none() { "no" } else { "" }.to_string(),
        ),
        ("item_group_id", item.item_group_id.clone().unwrap_or_default()),
        ("product_type", item.product_type.clone().unwrap_or_default()),
    ];
    for (name, google) in [
        ("color", "color"),
        ("colour", "color"),
        ("size", "size"),
        ("gender", "gender"),
        ("age_group", "age_group"),
        ("material", "material"),
        ("pattern", "pattern"),
    ] {
        if let Some((_, value)) = item.attributes.iter().find(|(n, _)| n == name)
            && !out.iter().any(|(n, _)| *n == google)
        {
            out.push((google, value.clone()));
        }
    }
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
    if !item.active {
        issues.error(product, "active", "the product is not published");
    }
    issues.text(product, "id", &item.id, ID_MAX);
    issues.text(product, "title", &item.title, TITLE_MAX);
    issues.text(product, "description", &item.description, DESCRIPTION_MAX);
    for (field, url) in [("link", Some(&item.link)), ("image_link", item.image_link.as_ref())] {
        match url {
            Some(url) if feed::http_url(url) && url.len() <= LINK_MAX => {}
            Some(url) if !url.is_empty() => issues.error(
                product,
                field,
                format!("{url:?} is not an http(s) URL of at most {LINK_MAX} characters"),
            ),
            _ => issues.error(product, field, format!("{field} is required")),
        }
    }
    for url in &item.additional_image_links {
        if !feed::http_url(url) {
            issues.warning(product, "additional_image_link", format!("{url:?} is not an http(s) URL"));
        }
    }
    match item.price.as_deref() {
        None => issues.error(product, "price", "price is required"),
        Some(price) if feed::price_amount(price).is_none() => {
            issues.error(product, "price", format!("{price:?} is not a positive amount"));
        }
        Some(_) => {}
    }
    if !feed::currency_code(&item.currency) {
        issues.error(
            product,
            "price",
            format!("the currency {:?} is not an ISO 4217 code", item.currency),
        );
    }
    if let Some(condition) = &item.condition
        && !["new", "refurbished", "used"].contains(&condition.as_str())
    {
        issues.error(
            product,
            "condition",
            format!("{condition:?} is not one of new, refurbished, used"),
        );
    }
    if let Some(gtin) = &item.gtin
        && !feed::valid_gtin(gtin)
    {
        issues.error(
            product,
            "gtin",
            format!("{gtin:?} is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)"),
        );
    }
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

/// The items of `products` and what is wrong with them.
fn checked(products: &[Product]) -> (Vec<Item>, Issues) {
    let mut issues = Issues::default();
    let mut items = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for product in products {
        for item in feed::items(product) {
            check(&item, &mut issues);
            if !ids.insert(item.id.clone()) {
                issues.error(&item.product_id, "id", format!("the id {:?} is used twice", item.id));
            }
            items.push(item);
        }
    }
    (items, issues)
}

/// The RSS channel's link: the setting, else the first product's origin.
fn channel_link(items: &[Item]) -> Result<String> {
    if let Some(link) = config::get("channel_link")? {
        return Ok(link);
    }
    Ok(items
        .iter()
        .find_map(|i| {
            let rest = i.link.split_once("://")?.1;
            let host = rest.split(['/', '?', '#']).next()?;
            Some(format!("{}://{host}", i.link.split_once("://")?.0))
        })
        .unwrap_or_default())
}

/// RSS 2.0 with the `g:` namespace: every attribute with a value, one
/// element each (additional images repeated).
pub fn rss(items: &[&Item], title: &str, link: &str, description: &str) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n",
    );
    for (name, value) in [("title", title), ("link", link), ("description", description)] {
        out += &format!("<{name}>{}</{name}>\n", feed::xml_escape(value));
    }
    for item in items {
        out += "<item>\n";
        for (name, value) in attributes(item) {
            if value.is_empty() {
                continue;
            }
            if name == "additional_image_link" {
                for link in value.split(',') {
                    out += &format!("<g:{name}>{}</g:{name}>\n", feed::xml_escape(link));
                }
            } else {
                out += &format!("<g:{name}>{}</g:{name}>\n", feed::xml_escape(&value));
            }
        }
        out += "</item>\n";
    }
    out += "</channel>\n</rss>\n";
    out
}

/// Tab-separated text: a header row of every attribute, then one row per
/// item (empty where an item has no value).
pub fn tsv(items: &[&Item]) -> String {
    let rows: Vec<Vec<(&'static str, String)>> = items.iter().map(|i| attributes(i)).collect();
    let mut columns: Vec<&'static str> = Vec::new();
    for row in &rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name);
            }
        }
    }
    let mut out = feed::tsv_record(&columns);
    for row in &rows {
        let fields: Vec<&str> = columns
            .iter()
            .map(|c| row.iter().find(|(n, _)| n == c).map_or("", |(_, v)| v.as_str()))
            .collect();
        out += &feed::tsv_record(&fields);
    }
    out
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
        let (_, issues) = checked(&products);
        let ids: Vec<String> = products.iter().map(|p| p.product_id.clone()).collect();
        Ok(issues.result(&ids))
    }

    fn generate_feed(products: Vec<Product>, format: String) -> Result<FeedResult> {
        let content_type = match format.as_str() {
            XML => "application/xml",
            TSV => "text/tab-separated-values",
            other => {
                return Err(Error::Validation(format!(
                    "unknown format {other:?}; this plugin writes {XML} and {TSV}"
                )));
            }
        };
        let (items, issues) = checked(&products);
        let listed: Vec<&Item> = items.iter().filter(|i| !issues.rejects(&i.product_id)).collect();
        let content = if format == XML {
            let title = config::get("channel_title")?.unwrap_or_else(|| "Products".into());
            let description = config::get("channel_description")?.unwrap_or_else(|| "Product feed".into());
            rss(&listed, &title, &channel_link(&items)?, &description)
        } else {
            tsv(&listed)
        };
        Ok(FeedResult {
            content,
            format,
            content_type: content_type.into(),
            product_count: u32::try_from(listed.len()).unwrap_or(u32::MAX),
            skipped_count: u32::try_from(items.len() - listed.len()).unwrap_or(u32::MAX),
            warnings: issues.messages(),
        })
    }
}

patchbay_sdk::export!(GoogleMerchant: feed);
