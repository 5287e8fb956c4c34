//! The Stripe plugin through the host: against localstripe (a stateful
//! fake Stripe from PyPI, started by `tests/with-localstripe.sh`) for
//! payment intents, captures and refunds; against a Stripe-shaped mock for
//! checkout sessions, idempotent replays, throttling, listing by creation
//! time and webhook endpoints; webhooks signed exactly as Stripe signs them.

use patchbay::types::{
    BillingDetails, CheckoutRequest, ConnectorError, Header, MetadataEntry, PaymentFilter, PaymentState, RefundState,
};
use patchbay::{CallError, ConnectOptions, Connection, Credentials, Host, Settings};
use patchbay_tests::stripe::{MockStripe, SECRET_KEY, event, signature};
use serde_json::{Value, json};

use crate::support::host;

const WEBHOOK_SECRET: &str = "whsec_mockSigningSecret0123456789";

fn localstripe() -> String {
    std::env::var("PATCHBAY_LOCALSTRIPE").expect(
        "PATCHBAY_LOCALSTRIPE is not set: run the tests through `just test` \
         (tests/with-localstripe.sh starts localstripe)",
    )
}

async fn stripe(api_base: &str, key: &str) -> (Host, Connection) {
    let host = host().await;
    let connection = host
        .connect_with(
            "payment/stripe",
            Credentials::from([("secret_key", key), ("webhook_secret", WEBHOOK_SECRET)]),
            Settings::from([("api_base".to_string(), api_base.to_string())]),
            ConnectOptions {
                signing_fields: vec!["webhook_secret".into()],
                ..ConnectOptions::default()
            },
        )
        .unwrap();
    (host, connection)
}

/// A payment intent made and confirmed in localstripe with a test card, as
/// a shop's checkout would; its id.
async fn intent(amount: u32, currency: &str, manual: bool) -> String {
    let http = reqwest::Client::new();
    let base = localstripe();
    let card: Value = http
        .post(format!("{base}/v1/payment_methods"))
        .basic_auth("sk_test_setup", Some(""))
        .form(&[
            ("type", "card"),
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let amount = amount.to_string();
    let mut form = vec![
        ("amount", amount.as_str()),
        ("currency", currency),
        ("payment_method", card["id"].as_str().unwrap()),
        ("confirm", "true"),
    ];
    if manual {
        form.push(("capture_method", "manual"));
    }
    let created: Value = http
        .post(format!("{base}/v1/payment_intents"))
        .basic_auth("sk_test_setup", Some(""))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn against_localstripe_payments_are_read_paged_captured_and_refunded() {
    let (_host, conn) = stripe(&localstripe(), "sk_test_patchbay").await;
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    assert_eq!(test.message, "Connected to Stripe (test mode)");
    let (_host2, refused) = stripe(&localstripe(), "not-a-key").await;
    let test = refused.test().await.unwrap();
    assert!(!test.success && test.message.contains("Unauthorized"), "{test:?}");

    let paid = intent(2000, "eur", false).await;
    let small = intent(1234, "eur", false).await;
    let held = intent(1500, "usd", true).await;
    let payments = conn.payment().unwrap();

    let got = payments.get_payment(&paid).await.unwrap();
    assert_eq!(got.payment_id, paid);
    assert_eq!(got.status, PaymentState::Completed);
    assert_eq!((got.amount.as_str(), got.currency.as_str()), ("20.00", "EUR"));
    // localstripe's intents and charges carry no payment method type (an
    // old shape); the mock's do, and the method is checked there.
    assert!(got.paid_at.as_deref().is_some_and(|t| t.ends_with('Z')), "{got:?}");
    let extra: Value = serde_json::from_str(&got.extra).unwrap();
    assert_eq!(extra["stripe_status"], "succeeded");
    assert_eq!(got.provider_meta.raw_id, paid);
    let raw: Value = serde_json::from_str(&got.provider_meta.raw_payload).unwrap();
    assert_eq!(raw["object"], "payment_intent", "Stripe's object, verbatim");

    // Paging to the end, two at a time: each of ours exactly once.
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let filter = PaymentFilter {
            status: None,
            since: None,
            until: None,
            limit: Some(2),
        };
        let page = payments.list_payments(&filter, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|p| p.payment_id.clone()));
        if !page.has_more {
            break;
        }
        cursor = page.next_cursor;
    }
    for id in [&paid, &small, &held] {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "{id} in {seen:?}");
    }

    // An authorized payment is captured.
    assert_eq!(
        payments.get_payment(&held).await.unwrap().status,
        PaymentState::Authorized
    );
    let captured = payments.capture_payment(&held).await.unwrap();
    assert_eq!(captured.status, PaymentState::Completed);
    assert_eq!((captured.amount.as_str(), captured.currency.as_str()), ("15.00", "USD"));

    // Refunds: part, then the rest.
    // A reason Stripe has no word for goes in the refund's metadata
    // (localstripe knows no `reason` at all).
    let part = payments
        .refund(&paid, Some(&"5.00".to_string()), "changed their mind")
        .await
        .unwrap();
    assert_eq!((part.amount.as_str(), part.currency.as_str()), ("5.00", "EUR"));
    assert_eq!(part.reason, "changed their mind");
    assert_eq!(part.payment_id, paid);
    assert_eq!(part.status, RefundState::Succeeded);
    assert!(part.refund_id.starts_with("re_"));
    assert_eq!(
        payments.get_payment(&paid).await.unwrap().status,
        PaymentState::PartiallyRefunded
    );
    payments.refund(&paid, None, "").await.unwrap();
    assert_eq!(
        payments.get_payment(&paid).await.unwrap().status,
        PaymentState::Refunded
    );

    // Errors: a missing intent, an id that is not one, too many decimals.
    match payments.get_payment("pi_doesnotexist000").await {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => assert!(m.contains("Not Found"), "{m}"),
        other => panic!("{other:?}"),
    }
    match payments.get_payment("ch_123").await {
        Err(CallError::Connector(ConnectorError::Validation(m))) => assert!(m.contains("pi_"), "{m}"),
        other => panic!("{other:?}"),
    }
    match payments.refund(&small, Some(&"1.999".to_string()), "").await {
        Err(CallError::Connector(ConnectorError::Validation(m))) => assert!(m.contains("decimal places"), "{m}"),
        other => panic!("{other:?}"),
    }
}

