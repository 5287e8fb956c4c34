//! Product feeds: a shop's products as the items a marketplace's feed lists
//! (one per variant, grouped by the product), the checks every platform
//! shares (GTIN check digits, URLs, currencies, lengths), and the writers
//! their formats need: XML text (RSS 2.0 with Google's `g:` namespace),
//! CSV per RFC 4180, and tab-separated text.
//!
//! A feed plugin turns [`Product`]s into [`Item`]s and checks each against
//! its platform's rules ([`check_all`], [`Issues`]), then writes the items
//! without errors as [`Row`]s ([`rss`], [`table`]).

use crate::types::{FeedIssue, FeedResult, FeedValidationResult, IssueSeverity, Product, ProductAttribute};
use crate::{Result, config};

/// One line of a feed: a product, or one variant of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The product it comes from (issues are reported by product).
    pub product_id: String,
    /// The item's id: the variant's or product's SKU, else
    /// `{product}-{variant}` (or the product's id).
    pub id: String,
    /// The product's id, for the variants of one product.
    pub item_group_id: Option<String>,
    /// The product's name, with the variant's when it adds to it.
    pub title: String,
    /// The description as plain text (HTML tags removed, entities decoded,
    /// white space folded).
    pub description: String,
    /// The product page.
    pub link: String,
    /// The first photo.
    pub image_link: Option<String>,
    /// The other photos.
    pub additional_image_links: Vec<String>,
    /// The price (the variant's when it has one), as the shop gave it.
    pub price: Option<String>,
    /// ISO 4217 currency of the price.
    pub currency: String,
    /// Units in stock, when tracked.
    pub stock: Option<i64>,
    /// Whether the product is published.
    pub active: bool,
    /// The `brand` attribute.
    pub brand: Option<String>,
    /// The barcode, or a `gtin`/`ean`/`upc`/`isbn` attribute.
    pub gtin: Option<String>,
    /// The `mpn` attribute.
    pub mpn: Option<String>,
    /// The `condition` attribute, lowercase.
    pub condition: Option<String>,
    /// The `availability` attribute, lowercase (`preorder`, `backorder`).
    pub availability: Option<String>,
    /// The categories, `A > B > C`.
    pub product_type: Option<String>,
    /// The variant's attributes and the product's other ones (`color`, `size`,
    /// ...), names lowercase.
    pub attributes: Vec<(String, String)>,
}

impl Item {
    /// The price as feeds write it, `25.50 EUR` (empty when it is not a
    /// positive amount).
    pub fn price_text(&self) -> String {
        self.price
            .as_deref()
            .and_then(price_amount)
            .map(|amount| format!("{amount} {}", self.currency))
            .unwrap_or_default()
    }

    /// The value of an attribute the item does not read itself (`color`,
    /// `size`, ...), by lowercase name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Attribute names the item reads into its own fields.
const READ: &[&str] = &[
    "brand",
    "gtin",
    "ean",
    "upc",
    "isbn",
    "mpn",
    "condition",
    "availability",
];

/// The first attribute named any of `names` (case-insensitively), trimmed
/// and not empty.
pub fn attribute<'a>(attributes: &'a [ProductAttribute], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        attributes
            .iter()
            .find(|a| a.name.trim().eq_ignore_ascii_case(name))
            .map(|a| a.value.trim())
            .filter(|v| !v.is_empty())
    })
}

