//! The feed plugins through the host: products become feed items, checked
//! against each platform's rules, and the documents they write are read
//! back by Python's own XML and CSV readers (`xml.etree`, `csv`), not
//! compared as strings.

use std::process::Command;

use patchbay::types::{IssueSeverity, Product, ProductAttribute, ProductVariant, ProviderMeta};
use patchbay::{Connection, Credentials, Settings};
use serde_json::{Value, json};

use crate::support::host;

fn attribute(name: &str, value: &str) -> ProductAttribute {
    ProductAttribute {
        name: name.into(),
        value: value.into(),
    }
}

fn product(id: &str, name: &str) -> Product {
    Product {
        product_id: id.into(),
        sku: Some(format!("SKU-{id}")),
        barcode: Some("4006381333931".into()),
        name: name.into(),
        description: "<p>Soft &amp; warm</p><ul><li>100% wool</li></ul>".into(),
        url: format!("https://shop.example.com/p/{id}"),
        price: Some("25.5".into()),
        currency: "EUR".into(),
        stock: Some(4),
        active: true,
        categories: vec!["Apparel".into(), "Scarves".into()],
        photos: vec![
            format!("https://cdn.example.com/{id}/1.jpg"),
            format!("https://cdn.example.com/{id}/2.jpg"),
        ],
        attributes: vec![attribute("Brand", "Woolly"), attribute("condition", "new")],
        variants: Vec::new(),
        extra: "{}".into(),
        provider_meta: ProviderMeta {
            provider: "test".into(),
            raw_id: id.into(),
            raw_payload: "{}".into(),
        },
    }
}

/// A valid scarf; a jumper in two sizes with a title full of what XML and
/// CSV must escape; one without a photo and with a wrong GTIN; one not
/// published.
fn catalogue() -> Vec<Product> {
    let mut jumper = product("2", "Jumper \"Aran\" <cable>, knit & soft\tcosy");
    jumper.barcode = None;
    jumper.attributes.push(attribute("mpn", "ARAN-01"));
    jumper.variants = ["S", "M"]
        .iter()
        .enumerate()
        .map(|(i, size)| ProductVariant {
            variant_id: format!("2{i}"),
            sku: Some(format!("JUMP-{size}")),
            name: (*size).into(),
            price: (i == 1).then(|| "30".into()),
            stock: Some(if i == 0 { 0 } else { 3 }),
            attributes: vec![attribute("size", size), attribute("color", "Ecru")],
        })
        .collect();
    let mut broken = product("3", "Broken");
    broken.photos.clear();
    broken.barcode = Some("4006381333932".into());
    let mut hidden = product("4", "Hidden");
    hidden.active = false;
    vec![product("1", "Scarf"), jumper, broken, hidden]
}

async fn google() -> (patchbay::Host, Connection) {
    let host = host().await;
    let connection = host
        .connect(
            "feed/google-merchant",
            Credentials::new(),
            Settings::from([("channel_link".to_string(), "https://shop.example.com".to_string())]),
        )
        .unwrap();
    (host, connection)
}