fn checkout(amount: &str, currency: &str) -> CheckoutRequest {
    CheckoutRequest {
        amount: amount.into(),
        currency: currency.into(),
        description: "Order #1042".into(),
        success_url: "https://shop.example.com/thanks".into(),
        cancel_url: "https://shop.example.com/cart".into(),
        reference: "order-1042".into(),
        billing: Some(BillingDetails {
            name: "Ada Lovelace".into(),
            email: "ada@example.com".into(),
            phone: String::new(),
            company_name: String::new(),
            vat_id: String::new(),
            address: None,
        }),
        metadata: vec![MetadataEntry {
            key: "channel".into(),
            value: "web".into(),
        }],
    }
}

#[tokio::test]
async fn checkout_sessions_are_idempotent_posts_that_the_host_retries_when_throttled() {
    let mock = MockStripe::start().await.unwrap();
    let (_host, conn) = stripe(&mock.url(), SECRET_KEY).await;
    let payments = conn.payment().unwrap();
    let session = payments
        .create_checkout_session(&checkout("49.9", "eur"))
        .await
        .unwrap();
    assert!(session.session_id.starts_with("cs_test_"));
    assert_eq!(
        session.payment_url,
        format!("https://checkout.stripe.com/c/pay/{}", session.session_id)
    );
    assert_eq!((session.amount.as_str(), session.currency.as_str()), ("49.90", "EUR"));
    assert_eq!(session.expires_at.as_deref(), Some("2025-12-01T10:00:00Z"));
    let created = &mock.sessions()[0];
    assert_eq!(created["amount_total"], 4990, "in cents");
    assert_eq!(created["client_reference_id"], "order-1042");
    assert_eq!(created["customer_email"], "ada@example.com");
    assert_eq!(created["metadata"]["channel"], "web");
    let post = mock.requests().into_iter().find(|r| r.method == "POST").unwrap();
    assert!(
        post.header("idempotency-key")
            .is_some_and(|k| k.starts_with("patchbay-checkout-")),
        "{post:?}"
    );
    assert_eq!(post.header("content-type"), Some("application/x-www-form-urlencoded"));

    // Zero-decimal currencies are whole units.
    payments
        .create_checkout_session(&checkout("1500", "JPY"))
        .await
        .unwrap();
    assert_eq!(mock.sessions()[1]["amount_total"], 1500);

    // A 429: the host waits and sends the same request, same key, again.
    mock.throttle(1);
    let before = mock.requests().len();
    payments.create_checkout_session(&checkout("10", "EUR")).await.unwrap();
    let posts: Vec<_> = mock.requests()[before..]
        .iter()
        .filter(|r| r.method == "POST")
        .cloned()
        .collect();
    assert_eq!(posts.len(), 2, "throttled once, then sent again");
    assert_eq!(posts[0].header("idempotency-key"), posts[1].header("idempotency-key"));
    assert_eq!(mock.sessions().len(), 3, "one session for the two attempts");

    // Bad input never leaves the host.
    let before = mock.requests().len();
    match payments.create_checkout_session(&checkout("10.001", "EUR")).await {
        Err(CallError::Connector(ConnectorError::Validation(m))) => assert!(m.contains("decimal places"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.requests().len(), before);
}

#[tokio::test]
async fn payments_are_listed_by_creation_time() {
    let mock = MockStripe::start().await.unwrap();
    let ids: Vec<String> = (0..5)
        .map(|i| mock.add_intent(1000 + i, "eur", 1_764_496_800 + i * 3600))
        .collect();
    let (_host, conn) = stripe(&mock.url(), SECRET_KEY).await;
    let filter = PaymentFilter {
        status: Some(PaymentState::Completed),
        since: Some("2025-11-30T11:00:00Z".into()),
        until: Some("2025-11-30T13:00:00Z".into()),
        limit: Some(2),
    };
    let payments = conn.payment().unwrap();
    let first = payments.list_payments(&filter, None).await.unwrap();
    let got: Vec<&str> = first.items.iter().map(|p| p.payment_id.as_str()).collect();
    assert_eq!(got, [ids[3].as_str(), ids[2].as_str()], "newest first");
    assert_eq!(first.items[0].method.as_deref(), Some("card"));
    assert_eq!(first.items[0].amount, "10.03");
    assert!(first.has_more);
    let second = payments
        .list_payments(&filter, first.next_cursor.as_deref())
        .await
        .unwrap();
    let got: Vec<&str> = second.items.iter().map(|p| p.payment_id.as_str()).collect();
    assert_eq!(got, [ids[1].as_str()]);
    assert!(!second.has_more && second.next_cursor.is_none());
    let list = mock
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/payment_intents")
        .unwrap();
    assert!(
        list.query.contains("created%5Bgte%5D=1764500400") && list.query.contains("created%5Blte%5D=1764507600"),
        "{}",
        list.query
    );
    let refunded = PaymentFilter {
        status: Some(PaymentState::Refunded),
        ..filter
    };
    assert!(payments.list_payments(&refunded, None).await.unwrap().items.is_empty());
}

fn headers(signature: &str) -> Vec<Header> {
    vec![
        Header {
            name: "Stripe-Signature".into(),
            value: signature.into(),
        },
        Header {
            name: "Content-Type".into(),
            value: "application/json; charset=utf-8".into(),
        },
    ]
}

#[tokio::test]
async fn webhooks_verify_as_stripe_signs_and_refuse_the_rest() {
    let mock = MockStripe::start().await.unwrap();
    let (_host, conn) = stripe(&mock.url(), SECRET_KEY).await;
    let hooks = conn.webhooks().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = event(
        "evt_1MockEvent",
        "payment_intent.succeeded",
        1_764_496_800,
        json!({"id": "pi_mock1", "object": "payment_intent", "amount": 2000, "currency": "eur", "status": "succeeded"}),
    );
    hooks
        .verify(&headers(&signature(&[WEBHOOK_SECRET], now, &body)), &body)
        .await
        .expect("signed as Stripe signs");
    hooks
        .verify(
            &headers(&signature(&["whsec_theOldSecret", WEBHOOK_SECRET], now, &body)),
            &body,
        )
        .await
        .expect("while a secret is rolled, one of two v1 matches");
    let refused = |result: Result<(), CallError>| match result {
        Err(CallError::Connector(ConnectorError::WebhookVerification(m))) => m,
        other => panic!("{other:?}"),
    };
    let mut tampered = body.clone();
    tampered[20] ^= 1;
    let m = refused(
        hooks
            .verify(&headers(&signature(&[WEBHOOK_SECRET], now, &body)), &tampered)
            .await,
    );
    assert!(m.contains("matches"), "{m}");
    let m = refused(
        hooks
            .verify(&headers(&signature(&[WEBHOOK_SECRET], now - 400, &body)), &body)
            .await,
    );
    assert!(m.contains("at most 300"), "expired: {m}");
    refused(
        hooks
            .verify(&headers(&signature(&[WEBHOOK_SECRET], now + 400, &body)), &body)
            .await,
    );
    refused(
        hooks
            .verify(&headers(&signature(&["whsec_someoneElse"], now, &body)), &body)
            .await,
    );
    refused(hooks.verify(&[], &body).await);

    let events = hooks.parse(&headers(""), &body).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "payment.completed");
    assert_eq!(events[0].provider_event_type, "payment_intent.succeeded");
    assert_eq!(events[0].idempotency_key, "evt_1MockEvent");
    assert_eq!(events[0].occurred_at.as_deref(), Some("2025-11-30T10:00:00Z"));
    let payload: Value = serde_json::from_str(&events[0].payload_json).unwrap();
    assert_eq!(payload["id"], "pi_mock1");
    match hooks.parse(&headers(""), b"not json").await {
        Err(CallError::Connector(ConnectorError::Validation(_))) => {}
        other => panic!("{other:?}"),
    }

    // Endpoints: listed and removed; made only in the Dashboard (Stripe
    // shows a new endpoint's secret once, to whoever creates it).
    match hooks
        .register("https://patchbay.example.com/v1/webhooks/whk_x", &[])
        .await
    {
        Err(CallError::Connector(ConnectorError::Unsupported(m))) => assert!(m.contains("Dashboard"), "{m}"),
        other => panic!("{other:?}"),
    }
    let id = mock.add_endpoint(
        "https://patchbay.example.com/v1/webhooks/whk_x",
        &["payment_intent.succeeded"],
    );
    let listed = hooks.list_registrations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id.as_str(), listed[0].active), (id.as_str(), true));
    hooks.unregister(&id).await.unwrap();
    assert!(mock.endpoints().is_empty());
    match hooks.unregister(&id).await {
        Err(CallError::Connector(ConnectorError::NotFound(_))) => {}
        other => panic!("{other:?}"),
    }
}