fn nonempty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// A product's feed items: one per variant (grouped by the product's id),
/// or one for a product without variants.
pub fn items_of(product: &Product) -> Vec<Item> {
    let gtin = nonempty(product.barcode.as_deref())
        .or_else(|| attribute(&product.attributes, &["gtin", "ean", "upc", "isbn"]).map(str::to_string));
    let base = Item {
        product_id: product.product_id.clone(),
        id: nonempty(product.sku.as_deref()).unwrap_or_else(|| product.product_id.clone()),
        item_group_id: None,
        title: product.name.trim().to_string(),
        description: plain_text(&product.description),
        link: product.url.trim().to_string(),
        image_link: product.photos.first().map(|p| p.trim().to_string()),
        additional_image_links: product.photos.iter().skip(1).map(|p| p.trim().to_string()).collect(),
        price: nonempty(product.price.as_deref()),
        currency: product.currency.trim().to_uppercase(),
        stock: product.stock,
        active: product.active,
        brand: attribute(&product.attributes, &["brand"]).map(str::to_string),
        gtin,
        mpn: attribute(&product.attributes, &["mpn"]).map(str::to_string),
        condition: attribute(&product.attributes, &["condition"]).map(str::to_lowercase),
        availability: attribute(&product.attributes, &["availability"]).map(str::to_lowercase),
        product_type: (!product.categories.is_empty()).then(|| product.categories.join(" > ")),
        attributes: product
            .attributes
            .iter()
            .filter(|a| !READ.iter().any(|r| a.name.trim().eq_ignore_ascii_case(r)))
            .map(|a| (a.name.trim().to_lowercase(), a.value.trim().to_string()))
            .collect(),
    };
    if product.variants.is_empty() {
        return vec![base];
    }
    product
        .variants
        .iter()
        .map(|variant| {
            let name = variant.name.trim();
            let title = if name.is_empty() || base.title.contains(name) {
                base.title.clone()
            } else {
                format!("{} - {name}", base.title)
            };
            let mut attributes: Vec<(String, String)> = variant
                .attributes
                .iter()
                .map(|a| (a.name.trim().to_lowercase(), a.value.trim().to_string()))
                .collect();
            for (name, value) in &base.attributes {
                if !attributes.iter().any(|(n, _)| n == name) {
                    attributes.push((name.clone(), value.clone()));
                }
            }
            Item {
                id: nonempty(variant.sku.as_deref())
                    .unwrap_or_else(|| format!("{}-{}", product.product_id, variant.variant_id)),
                item_group_id: Some(product.product_id.clone()),
                title,
                price: nonempty(variant.price.as_deref()).or_else(|| base.price.clone()),
                stock: variant.stock.or(base.stock),
                gtin: attribute(&variant.attributes, &["gtin", "ean", "upc", "isbn"])
                    .map(str::to_string)
                    .or_else(|| base.gtin.clone()),
                mpn: attribute(&variant.attributes, &["mpn"])
                    .map(str::to_string)
                    .or_else(|| base.mpn.clone()),
                attributes,
                ..base.clone()
            }
        })
        .collect()
}

/// HTML as plain text: tags removed (a block tag or `<br>` is a line
/// break), the common entities decoded, runs of spaces folded, no blank
/// lines.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            // A `<` that opens no tag is text.
            text.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let name: String = tag.chars().take_while(char::is_ascii_alphanumeric).collect();
        if matches!(
            name.as_str(),
            "br" | "p" | "div" | "li" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr" | "table"
        ) {
            text.push('\n');
        } else if !name.is_empty() {
            text.push(' ');
        }
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    decode_entities(&text)
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `code` is a GTIN (GTIN-8, UPC-A, EAN-13 or GTIN-14: digits, with
/// a valid check digit).
pub fn valid_gtin(code: &str) -> bool {
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != code.len() || ![8, 12, 13, 14].contains(&digits.len()) {
        return false;
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    // From the right, the digits next to the check digit weigh 3, then 1.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

/// Whether `url` is an absolute `http` or `https` URL with a host.
pub fn http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !url.chars().any(char::is_whitespace)
    })
}

/// Whether `code` looks like an ISO 4217 currency code (three letters A-Z).
pub fn currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A price as feeds write it, two decimals (`12.5` → `12.50`); `None` when
/// it is not a positive decimal number.
pub fn price_amount(price: &str) -> Option<String> {
    let price = price.trim();
    let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2 && fraction[2..].bytes().any(|b| b != b'0')
    {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let cents = format!("{fraction:0<2}");
    let amount = format!("{}.{}", if whole.is_empty() { "0" } else { whole }, &cents[..2]);
    (amount != "0.00").then_some(amount)
}

/// A platform's limits on an item's texts, in characters (links in bytes).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `id`.
    pub id: usize,
    /// `title`.
    pub title: usize,
    /// `description`.
    pub description: usize,
    /// `link` and `image_link`.
    pub link: usize,
}

