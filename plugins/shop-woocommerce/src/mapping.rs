//! WooCommerce JSON → Patchbay's normalized orders and products.

use patchbay_sdk::client::Raw;
use patchbay_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The provider name in `provider-meta`.
pub const PROVIDER: &str = "woocommerce";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct WcAddress {
    first_name: String,
    last_name: String,
    company: String,
    address_1: String,
    address_2: String,
    city: String,
    state: String,
    postcode: String,
    country: String,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct WcLineItem {
    id: u64,
    name: String,
    product_id: u64,
    variation_id: u64,
    quantity: Amount,
    sku: Option<String>,
    price: Amount,
    subtotal: String,
    subtotal_tax: String,
    total: String,
    total_tax: String,
    tax_class: String,
}

/// An order as `GET /orders` serves it (the fields the mapping reads).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct WcOrder {
    id: u64,
    number: String,
    status: String,
    currency: String,
    total: String,
    total_tax: String,
    shipping_total: String,
    discount_total: String,
    date_created_gmt: Option<String>,
    date_modified_gmt: Option<String>,
    date_paid_gmt: Option<String>,
    customer_id: u64,
    customer_note: String,
    payment_method: String,
    payment_method_title: String,
    transaction_id: String,
    billing: Option<WcAddress>,
    shipping: Option<WcAddress>,
    line_items: Vec<WcLineItem>,
}

/// WooCommerce's order status → the normalized one.
pub fn order_status(raw: &str) -> OrderStatus {
    match raw {
        "processing" => OrderStatus::Processing,
        "completed" => OrderStatus::Delivered,
        "cancelled" | "failed" | "trash" => OrderStatus::Cancelled,
        "refunded" => OrderStatus::Refunded,
        // pending, on-hold, checkout-draft and statuses added by other plugins.
        _ => OrderStatus::Pending,
    }
}

/// The normalized order status → WooCommerce's, where one exists.
pub fn wc_status(status: OrderStatus) -> Result<&'static str> {
    Ok(match status {
        OrderStatus::Pending => "pending",
        OrderStatus::Accepted | OrderStatus::Processing => "processing",
        OrderStatus::Shipped | OrderStatus::Delivered => "completed",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Refunded => "refunded",
        OrderStatus::Returned => {
            return Err(Error::Validation(
                "WooCommerce has no \"returned\" order status; use \"refunded\" or \"cancelled\"".into(),
            ));
        }
    })
}

fn payment_status(order: &WcOrder) -> PaymentStatus {
    match order.status.as_str() {
        "refunded" => PaymentStatus::Refunded,
        "failed" => PaymentStatus::Failed,
        _ if order.date_paid_gmt.as_deref().is_some_and(|d| !d.is_empty()) => PaymentStatus::Paid,
        "processing" | "completed" => PaymentStatus::Paid,
        _ => PaymentStatus::Unpaid,
    }
}

fn payment_type(method: &str) -> Option<PaymentType> {
    match method {
        "" => None,
        "cod" => Some(PaymentType::CashOnDelivery),
        "bacs" => Some(PaymentType::BankTransfer),
        "cheque" => Some(PaymentType::PaymentOrder),
        m if m.contains("stripe") || m.contains("paypal") || m.contains("ppcp") || m == "woocommerce_payments" => {
            Some(PaymentType::OnlineCard)
        }
        _ => Some(PaymentType::Other),
    }
}

/// WooCommerce's `..._gmt` dates have no zone; they are UTC.
pub fn gmt_timestamp(value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    let has_zone = value.ends_with('Z')
        || value
            .get(19..)
            .is_some_and(|rest| rest.contains('+') || rest.contains('-'));
    Some(if has_zone {
        value.to_string()
    } else {
        format!("{value}Z")
    })
}

/// A JSON number or string read straight as a decimal string (`"0"` for
/// an empty string, `null` or anything else): WooCommerce sends prices and
/// quantities either way.
#[derive(Debug, Clone)]
struct Amount(String);

