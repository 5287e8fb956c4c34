//! The GraphQL documents this plugin sends, one per operation. Nested
//! connections are kept small: Shopify refuses a query whose requested cost
//! exceeds 1000 points (`MAX_COST_EXCEEDED`), and every point requested is
//! held from the budget until the answer refunds the unused ones.

/// Money as the store's currency shows it.
const MONEY: &str = "shopMoney { amount currencyCode }";

/// A line item's fields.
const LINE_ITEM: &str = "id title sku quantity variant { id } product { id } \
     originalUnitPriceSet { shopMoney { amount currencyCode } } totalDiscountSet { shopMoney { amount currencyCode } } \
     taxLines { rate }";

/// A variant's fields.
const VARIANT_FIELDS: &str =
    "id title sku barcode price compareAtPrice inventoryQuantity selectedOptions { name value }";

/// An order's fields (`…OrderFields`), with its first 20 line items (the
/// rest follow with [`LINE_ITEMS`]).
pub fn order_fields() -> String {
    format!(
        "fragment Address on MailingAddress {{ name firstName lastName company address1 address2 city province \
         provinceCode zip countryCodeV2 phone }}\n\
         fragment OrderFields on Order {{ id name createdAt updatedAt processedAt cancelledAt closedAt note email phone \
         displayFinancialStatus displayFulfillmentStatus currencyCode paymentGatewayNames tags \
         totalPriceSet {{ {MONEY} }} subtotalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} \
         totalShippingPriceSet {{ {MONEY} }} totalDiscountsSet {{ {MONEY} }} \
         customer {{ id firstName lastName email phone }} \
         billingAddress {{ ...Address }} shippingAddress {{ ...Address }} \
         lineItems(first: 20) {{ nodes {{ {LINE_ITEM} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

/// `LineItems`: the rest of an order's line items.
pub fn line_items() -> String {
    format!(
        "query LineItems($id: ID!, $after: String) {{ order(id: $id) {{ \
         lineItems(first: 50, after: $after) {{ nodes {{ {LINE_ITEM} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
    )
}

/// `Variants`: the rest of a product's variants.
pub fn variants() -> String {
    format!(
        "query Variants($id: ID!, $after: String) {{ product(id: $id) {{ \
         variants(first: 50, after: $after) {{ nodes {{ {VARIANT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
    )
}

/// `Orders`: a page of orders by update time.
pub fn orders() -> String {
    format!(
        "query Orders($first: Int!, $after: String, $query: String) {{ \
         orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{ \
         nodes {{ ...OrderFields }} pageInfo {{ hasNextPage endCursor }} }} }}\n{}",
        order_fields()
    )
}

/// `Order`: one order.
pub fn order() -> String {
    format!(
        "query Order($id: ID!) {{ order(id: $id) {{ ...OrderFields }} }}\n{}",
        order_fields()
    )
}

/// `Products`: a page of products by update time, with the shop's
/// currency; each with its first 20 variants (the rest follow with
/// [`variants`]).
pub fn products() -> String {
    format!(
        "query Products($first: Int!, $after: String, $query: String) {{ shop {{ currencyCode }} \
         products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{ \
         nodes {{ id title handle descriptionHtml status vendor productType tags onlineStoreUrl createdAt updatedAt \
         totalInventory media(first: 5) {{ nodes {{ ... on MediaImage {{ image {{ url }} }} }} }} \
         variants(first: 20) {{ nodes {{ {VARIANT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }} \
         pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

/// `Shop`: who the token belongs to (the connection test).
pub const SHOP: &str = "query Shop { shop { name myshopifyDomain currencyCode plan { displayName } } }";

/// `Variant`: a variant's product, inventory item and price currency.
pub const VARIANT: &str = "query Variant($id: ID!) { shop { currencyCode } \
     productVariant(id: $id) { id product { id } inventoryItem { id } } }";

/// `ProductVariants`: a product's variants (to find its only one).
pub const PRODUCT_VARIANTS: &str = "query ProductVariants($id: ID!) { shop { currencyCode } \
     product(id: $id) { id variants(first: 2) { nodes { id inventoryItem { id } } } } }";

/// `Locations`: the store's first location.
pub const LOCATIONS: &str = "query Locations { locations(first: 1) { nodes { id name } } }";

/// `SetStock`: absolute available quantities at a location; idempotent by
/// its key (mandatory from 2026-04).
pub const SET_STOCK: &str = "mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) { \
     inventorySetQuantities(input: $input) @idempotent(key: $key) { \
     inventoryAdjustmentGroup { id } userErrors { field message code } } }";

/// `SetPrices`: prices of one product's variants.
pub const SET_PRICES: &str = "mutation SetPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) { \
     productVariantsBulkUpdate(productId: $productId, variants: $variants) { \
     productVariants { id price } userErrors { field message code } } }";

/// `UpdateProduct`: title, description, status.
pub const UPDATE_PRODUCT: &str = "mutation UpdateProduct($product: ProductUpdateInput!) { \
     productUpdate(product: $product) { product { id } userErrors { field message } } }";

/// `CancelOrder`: cancels (a background job), restocking, without a refund.
pub const CANCEL_ORDER: &str = "mutation CancelOrder($orderId: ID!) { \
     orderCancel(orderId: $orderId, reason: OTHER, restock: true, notifyCustomer: false, \
     refundMethod: { originalPaymentMethodsRefund: false }) { \
     job { id done } orderCancelUserErrors { field message code } } }";

/// `OpenOrder`: reopens a closed order.
pub const OPEN_ORDER: &str = "mutation OpenOrder($input: OrderOpenInput!) { \
     orderOpen(input: $input) { order { id } userErrors { field message } } }";

/// `FulfillmentOrders`: what is left to ship of an order.
pub const FULFILLMENT_ORDERS: &str = "query FulfillmentOrders($id: ID!) { order(id: $id) { id \
     fulfillmentOrders(first: 10) { nodes { id status } } } }";

/// `Fulfill`: ships fulfillment orders.
pub const FULFILL: &str = "mutation Fulfill($fulfillment: FulfillmentInput!) { \
     fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } } }";

/// `Subscribe`: a webhook subscription.
pub const SUBSCRIBE: &str = "mutation Subscribe($topic: WebhookSubscriptionTopic!, $uri: String!) { \
     webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri, format: JSON }) { \
     webhookSubscription { id topic uri } userErrors { field message } } }";

/// `Subscriptions`: the app's webhook subscriptions.
pub const SUBSCRIPTIONS: &str = "query Subscriptions { webhookSubscriptions(first: 100) { nodes { id topic uri } } }";

/// `Unsubscribe`: removes a subscription.
pub const UNSUBSCRIBE: &str = "mutation Unsubscribe($id: ID!) { \
     webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }";