/// Problems found in products, by product and field.
#[derive(Debug, Default)]
pub struct Issues(Vec<FeedIssue>);

impl Issues {
    /// The product `product_id` cannot be listed: `field` is wrong.
    pub fn error(&mut self, product_id: &str, field: &str, message: impl Into<String>) {
        self.push(product_id, field, IssueSeverity::Error, message.into());
    }

    /// The product is listed, but the platform may disapprove it.
    pub fn warning(&mut self, product_id: &str, field: &str, message: impl Into<String>) {
        self.push(product_id, field, IssueSeverity::Warning, message.into());
    }

    fn push(&mut self, product_id: &str, field: &str, severity: IssueSeverity, message: String) {
        self.0.push(FeedIssue {
            product_id: product_id.to_string(),
            field: field.to_string(),
            severity,
            message,
        });
    }

    /// Whether the product has an error.
    pub fn rejects(&self, product_id: &str) -> bool {
        self.0
            .iter()
            .any(|i| i.product_id == product_id && matches!(i.severity, IssueSeverity::Error))
    }

    /// Checks a required text: present and at most `max` characters.
    pub fn text(&mut self, product_id: &str, field: &str, value: &str, max: usize) {
        let count = value.chars().count();
        if count == 0 {
            self.error(product_id, field, format!("{field} is required"));
        } else if count > max {
            self.error(
                product_id,
                field,
                format!("{field} has {count} characters; at most {max}"),
            );
        }
    }

    /// Checks a required URL: present, `http(s)`, at most `max` bytes.
    pub fn url(&mut self, product_id: &str, field: &str, url: Option<&str>, max: usize) {
        match url {
            Some(url) if http_url(url) && url.len() <= max => {}
            Some(url) if !url.is_empty() => self.error(
                product_id,
                field,
                format!("{url:?} is not an http(s) URL of at most {max} characters"),
            ),
            _ => self.error(product_id, field, format!("{field} is required")),
        }
    }

    /// [`common`](Self::common), then the texts and links every platform
    /// requires, within the platform's `limits`.
    pub fn basics(&mut self, item: &Item, limits: &Limits) {
        let product = item.product_id.as_str();
        self.common(item);
        self.text(product, "id", &item.id, limits.id);
        self.text(product, "title", &item.title, limits.title);
        self.text(product, "description", &item.description, limits.description);
        self.url(product, "link", Some(&item.link), limits.link);
        self.url(product, "image_link", item.image_link.as_deref(), limits.link);
    }

    /// Checks what every feed checks the same way: the published state, the
    /// price and its currency, the condition, the GTIN's check digit, the
    /// additional images' URLs.
    pub fn common(&mut self, item: &Item) {
        let product = item.product_id.as_str();
        if !item.active {
            self.error(product, "active", "the product is not published");
        }
        match item.price.as_deref() {
            None => self.error(product, "price", "price is required"),
            Some(price) if price_amount(price).is_none() => {
                self.error(product, "price", format!("{price:?} is not a positive amount"));
            }
            Some(_) => {}
        }
        if !currency_code(&item.currency) {
            self.error(
                product,
                "price",
                format!("the currency {:?} is not an ISO 4217 code", item.currency),
            );
        }
        if let Some(condition) = &item.condition
            && !["new", "refurbished", "used"].contains(&condition.as_str())
        {
            self.error(
                product,
                "condition",
                format!("{condition:?} is not one of new, refurbished, used"),
            );
        }
        if let Some(gtin) = &item.gtin
            && !valid_gtin(gtin)
        {
            self.error(
                product,
                "gtin",
                format!("{gtin:?} is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)"),
            );
        }
        for url in &item.additional_image_links {
            if !http_url(url) {
                self.warning(
                    product,
                    "additional_image_link",
                    format!("{url:?} is not an http(s) URL"),
                );
            }
        }
    }