impl Default for Amount {
    fn default() -> Self {
        Self("0".into())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Amount;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("a number or a decimal string")
            }
            fn visit_u64<E>(self, n: u64) -> core::result::Result<Amount, E> {
                Ok(Amount(n.to_string()))
            }
            fn visit_i64<E>(self, n: i64) -> core::result::Result<Amount, E> {
                Ok(Amount(n.to_string()))
            }
            fn visit_f64<E>(self, n: f64) -> core::result::Result<Amount, E> {
                // As serde_json writes the number: its shortest form.
                Ok(serde_json::Number::from_f64(n).map_or_else(Amount::default, |n| Amount(n.to_string())))
            }
            fn visit_str<E>(self, s: &str) -> core::result::Result<Amount, E> {
                Ok(if s.is_empty() {
                    Amount::default()
                } else {
                    Amount(s.into())
                })
            }
            fn visit_string<E>(self, s: String) -> core::result::Result<Amount, E> {
                Ok(if s.is_empty() { Amount::default() } else { Amount(s) })
            }
            fn visit_bool<E>(self, _: bool) -> core::result::Result<Amount, E> {
                Ok(Amount::default())
            }
            fn visit_unit<E>(self) -> core::result::Result<Amount, E> {
                Ok(Amount::default())
            }
            fn visit_none<E>(self) -> core::result::Result<Amount, E> {
                Ok(Amount::default())
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> core::result::Result<Amount, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Amount, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Amount::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> core::result::Result<Amount, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Amount::default())
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_string())
}

/// The contact, its fields moved out of `address` (not copied).
fn contact(address: WcAddress) -> Contact {
    let name = format!("{} {}", address.first_name.trim(), address.last_name.trim())
        .trim()
        .to_string();
    let street = [address.address_1.trim(), address.address_2.trim()]
        .into_iter()
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Contact {
        name,
        company_name: address.company,
        vat_id: String::new(),
        email: address.email.unwrap_or_default(),
        phone: address.phone.unwrap_or_default(),
        address: Some(Address {
            street,
            city: address.city,
            region: address.state,
            postal_code: address.postcode,
            country: address.country,
            extra: "{}".into(),
        }),
        extra: "{}".into(),
    }
}

fn is_blank(address: &WcAddress) -> bool {
    [
        &address.first_name,
        &address.last_name,
        &address.company,
        &address.address_1,
        &address.city,
        &address.country,
    ]
    .iter()
    .all(|field| field.trim().is_empty())
}

/// The line, its fields moved out of `item` (not copied).
fn order_item(item: WcLineItem, currency: &str) -> OrderItem {
    let product_id = if item.variation_id != 0 {
        item.variation_id
    } else {
        item.product_id
    };
    let extra = serde_json::to_string(&ItemExtra {
        parent_product_id: item.product_id,
        subtotal: &item.subtotal,
        subtotal_tax: &item.subtotal_tax,
        tax_class: &item.tax_class,
        total: &item.total,
        total_tax: &item.total_tax,
        variation_id: item.variation_id,
    })
    .expect("plain fields serialize");
    OrderItem {
        item_id: item.id.to_string(),
        product_id: product_id.to_string(),
        sku: item.sku.unwrap_or_default(),
        name: item.name,
        quantity: item.quantity.0,
        unit_price: item.price.0,
        currency: currency.to_string(),
        tax_rate: None,
        discount: None,
        extra,
    }
}

/// A line item's `extra`: WooCommerce's fields the contract has no place
/// for (keys in alphabetical order, as a JSON object map writes them).
#[derive(Serialize)]
struct ItemExtra<'a> {
    parent_product_id: u64,
    subtotal: &'a str,
    subtotal_tax: &'a str,
    tax_class: &'a str,
    total: &'a str,
    total_tax: &'a str,
    variation_id: u64,
}

/// An order's `extra` (keys in alphabetical order).
#[derive(Serialize)]
struct OrderExtra<'a> {
    customer_id: u64,
    discount_total: &'a str,
    number: &'a str,
    payment_method: &'a str,
    payment_method_title: &'a str,
    shipping_total: &'a str,
    total_tax: &'a str,
    transaction_id: &'a str,
}

/// Maps one order; `site` is the shop's URL, for the back-office link.
pub fn order(raw: &Raw<WcOrder>, site: &str) -> Result<Order> {
    map_order((**raw).clone(), raw.raw().to_string(), site)
}

/// [`order`], taking the order: its JSON text moves into the raw payload
/// (not copied), or is dropped for `null` when not `keep_raw`.
pub fn order_with(raw: Raw<WcOrder>, site: &str, keep_raw: bool) -> Result<Order> {
    let (wc, text) = raw.into_parts();
    map_order(wc, payload(text, keep_raw), site)
}