/// Deliveries through `patchbay serve`'s ingress, signed as Stripe signs
/// them: stored once per event (Stripe retries a delivery with the same
/// event id), a tampered or expired one refused with 401 and stored nowhere.
#[tokio::test]
async fn deliveries_reach_the_service_once_and_bad_signatures_are_refused() {
    let mock = MockStripe::start().await.unwrap();
    let service = crate::serve::Service::start_with(patchbay_serve::Settings::default(), &["payment-stripe"]).await;
    let acme = service.key("acme", false).await;
    let created = service
        .send(
            reqwest::Method::POST,
            "/v1/connections",
            &acme,
            Some(json!({
                "provider": "payment/stripe",
                "credentials": {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET},
                "settings": {"api_base": mock.url()},
                "signing_fields": ["webhook_secret"],
            })),
        )
        .await;
    assert_eq!(created.0.as_u16(), 201, "{}", created.1);
    let id = created.1["id"].as_str().unwrap();
    let ingress = service
        .send(
            reqwest::Method::GET,
            &format!("/v1/connections/{id}/webhook"),
            &acme,
            None,
        )
        .await;
    let url = ingress.1["url"].as_str().unwrap().to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = event(
        "evt_1ServeEvent",
        "payment_intent.succeeded",
        now,
        json!({"id": "pi_serve1", "object": "payment_intent", "amount": 2000, "currency": "eur", "status": "succeeded"}),
    );
    let post = |signature: String, body: Vec<u8>| {
        let request = service
            .http
            .post(&url)
            .header("Stripe-Signature", signature)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(signature(&[WEBHOOK_SECRET], now, &body), body.clone()).await, 200);
    assert_eq!(
        post(signature(&[WEBHOOK_SECRET], now, &body), body.clone()).await,
        200,
        "Stripe's retry: acknowledged, not stored twice"
    );
    let mut tampered = body.clone();
    tampered[30] ^= 1;
    assert_eq!(post(signature(&[WEBHOOK_SECRET], now, &body), tampered).await, 401);
    assert_eq!(
        post(signature(&[WEBHOOK_SECRET], now - 400, &body), body.clone()).await,
        401,
        "expired"
    );
    let events = service
        .send(reqwest::Method::GET, "/v1/events?after=0&wait=5", &acme, None)
        .await;
    let list = events.1["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{}", events.1);
    assert_eq!(list[0]["message"]["type"], "payment.completed", "{}", events.1);
}