    /// The issues as messages, `product field: message`.
    pub fn messages(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|i| format!("{} {}: {}", i.product_id, i.field, i.message))
            .collect()
    }

    /// The validation result for `products` products.
    pub fn result(self, product_ids: &[String]) -> FeedValidationResult {
        let valid = product_ids.iter().filter(|id| !self.rejects(id)).count();
        FeedValidationResult {
            valid: self.0.is_empty(),
            product_count: u32::try_from(product_ids.len()).unwrap_or(u32::MAX),
            valid_count: u32::try_from(valid).unwrap_or(u32::MAX),
            issues: self.0,
        }
    }
}

/// The items of `products`, each checked by `check` (and for an id used
/// twice), with every issue found.
pub fn check_all(products: &[Product], check: fn(&Item, &mut Issues)) -> (Vec<Item>, Issues) {
    let mut issues = Issues::default();
    let mut items = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for product in products {
        for item in items_of(product) {
            check(&item, &mut issues);
            if !ids.insert(item.id.clone()) {
                issues.error(&item.product_id, "id", format!("the id {:?} is used twice", item.id));
            }
            items.push(item);
        }
    }
    (items, issues)
}

/// `feed.validate-products`, for a platform's `check`.
pub fn validate(products: &[Product], check: fn(&Item, &mut Issues)) -> FeedValidationResult {
    let (_, issues) = check_all(products, check);
    let ids: Vec<String> = products.iter().map(|p| p.product_id.clone()).collect();
    issues.result(&ids)
}

/// How a feed document is written from its rows.
pub enum Writer {
    /// RSS 2.0 with the `g:` namespace; the channel's `title`, `link` and
    /// `description` come from the settings `channel_title` (default
    /// `Products`), `channel_link` (default: the first product's origin)
    /// and `channel_description` (default `Product feed`).
    Rss,
    /// A delimited table, one record per row ([`csv_record`] or
    /// [`tsv_record`]).
    Table(fn(&[&str]) -> String),
}