/// The raw payload: the provider's JSON, or `null` when the caller goes
/// without it.
fn payload(text: String, keep: bool) -> String {
    if keep { text } else { "null".into() }
}

/// The order, its fields moved out of `wc` (not copied).
fn map_order(wc: WcOrder, raw_payload: String, site: &str) -> Result<Order> {
    let id = wc.id.to_string();
    let extra = serde_json::to_string(&OrderExtra {
        customer_id: wc.customer_id,
        discount_total: &wc.discount_total,
        number: &wc.number,
        payment_method: &wc.payment_method,
        payment_method_title: &wc.payment_method_title,
        shipping_total: &wc.shipping_total,
        total_tax: &wc.total_tax,
        transaction_id: &wc.transaction_id,
    })
    .expect("plain fields serialize");
    let (status, payment_status, payment_type) = (
        order_status(&wc.status),
        payment_status(&wc),
        payment_type(&wc.payment_method),
    );
    let external_id = non_empty(&wc.number).filter(|n| *n != id);
    let created_at = gmt_timestamp(wc.date_created_gmt.as_deref());
    let updated_at = gmt_timestamp(wc.date_modified_gmt.as_deref());
    let billing = wc.billing.filter(|a| !is_blank(a)).map(contact);
    let shipping = wc.shipping.filter(|a| !is_blank(a)).map(contact);
    let shipping_address = shipping.as_ref().and_then(|c| c.address.clone());
    let currency = wc.currency;
    Ok(Order {
        external_id,
        status,
        raw_status: wc.status,
        payment_status,
        payment_type,
        items: wc
            .line_items
            .into_iter()
            .map(|item| order_item(item, &currency))
            .collect(),
        currency,
        billing,
        shipping,
        shipping_address,
        total: if wc.total.is_empty() { "0".into() } else { wc.total },
        created_at,
        updated_at,
        external_url: format!("{site}/wp-admin/post.php?post={id}&action=edit"),
        customer_note: wc.customer_note,
        extra,
        provider_meta: ProviderMeta {
            provider: PROVIDER.into(),
            raw_id: id.clone(),
            raw_payload,
        },
        order_id: id,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WcNamed {
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WcImage {
    src: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WcAttribute {
    name: String,
    options: Vec<String>,
    option: Option<String>,
}

/// A product as `GET /products` serves it (the fields the mapping reads).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WcProduct {
    id: u64,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    status: String,
    permalink: String,
    description: String,
    short_description: String,
    sku: String,
    price: Amount,
    regular_price: String,
    sale_price: String,
    manage_stock: Value,
    stock_quantity: Option<i64>,
    stock_status: String,
    global_unique_id: Option<String>,
    categories: Vec<WcNamed>,
    tags: Vec<WcNamed>,
    images: Vec<WcImage>,
    attributes: Vec<WcAttribute>,
    variations: Vec<u64>,
    date_modified_gmt: Option<String>,
}

/// Maps one product; `currency` is the store's (products carry none).
pub fn product(raw: &Raw<WcProduct>, currency: &str) -> Result<Product> {
    map_product(raw, raw.raw().to_string(), currency)
}

/// [`product`], taking the product (see [`order_with`]).
pub fn product_with(raw: Raw<WcProduct>, currency: &str, keep_raw: bool) -> Result<Product> {
    let (wc, text) = raw.into_parts();
    map_product(&wc, payload(text, keep_raw), currency)
}

fn map_product(wc: &WcProduct, raw_payload: String, currency: &str) -> Result<Product> {
    let price = match &wc.price.0 {
        p if p == "0" && wc.regular_price.is_empty() => None,
        p => Some(p.clone()),
    };
    let attributes = wc
        .attributes
        .iter()
        .map(|a| ProductAttribute {
            name: a.name.clone(),
            value: a.option.clone().unwrap_or_else(|| a.options.join(", ")),
        })
        .collect();
    Ok(Product {
        product_id: wc.id.to_string(),
        sku: non_empty(&wc.sku),
        barcode: wc.global_unique_id.as_deref().and_then(non_empty),
        name: wc.name.clone(),
        description: if wc.description.is_empty() {
            wc.short_description.clone()
        } else {
            wc.description.clone()
        },
        url: wc.permalink.clone(),
        price,
        currency: currency.to_string(),
        stock: wc.stock_quantity,
        active: wc.status == "publish",
        categories: wc.categories.iter().map(|c| c.name.clone()).collect(),
        photos: wc
            .images
            .iter()
            .map(|i| i.src.clone())
            .filter(|s| !s.is_empty())
            .collect(),
        attributes,
        variants: Vec::new(),
        extra: json!({
            "type": wc.kind,
            "status": wc.status,
            "regular_price": wc.regular_price,
            "sale_price": wc.sale_price,
            "manage_stock": wc.manage_stock,
            "stock_status": wc.stock_status,
            "tags": wc.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            "variation_ids": wc.variations,
            "date_modified": gmt_timestamp(wc.date_modified_gmt.as_deref()),
        })
        .to_string(),
        provider_meta: ProviderMeta {
            provider: PROVIDER.into(),
            raw_id: wc.id.to_string(),
            raw_payload,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_order() -> Value {
        json!({
            "id": 727, "number": "727", "status": "processing", "currency": "RON",
            "total": "119.00", "total_tax": "19.00", "shipping_total": "10.00", "discount_total": "0.00",
            "date_created_gmt": "2026-01-31T09:30:00", "date_modified_gmt": "2026-02-01T10:00:00",
            "date_paid_gmt": "2026-01-31T09:31:00", "customer_id": 5, "customer_note": "ring twice",
            "payment_method": "cod", "payment_method_title": "Cash on delivery", "transaction_id": "",
            "billing": {"first_name": "Ana", "last_name": "Pop", "company": "", "address_1": "Str. Lunga 1",
                        "address_2": "Ap. 2", "city": "Cluj", "state": "CJ", "postcode": "400000",
                        "country": "RO", "email": "ana@example.com", "phone": "+40700000000"},
            "shipping": {"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "",
                         "city": "", "state": "", "postcode": "", "country": ""},
            "line_items": [{"id": 1, "name": "Mug", "product_id": 93, "variation_id": 0, "quantity": 2,
                            "sku": "MUG-1", "price": 54.5, "subtotal": "109.00", "subtotal_tax": "0.00",
                            "total": "109.00", "total_tax": "0.00", "tax_class": ""}]
        })
    }

    #[test]
    fn maps_an_order_field_by_field() {
        let raw = sample_order();
        let order = order(&serde_json::from_value(raw.clone()).unwrap(), "https://shop.example").unwrap();
        assert_eq!(order.order_id, "727");
        assert_eq!(order.external_id, None);
        assert_eq!(order.status, OrderStatus::Processing);
        assert_eq!(order.payment_status, PaymentStatus::Paid);
        assert_eq!(order.payment_type, Some(PaymentType::CashOnDelivery));
        assert_eq!(order.total, "119.00");
        assert_eq!(order.created_at.as_deref(), Some("2026-01-31T09:30:00Z"));
        let billing = order.billing.unwrap();
        assert_eq!(billing.name, "Ana Pop");
        assert_eq!(billing.address.unwrap().street, "Str. Lunga 1\nAp. 2");
        assert!(order.shipping.is_none(), "a blank shipping address is no address");
        assert_eq!(order.items[0].quantity, "2");
        assert_eq!(order.items[0].unit_price, "54.5");
        assert_eq!(
            order.external_url,
            "https://shop.example/wp-admin/post.php?post=727&action=edit"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&order.provider_meta.raw_payload).unwrap(),
            raw
        );
    }

    #[test]
    fn statuses_map_both_ways() {
        assert_eq!(order_status("on-hold"), OrderStatus::Pending);
        assert_eq!(order_status("completed"), OrderStatus::Delivered);
        assert_eq!(order_status("failed"), OrderStatus::Cancelled);
        assert_eq!(wc_status(OrderStatus::Shipped).unwrap(), "completed");
        assert!(matches!(wc_status(OrderStatus::Returned), Err(Error::Validation(_))));
    }

    #[test]
    fn dates_with_a_zone_are_kept() {
        assert_eq!(
            gmt_timestamp(Some("2026-01-31T09:30:00+02:00")).as_deref(),
            Some("2026-01-31T09:30:00+02:00")
        );
        assert_eq!(gmt_timestamp(Some("")), None);
    }

    #[test]
    fn an_unreadable_order_is_not_read() {
        let read = serde_json::from_str::<Raw<WcOrder>>(r#"{"id": "not a number"}"#);
        assert!(read.is_err());
    }
}
