//! Shopify's GraphQL objects → Patchbay's normalized orders and products.
//! Money is read from the `*Set { shopMoney }` fields, in the store's
//! currency; ids are the numbers of Shopify's global ids.

use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::number;

/// The provider name in `provider-meta`.
pub const PROVIDER: &str = "shopify";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Money {
    amount: String,
    #[serde(rename = "currencyCode")]
    currency: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MoneyBag {
    #[serde(rename = "shopMoney")]
    shop_money: Money,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct MailingAddress {
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    province: Option<String>,
    province_code: Option<String>,
    zip: Option<String>,
    country_code_v2: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Customer {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdOnly {
    id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TaxLine {
    rate: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LineItem {
    id: String,
    title: String,
    sku: Option<String>,
    quantity: i64,
    variant: Option<IdOnly>,
    product: Option<IdOnly>,
    original_unit_price_set: MoneyBag,
    total_discount_set: MoneyBag,
    tax_lines: Vec<TaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Nodes<T> {
    nodes: Vec<T>,
}

/// An order as the `OrderFields` fragment reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ShopifyOrder {
    id: String,
    name: String,
    created_at: Option<String>,
    updated_at: Option<String>,
    processed_at: Option<String>,
    cancelled_at: Option<String>,
    closed_at: Option<String>,
    note: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    display_financial_status: Option<String>,
    display_fulfillment_status: String,
    currency_code: String,
    payment_gateway_names: Vec<String>,
    tags: Vec<String>,
    total_price_set: MoneyBag,
    subtotal_price_set: MoneyBag,
    total_tax_set: MoneyBag,
    total_shipping_price_set: MoneyBag,
    total_discounts_set: MoneyBag,
    customer: Option<Customer>,
    billing_address: Option<MailingAddress>,
    shipping_address: Option<MailingAddress>,
    line_items: Nodes<LineItem>,
}

/// Shopify's financial and fulfillment statuses → the normalized order
/// status: cancelled and refunded first, then how far fulfillment went,
/// then whether it is paid.
pub fn order_status(cancelled: bool, financial: &str, fulfillment: &str) -> OrderStatus {
    if cancelled {
        return OrderStatus::Cancelled;
    }
    match (financial, fulfillment) {
        ("REFUNDED", _) => OrderStatus::Refunded,
        (_, "RESTOCKED") => OrderStatus::Returned,
        (_, "FULFILLED") => OrderStatus::Shipped,
        (_, "PARTIALLY_FULFILLED" | "IN_PROGRESS") => OrderStatus::Processing,
        ("PAID" | "PARTIALLY_PAID" | "PARTIALLY_REFUNDED", _) => OrderStatus::Processing,
        ("AUTHORIZED", _) => OrderStatus::Accepted,
        _ => OrderStatus::Pending,
    }
}

/// Shopify's financial status → the payment status.
pub fn payment_status(financial: &str) -> PaymentStatus {
    match financial {
        "PAID" | "PARTIALLY_REFUNDED" => PaymentStatus::Paid,
        "PARTIALLY_PAID" => PaymentStatus::PartiallyPaid,
        "REFUNDED" => PaymentStatus::Refunded,
        "VOIDED" | "EXPIRED" => PaymentStatus::Failed,
        // PENDING, AUTHORIZED.
        _ => PaymentStatus::Unpaid,
    }
}

/// The payment type from the gateways the order was paid through.
fn payment_type(gateways: &[String]) -> Option<PaymentType> {
    let gateway = gateways.first()?.to_ascii_lowercase();
    Some(if gateway.contains("cash on delivery") || gateway.contains("cod") {
        PaymentType::CashOnDelivery
    } else if gateway.contains("bank") || gateway == "manual" {
        PaymentType::BankTransfer
    } else if gateway.contains("shopify_payments")
        || gateway.contains("stripe")
        || gateway.contains("paypal")
        || gateway.contains("card")
        || gateway.contains("adyen")
        || gateway.contains("braintree")
    {
        PaymentType::OnlineCard
    } else {
        PaymentType::Other
    })
}

fn text(value: Option<&String>) -> String {
    value.map(|s| s.trim().to_string()).unwrap_or_default()
}

fn address(a: &MailingAddress) -> Address {
    let street = [a.address1.as_ref(), a.address2.as_ref()]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Address {
        street,
        city: text(a.city.as_ref()),
        region: text(a.province.as_ref()),
        postal_code: text(a.zip.as_ref()),
        country: text(a.country_code_v2.as_ref()),
        extra: json!({ "province_code": a.province_code }).to_string(),
    }
}

fn person(a: &MailingAddress, email: &str) -> Contact {
    let name = a.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
        format!("{} {}", text(a.first_name.as_ref()), text(a.last_name.as_ref()))
            .trim()
            .to_string()
    });
    Contact {
        name,
        company_name: text(a.company.as_ref()),
        vat_id: String::new(),
        email: email.to_string(),
        phone: text(a.phone.as_ref()),
        address: Some(address(a)),
        extra: "{}".into(),
    }
}

/// An order node → the contract's order; `raw` is the node's JSON.
pub fn order(node: &Value, store_url: &str) -> Result<Order> {
    let o: ShopifyOrder = serde_json::from_value(node.clone())
        .map_err(|e| Error::provider(format!("an order Shopify sent does not read: {e}")))?;
    let financial = o.display_financial_status.clone().unwrap_or_default();
    let email = o
        .email
        .clone()
        .or_else(|| o.customer.as_ref().and_then(|c| c.email.clone()))
        .unwrap_or_default();
    let billing = o.billing_address.as_ref().map(|a| person(a, &email)).or_else(|| {
        o.customer.as_ref().map(|c| Contact {
            name: format!("{} {}", text(c.first_name.as_ref()), text(c.last_name.as_ref()))
                .trim()
                .to_string(),
            company_name: String::new(),
            vat_id: String::new(),
            email: email.clone(),
            phone: text(c.phone.as_ref().or(o.phone.as_ref())),
            address: None,
            extra: "{}".into(),
        })
    });
    let shipping = o.shipping_address.as_ref().map(|a| person(a, &email));
    let currency = if o.total_price_set.shop_money.currency.is_empty() {
        o.currency_code.clone()
    } else {
        o.total_price_set.shop_money.currency.clone()
    };
    let items = o
        .line_items
        .nodes
        .iter()
        .map(|item| OrderItem {
            item_id: number(&item.id),
            product_id: item.product.as_ref().map(|p| number(&p.id)).unwrap_or_default(),
            sku: text(item.sku.as_ref()),
            name: item.title.clone(),
            quantity: item.quantity.to_string(),
            unit_price: item.original_unit_price_set.shop_money.amount.clone(),
            currency: item.original_unit_price_set.shop_money.currency.clone(),
            tax_rate: item
                .tax_lines
                .first()
                .and_then(|t| t.rate)
                .map(|r| format!("{}", r * 100.0)),
            discount: Some(item.total_discount_set.shop_money.amount.clone()).filter(|d| !d.is_empty() && d != "0.0"),
            extra: json!({ "variant_id": item.variant.as_ref().map(|v| number(&v.id)) }).to_string(),
        })
        .collect();
    let id = number(&o.id);
    Ok(Order {
        order_id: id.clone(),
        external_id: Some(o.name.clone()),
        status: order_status(o.cancelled_at.is_some(), &financial, &o.display_fulfillment_status),
        raw_status: format!("{financial}/{}", o.display_fulfillment_status),
        payment_status: payment_status(&financial),
        payment_type: payment_type(&o.payment_gateway_names),
        currency,
        items,
        billing,
        shipping,
        shipping_address: o.shipping_address.as_ref().map(address),
        total: o.total_price_set.shop_money.amount.clone(),
        created_at: o.created_at.clone(),
        updated_at: o.updated_at.clone(),
        external_url: format!("{}/admin/orders/{id}", store_url.trim_end_matches('/')),
        customer_note: text(o.note.as_ref()),
        extra: json!({
            "name": o.name,
            "financial_status": financial,
            "fulfillment_status": o.display_fulfillment_status,
            "processed_at": o.processed_at,
            "cancelled_at": o.cancelled_at,
            "closed_at": o.closed_at,
            "subtotal": o.subtotal_price_set.shop_money.amount,
            "tax": o.total_tax_set.shop_money.amount,
            "shipping": o.total_shipping_price_set.shop_money.amount,
            "discounts": o.total_discounts_set.shop_money.amount,
            "gateways": o.payment_gateway_names,
            "tags": o.tags,
            "customer_id": o.customer.as_ref().map(|c| number(&c.id)),
        })
        .to_string(),
        provider_meta: ProviderMeta {
            provider: PROVIDER.into(),
            raw_id: o.id.clone(),
            raw_payload: node.to_string(),
        },
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Option_ {
    name: String,
    value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Variant {
    id: String,
    title: String,
    sku: Option<String>,
    barcode: Option<String>,
    price: Option<String>,
    compare_at_price: Option<String>,
    inventory_quantity: Option<i64>,
    selected_options: Vec<Option_>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Image {
    url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Media {
    image: Option<Image>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ShopifyProduct {
    id: String,
    title: String,
    handle: String,
    description_html: String,
    status: String,
    vendor: String,
    product_type: String,
    tags: Vec<String>,
    online_store_url: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    total_inventory: Option<i64>,
    media: Nodes<Media>,
    variants: Nodes<Variant>,
}

/// Text of HTML: tags dropped, the common entities decoded, blank runs
/// folded.
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A product node → the contract's product, priced in `currency` (the
/// store's).
pub fn product(node: &Value, currency: &str, store_url: &str) -> Result<Product> {
    let p: ShopifyProduct = serde_json::from_value(node.clone())
        .map_err(|e| Error::provider(format!("a product Shopify sent does not read: {e}")))?;
    let first = p.variants.nodes.first();
    let single = p.variants.nodes.len() == 1;
    let variants = p
        .variants
        .nodes
        .iter()
        .map(|v| ProductVariant {
            variant_id: number(&v.id),
            sku: v.sku.clone().filter(|s| !s.is_empty()),
            name: v.title.clone(),
            price: v.price.clone(),
            stock: v.inventory_quantity,
            attributes: v
                .selected_options
                .iter()
                .map(|o| ProductAttribute {
                    name: o.name.clone(),
                    value: o.value.clone(),
                })
                .collect(),
        })
        .collect();
    let mut attributes = Vec::new();
    for (name, value) in [("brand", &p.vendor), ("product_type", &p.product_type)] {
        if !value.is_empty() {
            attributes.push(ProductAttribute {
                name: name.into(),
                value: value.clone(),
            });
        }
    }
    let id = number(&p.id);
    Ok(Product {
        product_id: id.clone(),
        sku: first.and_then(|v| v.sku.clone()).filter(|s| single && !s.is_empty()),
        barcode: first
            .and_then(|v| v.barcode.clone())
            .filter(|b| single && !b.is_empty()),
        name: p.title.clone(),
        description: plain(&p.description_html),
        url: p
            .online_store_url
            .clone()
            .unwrap_or_else(|| format!("{}/products/{}", store_url.trim_end_matches('/'), p.handle)),
        // The lowest variant price, as a storefront shows "from".
        price: p
            .variants
            .nodes
            .iter()
            .filter_map(|v| v.price.as_deref())
            .min_by(|a, b| {
                let n = |s: &str| s.parse::<f64>().unwrap_or(f64::MAX);
                n(a).total_cmp(&n(b))
            })
            .map(str::to_string),
        currency: currency.to_string(),
        stock: p.total_inventory,
        active: p.status == "ACTIVE",
        categories: if p.product_type.is_empty() {
            Vec::new()
        } else {
            vec![p.product_type.clone()]
        },
        photos: p
            .media
            .nodes
            .iter()
            .filter_map(|m| m.image.as_ref().map(|i| i.url.clone()))
            .collect(),
        attributes,
        variants,
        extra: json!({
            "handle": p.handle,
            "status": p.status,
            "tags": p.tags,
            "vendor": p.vendor,
            "description_html": p.description_html,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
            "compare_at_price": first.and_then(|v| v.compare_at_price.clone()),
        })
        .to_string(),
        provider_meta: ProviderMeta {
            provider: PROVIDER.into(),
            raw_id: p.id.clone(),
            raw_payload: node.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map() {
        assert_eq!(order_status(true, "PAID", "FULFILLED"), OrderStatus::Cancelled);
        assert_eq!(order_status(false, "REFUNDED", "FULFILLED"), OrderStatus::Refunded);
        assert_eq!(order_status(false, "PAID", "FULFILLED"), OrderStatus::Shipped);
        assert_eq!(order_status(false, "PAID", "UNFULFILLED"), OrderStatus::Processing);
        assert_eq!(order_status(false, "AUTHORIZED", "UNFULFILLED"), OrderStatus::Accepted);
        assert_eq!(order_status(false, "PENDING", "UNFULFILLED"), OrderStatus::Pending);
        assert_eq!(order_status(false, "PAID", "RESTOCKED"), OrderStatus::Returned);
        assert_eq!(payment_status("PARTIALLY_PAID"), PaymentStatus::PartiallyPaid);
        assert_eq!(payment_status("VOIDED"), PaymentStatus::Failed);
        assert_eq!(
            payment_type(&["Cash on Delivery (COD)".into()]),
            Some(PaymentType::CashOnDelivery)
        );
        assert_eq!(
            payment_type(&["shopify_payments".into()]),
            Some(PaymentType::OnlineCard)
        );
        assert_eq!(payment_type(&[]), None);
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            plain("<p>Soft &amp; warm</p><ul><li>wool</li></ul>"),
            "Soft & warm wool"
        );
    }
}