/// `feed.generate-feed` in `format` (`content_type`): the items of
/// `products` are checked by `check`, those of products with errors left
/// out and counted, the rest written as `row` makes them.
pub fn generate(
    products: &[Product],
    format: String,
    content_type: &str,
    check: fn(&Item, &mut Issues),
    row: fn(&Item) -> Row,
    writer: Writer,
) -> Result<FeedResult> {
    let (items, issues) = check_all(products, check);
    let listed: Vec<&Item> = items.iter().filter(|i| !issues.rejects(&i.product_id)).collect();
    let rows: Vec<Row> = listed.iter().map(|item| row(item)).collect();
    let content = match writer {
        Writer::Rss => {
            let title = config::get("channel_title")?.unwrap_or_else(|| "Products".into());
            let link = config::get("channel_link")?.unwrap_or_else(|| origin(&items));
            let description = config::get("channel_description")?.unwrap_or_else(|| "Product feed".into());
            rss(&title, &link, &description, &rows)
        }
        Writer::Table(record) => table(&rows, record),
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

/// The variant attributes apparel platforms read (Google and Meta name them
/// alike: `color`, `size`, `gender`, `age_group`, `material`, `pattern`),
/// from the item's attributes (`colour` too), each added once unless the row
/// has it already.
pub fn push_variant_attributes(item: &Item, row: &mut Row) {
    for (name, field) in [
        ("color", "color"),
        ("colour", "color"),
        ("size", "size"),
        ("gender", "gender"),
        ("age_group", "age_group"),
        ("material", "material"),
        ("pattern", "pattern"),
    ] {
        if let Some(value) = item.attribute(name)
            && !row.iter().any(|(n, _)| *n == field)
        {
            row.push((field, value.to_string()));
        }
    }
}

/// One item as a feed writes it: attribute names (the platform's) and
/// values, in order; a repeated attribute (`additional_image_link`) appears
/// once per value. Empty values are not written.
pub type Row = Vec<(&'static str, String)>;

/// RSS 2.0 with Google's `g:` namespace (`http://base.google.com/ns/1.0`),
/// which Google Merchant Center and Meta catalogues read: a channel with
/// `title`, `link` and `description`, then one `item` per row.
pub fn rss(title: &str, link: &str, description: &str, rows: &[Row]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n",
    );
    for (name, value) in [("title", title), ("link", link), ("description", description)] {
        out += &format!("<{name}>{}</{name}>\n", xml_escape(value));
    }
    for row in rows {
        out += "<item>\n";
        for (name, value) in row.iter().filter(|(_, v)| !v.is_empty()) {
            out += &format!("<g:{name}>{}</g:{name}>\n", xml_escape(value));
        }
        out += "</item>\n";
    }
    out += "</channel>\n</rss>\n";
    out
}

/// A delimited table (CSV or TSV, by `record`): a header row of every
/// attribute any row has, in the order first seen, then one record per row;
/// a repeated attribute's values are joined with commas.
pub fn table(rows: &[Row], record: fn(&[&str]) -> String) -> String {
    let mut columns: Vec<&'static str> = Vec::new();
    for row in rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name);
            }
        }
    }
    let mut out = record(&columns);
    for row in rows {
        let values: Vec<String> = columns
            .iter()
            .map(|column| {
                row.iter()
                    .filter(|(name, value)| name == column && !value.is_empty())
                    .map(|(_, value)| value.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        let fields: Vec<&str> = values.iter().map(String::as_str).collect();
        out += &record(&fields);
    }
    out
}

/// The origin of the first item's link (`https://shop.example.com`), for a
/// feed's channel link; empty when no item has one.
pub fn origin(items: &[Item]) -> String {
    items
        .iter()
        .find_map(|item| {
            let (scheme, rest) = item.link.split_once("://")?;
            let host = rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())?;
            Some(format!("{scheme}://{host}"))
        })
        .unwrap_or_default()
}

/// XML text and attribute escaping; characters XML 1.0 cannot carry
/// (most control characters) are left out.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One CSV record per RFC 4180: a field with a comma, a quote, a line break
/// or surrounding spaces is quoted, quotes doubled; the line ends in CRLF.
pub fn csv_record(fields: &[&str]) -> String {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let quote = field.contains([',', '"', '\n', '\r']) || field.trim() != *field;
        if quote {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push_str("\r\n");
    line
}

/// One tab-separated record: tabs and line breaks inside a field become
/// spaces (the format cannot carry them); the line ends in LF.
pub fn tsv_record(fields: &[&str]) -> String {
    let cleaned: Vec<String> = fields.iter().map(|f| f.replace(['\t', '\r', '\n'], " ")).collect();
    let mut line = cleaned.join("\t");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtins_need_their_check_digit() {
        for good in ["4006381333931", "012345678905", "96385074", "10012345678902"] {
            assert!(valid_gtin(good), "{good}");
        }
        for bad in ["4006381333932", "01234567890", "abcdefghijklm", "", "4006381333931 "] {
            assert!(!valid_gtin(bad), "{bad}");
        }
    }

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            plain_text("<p>Soft &amp; warm</p><ul><li>100% wool</li><li>Size&nbsp;M</li></ul>"),
            "Soft & warm\n100% wool\nSize M"
        );
        assert_eq!(plain_text("a < b &unknown; &#233;t&#xE9;"), "a < b &unknown; été");
    }

    #[test]
    fn prices_are_positive_decimals_written_with_two_places() {
        assert_eq!(price_amount("12.5").as_deref(), Some("12.50"));
        assert_eq!(price_amount("0012.00").as_deref(), Some("12.00"));
        assert_eq!(price_amount("7").as_deref(), Some("7.00"));
        for bad in ["0", "0.00", "-1", "1,50", "1.234", "", "abc"] {
            assert_eq!(price_amount(bad), None, "{bad}");
        }
    }

    #[test]
    fn csv_quotes_what_it_must() {
        assert_eq!(
            csv_record(&["a", "b,c", "say \"hi\"", "x\ny", " pad"]),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\",\" pad\"\r\n"
        );
        assert_eq!(tsv_record(&["a\tb", "c\nd"]), "a b\tc d\n");
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }

    #[test]
    fn urls_and_currencies() {
        assert!(http_url("https://shop.example.com/p/1"));
        assert!(!http_url("ftp://shop.example.com"));
        assert!(!http_url("https:///nohost"));
        assert!(!http_url("https://shop.example.com/a b"));
        assert!(currency_code("EUR") && !currency_code("eur") && !currency_code("EURO"));
    }
}