/// Runs a Python snippet on `document` (its stdin) and returns what it prints as JSON.
fn python(script: &str, document: &str) -> Value {
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(document.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

const READ_RSS: &str = r#"
import json, sys, xml.etree.ElementTree as ET
G = "{http://base.google.com/ns/1.0}"
root = ET.fromstring(sys.stdin.buffer.read())
channel = root.find("channel")
items = []
for item in channel.findall("item"):
    fields = {}
    for child in item:
        name = child.tag.replace(G, "")
        fields.setdefault(name, []).append(child.text)
    items.append({k: v if len(v) > 1 else v[0] for k, v in fields.items()})
print(json.dumps({"version": root.get("version"), "link": channel.findtext("link"), "items": items}))
"#;

#[tokio::test]
async fn google_merchant_writes_rss_that_an_xml_parser_reads_back_item_by_item() {
    let (_host, connection) = google().await;
    let feed = connection.feed().unwrap();
    let formats: Vec<String> = feed
        .supported_formats()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(formats, ["google-merchant-xml", "google-merchant-tsv"]);

    let result = feed.generate_feed(&catalogue(), "google-merchant-xml").await.unwrap();
    assert_eq!(result.content_type, "application/xml");
    assert_eq!(
        (result.product_count, result.skipped_count),
        (3, 2),
        "{:?}",
        result.warnings
    );
    let read = python(READ_RSS, &result.content);
    assert_eq!(read["version"], "2.0");
    assert_eq!(read["link"], "https://shop.example.com");
    let items = read["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let scarf = &items[0];
    assert_eq!(scarf["id"], "SKU-1");
    assert_eq!(scarf["title"], "Scarf");
    assert_eq!(scarf["description"], "Soft & warm\n100% wool", "HTML made text");
    assert_eq!(scarf["price"], "25.50 EUR");
    assert_eq!(scarf["availability"], "in_stock");
    assert_eq!(scarf["condition"], "new");
    assert_eq!(scarf["brand"], "Woolly");
    assert_eq!(scarf["gtin"], "4006381333931");
    assert_eq!(scarf["image_link"], "https://cdn.example.com/1/1.jpg");
    assert_eq!(scarf["additional_image_link"], "https://cdn.example.com/1/2.jpg");
    assert_eq!(scarf["product_type"], "Apparel > Scarves");
    assert!(scarf.get("identifier_exists").is_none(), "it has a GTIN");
    // The jumper's variants: grouped, each its own price, stock and size.
    let (small, medium) = (&items[1], &items[2]);
    assert_eq!(small["id"], "JUMP-S");
    assert_eq!(
        small["title"], "Jumper \"Aran\" <cable>, knit & soft\tcosy - S",
        "escaped, and read back as written"
    );
    assert_eq!(small["item_group_id"], "2");
    assert_eq!(small["availability"], "out_of_stock");
    assert_eq!(small["price"], "25.50 EUR");
    assert_eq!(medium["price"], "30.00 EUR");
    assert_eq!(medium["availability"], "in_stock");
    assert_eq!(
        (medium["size"].clone(), medium["color"].clone()),
        (json!("M"), json!("Ecru"))
    );
    assert_eq!(medium["mpn"], "ARAN-01");
    assert!(medium.get("gtin").is_none());

    // What was left out, and why.
    let warnings = result.warnings.join("\n");
    assert!(warnings.contains("3 image_link: image_link is required"), "{warnings}");
    assert!(
        warnings.contains("3 gtin: \"4006381333932\" is not a GTIN"),
        "{warnings}"
    );
    assert!(
        warnings.contains("4 active: the product is not published"),
        "{warnings}"
    );
}

#[tokio::test]
async fn google_merchant_writes_tsv_that_a_csv_reader_reads_back() {
    let (_host, connection) = google().await;
    let result = connection
        .feed()
        .unwrap()
        .generate_feed(&catalogue(), "google-merchant-tsv")
        .await
        .unwrap();
    assert_eq!(result.content_type, "text/tab-separated-values");
    let rows = python(
        "import csv, json, sys\nprint(json.dumps(list(csv.DictReader(sys.stdin, delimiter='\\t'))))",
        &result.content,
    );
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "SKU-1");
    assert_eq!(
        rows[0]["description"], "Soft & warm 100% wool",
        "no line break in a TSV field"
    );
    assert_eq!(
        rows[1]["title"], "Jumper \"Aran\" <cable>, knit & soft cosy - S",
        "a tab in a value is a space"
    );
    assert_eq!(rows[1]["identifier_exists"], "", "the jumper has an mpn");
    assert_eq!(rows[2]["size"], "M");
}

#[tokio::test]
async fn google_merchant_reports_every_problem_by_product_and_field() {
    let (_host, connection) = google().await;
    let mut products = catalogue();
    products[0].attributes.push(attribute("condition", "mint"));
    products[0].currency = "euro".into();
    products[0].url = "ftp://shop.example.com/1".into();
    products[0].name = "x".repeat(151);
    let mut no_brand = product("5", "Plain");
    no_brand.attributes.clear();
    no_brand.barcode = None;
    products.push(no_brand);
    let result = connection.feed().unwrap().validate_products(&products).await.unwrap();
    assert!(!result.valid);
    assert_eq!(
        (result.product_count, result.valid_count),
        (5, 2),
        "{:?}",
        result.issues
    );
    let found = |product: &str, field: &str| {
        result
            .issues
            .iter()
            .find(|i| i.product_id == product && i.field == field)
            .map(|i| (matches!(i.severity, IssueSeverity::Error), i.message.clone()))
    };
    assert!(found("1", "title").unwrap().1.contains("151 characters; at most 150"));
    assert!(
        found("1", "price")
            .unwrap()
            .1
            .contains("\"EURO\" is not an ISO 4217 code")
    );
    assert!(found("1", "link").unwrap().1.contains("not an http(s) URL"));
    assert_eq!(found("1", "condition"), None, "the first condition attribute counts");
    assert_eq!(
        found("5", "brand").map(|f| f.0),
        Some(false),
        "a missing brand is a warning"
    );
    assert_eq!(found("5", "identifier_exists").map(|f| f.0), Some(false));
    let unknown = connection
        .feed()
        .unwrap()
        .generate_feed(&products, "google-merchant-json")
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("google-merchant-xml"), "{unknown}");
}

#[tokio::test]
async fn meta_catalog_writes_csv_that_a_csv_reader_reads_back_and_xml_too() {
    let host = host().await;
    let connection = host
        .connect("feed/meta-catalog", Credentials::new(), Settings::new())
        .unwrap();
    let feed = connection.feed().unwrap();
    let mut products = catalogue();
    products[0]
        .photos
        .push("https://cdn.example.com/1/3,with-comma.jpg".into());
    let result = feed.generate_feed(&products, "meta-catalog-csv").await.unwrap();
    assert_eq!(result.content_type, "text/csv");
    assert_eq!(
        (result.product_count, result.skipped_count),
        (3, 2),
        "{:?}",
        result.warnings
    );
    assert!(result.content.contains("\r\n"), "CRLF records");
    let rows = python(
        "import csv, io, json, sys\nprint(json.dumps(list(csv.DictReader(io.StringIO(sys.stdin.read(), newline='')))))",
        &result.content,
    );
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let scarf = &rows[0];
    assert_eq!(scarf["availability"], "in stock", "Meta's words");
    assert_eq!(scarf["condition"], "new");
    assert_eq!(scarf["price"], "25.50 EUR");
    assert_eq!(scarf["description"], "Soft & warm\n100% wool", "a quoted line break");
    assert_eq!(
        scarf["additional_image_link"],
        "https://cdn.example.com/1/2.jpg,https://cdn.example.com/1/3,with-comma.jpg"
    );
    assert_eq!(scarf["quantity_to_sell_on_facebook"], "4");
    let small = &rows[1];
    assert_eq!(
        small["title"], "Jumper \"Aran\" <cable>, knit & soft\tcosy - S",
        "quotes and commas survive"
    );
    assert_eq!(small["availability"], "out of stock");
    assert_eq!(small["item_group_id"], "2");
    assert_eq!(small["size"], "S");
    assert_eq!(small["brand"], "Woolly");

    let xml = feed.generate_feed(&products, "meta-catalog-xml").await.unwrap();
    let read = python(READ_RSS, &xml.content);
    assert_eq!(read["link"], "https://shop.example.com", "the first product's origin");
    let items = read["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["additional_image_link"],
        json!([
            "https://cdn.example.com/1/2.jpg",
            "https://cdn.example.com/1/3,with-comma.jpg"
        ]),
        "one element per image"
    );
    assert_eq!(items[2]["availability"], "in stock");

    // Meta needs a brand, a gtin or an mpn.
    let mut anonymous = product("9", "Anonymous");
    anonymous.attributes.clear();
    anonymous.barcode = None;
    let checked = feed.validate_products(&[anonymous]).await.unwrap();
    assert_eq!(checked.valid_count, 0);
    assert!(
        checked
            .issues
            .iter()
            .any(|i| i.field == "brand" && i.message.contains("a brand, a gtin or an mpn")),
        "{:?}",
        checked.issues
    );
}
