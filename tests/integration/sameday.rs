//! The Sameday plugin through the host, against a mock written from
//! Sameday's official PHP SDK: the token login cached in kv (and renewed
//! when Sameday refuses it), AWBs with parcels field by field, the label
//! PDF, tracking history mapped to the normalized status, cancellation,
//! shipments from the status sync paged to the end, every error class.

use patchbay::types::{Address, ConnectorError, Contact, Parcel, ShipmentQuery, ShipmentRequest, ShipmentStatus};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use patchbay_tests::sameday::{CONTACT_PERSON, LABEL, MockSameday, PASSWORD, PICKUP_POINT, USERNAME};
use serde_json::Value;

use crate::support::host;

async fn sameday(mock: &MockSameday, password: &str, settings: &[(&str, &str)]) -> (Host, Connection) {
    let host = host().await;
    let mut all = vec![("api_base".to_string(), mock.url())];
    all.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let connection = host
        .connect(
            "courier/sameday",
            Credentials::from([("username", USERNAME), ("password", password)]),
            Settings::from_iter(all),
        )
        .unwrap();
    (host, connection)
}

fn recipient() -> Contact {
    Contact {
        name: "Ana Popescu".into(),
        company_name: "Atelier Ana SRL".into(),
        vat_id: "RO12345678".into(),
        email: "ana@example.ro".into(),
        phone: "0722000111".into(),
        address: Some(Address {
            street: "Strada Lipscani 12\nBloc A, ap. 3".into(),
            city: "Sectorul 3".into(),
            region: "Bucuresti".into(),
            postal_code: "030031".into(),
            country: "RO".into(),
            extra: String::new(),
        }),
        extra: String::new(),
    }
}

fn parcel(weight: &str) -> Parcel {
    Parcel {
        weight: weight.into(),
        width: "20".into(),
        height: "10".into(),
        length: "30.5".into(),
        reference: String::new(),
    }
}

fn request(parcels: Vec<Parcel>) -> ShipmentRequest {
    ShipmentRequest {
        sender: Contact {
            name: "Shop".into(),
            company_name: String::new(),
            vat_id: String::new(),
            email: String::new(),
            phone: String::new(),
            address: None,
            extra: String::new(),
        },
        recipient: recipient(),
        parcels,
        service: "7".into(),
        cod_amount: Some("149.90".into()),
        insured_value: Some("150".into()),
        currency: "RON".into(),
        reference: "ORDER-1001".into(),
        notes: "Fragile".into(),
        extra: String::new(),
    }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn validation(result: Result<impl std::fmt::Debug, CallError>) -> String {
    match result {
        Err(CallError::Connector(ConnectorError::Validation(message))) => message,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn awbs_are_created_labelled_tracked_and_cancelled() {
    let mock = MockSameday::start().await.unwrap();
    let (_host, conn) = sameday(&mock, PASSWORD, &[]).await;

    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    assert_eq!(test.message, "Connected to Sameday (2 pickup points)");
    let details: Value = serde_json::from_str(&test.details).unwrap();
    assert_eq!(details["default_pickup_point"]["id"], PICKUP_POINT);

    let courier = conn.courier().unwrap();
    let label = courier
        .generate_awb(&request(vec![parcel("1.5"), parcel("2")]))
        .await
        .unwrap();
    assert!(label.tracking_number.starts_with("1SDY"), "{label:?}");
    assert_eq!(label.cost.as_deref(), Some("17.85"));
    assert_eq!(label.label_pdf.as_deref(), Some(LABEL), "the label PDF, bytes");
    assert!(label.label_url.contains(&label.tracking_number));

    // The form, field by field, as Sameday's SDK sends it.
    let form = mock.awb_form(&label.tracking_number);
    for (name, want) in [
        ("pickupPoint", PICKUP_POINT.to_string()),
        ("contactPerson", CONTACT_PERSON.to_string()),
        ("packageType", "0".into()),
        ("packageNumber", "2".into()),
        ("packageWeight", "3.5".into()),
        ("service", "7".into()),
        ("awbPayment", "1".into()),
        ("cashOnDelivery", "149.90".into()),
        ("insuredValue", "150".into()),
        ("thirdPartyPickup", "0".into()),
        ("parcels[0][weight]", "1.5".into()),
        ("parcels[1][weight]", "2".into()),
        ("parcels[1][length]", "30.5".into()),
        ("parcels[0][width]", "20".into()),
        ("awbRecipient[name]", "Ana Popescu".into()),
        ("awbRecipient[phoneNumber]", "0722000111".into()),
        ("awbRecipient[email]", "ana@example.ro".into()),
        ("awbRecipient[address]", "Strada Lipscani 12, Bloc A, ap. 3".into()),
        ("awbRecipient[cityString]", "Sectorul 3".into()),
        ("awbRecipient[countyString]", "Bucuresti".into()),
        ("awbRecipient[postalCode]", "030031".into()),
        ("awbRecipient[personType]", "1".into()),
        ("awbRecipient[companyName]", "Atelier Ana SRL".into()),
        ("awbRecipient[companyCui]", "RO12345678".into()),
        ("clientInternalReference", "ORDER-1001".into()),
        ("observation", "Fragile".into()),
        ("currency", "RON".into()),
    ] {
        assert_eq!(field(&form, name), Some(want.as_str()), "{name} in {form:?}");
    }

    // One login for all of it: the token is cached, sent in X-AUTH-TOKEN,
    // and the credentials only in the login's headers.
    assert_eq!(mock.logins(), 1);
    let requests = mock.requests();
    let login = requests.iter().find(|r| r.path == "/api/authenticate").unwrap();
    assert_eq!(login.header("x-auth-username"), Some(USERNAME));
    assert_eq!(login.header("x-auth-password"), Some(PASSWORD));
    for other in requests.iter().filter(|r| r.path != "/api/authenticate") {
        assert!(
            other.header("x-auth-token").is_some_and(|t| t.starts_with("mocktoken")),
            "{other:?}"
        );
        assert!(other.header("x-auth-password").is_none());
    }

    // Tracking: the history oldest first, each step normalized, times UTC.
    let awb = label.tracking_number.clone();
    let issued = chrono::Utc::now().timestamp();
    mock.advance(
        &awb,
        4,
        "Ridicat de la expeditor",
        "Colet preluat de curier",
        "Colete preluate",
        issued + 60,
    );
    mock.advance(
        &awb,
        56,
        "Iesire din hub",
        "In tranzit spre depozit",
        "Coletul este in tranzit",
        issued + 120,
    );
    mock.advance(
        &awb,
        33,
        "In livrare la curier",
        "In livrare la curier",
        "Colete in curs de livrare",
        issued + 180,
    );
    let shipment = courier.get_tracking(&awb).await.unwrap();
    assert_eq!(shipment.tracking_number, awb);
    assert_eq!(shipment.status, ShipmentStatus::OutForDelivery);
    assert_eq!(shipment.carrier, "Sameday");
    let steps: Vec<ShipmentStatus> = shipment.events.iter().map(|e| e.status).collect();
    assert_eq!(
        steps,
        [
            ShipmentStatus::Created,
            ShipmentStatus::PickedUp,
            ShipmentStatus::InTransit,
            ShipmentStatus::OutForDelivery
        ]
    );
    assert_eq!(
        shipment.events[1].description,
        "Colet preluat de curier — Colete preluate"
    );
    assert_eq!(shipment.events[1].location, "Bucuresti");
    let t = shipment.events[3].timestamp.as_deref().unwrap();
    assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    let extra: Value = serde_json::from_str(&shipment.extra).unwrap();
    assert_eq!(extra["cash_on_delivery"], "149.9");
    assert_eq!(extra["parcels"].as_array().unwrap().len(), 2);
    assert_eq!(extra["parcels"][1]["number"], format!("{awb}002"));
    assert_eq!(extra["sameday_status"]["id"], 33);
    let raw: Value = serde_json::from_str(&shipment.provider_meta.raw_payload).unwrap();
    assert!(raw["expeditionHistory"].is_array(), "Sameday's answer, verbatim");

    mock.advance(
        &awb,
        9,
        "Livrata cu succes",
        "Colet livrat",
        "Colete livrate",
        issued + 240,
    );
    let delivered = courier.get_tracking(&awb).await.unwrap();
    assert_eq!(delivered.status, ShipmentStatus::Delivered);
    let extra: Value = serde_json::from_str(&delivered.extra).unwrap();
    assert!(extra["delivered_at"].as_str().unwrap().ends_with('Z'));

    // Cancellation: a fresh AWB goes; a picked-up one is refused with
    // Sameday's reason; an unknown one is not found.
    let fresh = courier.generate_awb(&request(vec![parcel("1")])).await.unwrap();
    courier.cancel_shipment(&fresh.tracking_number).await.unwrap();
    assert_eq!(
        courier.get_tracking(&fresh.tracking_number).await.unwrap().status,
        ShipmentStatus::Cancelled
    );
    let refused = validation(courier.cancel_shipment(&awb).await);
    assert!(refused.contains("already picked up"), "{refused}");
    let missing = courier.get_tracking("1SDY999999999").await;
    assert!(
        matches!(missing, Err(CallError::Connector(ConnectorError::NotFound(ref m))) if m.contains("not found")),
        "{missing:?}"
    );
    assert_eq!(mock.logins(), 1, "still the one cached token");
}

#[tokio::test]
async fn refused_tokens_bad_input_and_throttling() {
    let mock = MockSameday::start().await.unwrap();
    let (_host, conn) = sameday(&mock, PASSWORD, &[("pickup_point", "1641"), ("service", "15")]).await;
    let courier = conn.courier().unwrap();

    // Settings stand in for what the request leaves out.
    let mut plain = request(vec![parcel("0.25")]);
    plain.service = String::new();
    plain.recipient.company_name = String::new();
    let label = courier.generate_awb(&plain).await.unwrap();
    let form = mock.awb_form(&label.tracking_number);
    assert_eq!(field(&form, "pickupPoint"), Some("1641"));
    assert_eq!(field(&form, "service"), Some("15"));
    assert_eq!(field(&form, "awbRecipient[personType]"), Some("0"));
    assert_eq!(
        field(&form, "contactPerson"),
        None,
        "Sameday uses the point's default person"
    );

    // Sameday revokes the token: the next call logs in again, once.
    mock.revoke_tokens();
    courier.get_tracking(&label.tracking_number).await.unwrap();
    assert_eq!(mock.logins(), 2);

    // Bad input is refused before anything is sent, naming the field…
    let before = mock.requests().len();
    let mut no_address = request(vec![parcel("1")]);
    no_address.recipient.address = None;
    assert!(validation(courier.generate_awb(&no_address).await).starts_with("recipient.address"));
    assert!(validation(courier.generate_awb(&request(vec![])).await).starts_with("parcels"));
    assert!(validation(courier.generate_awb(&request(vec![parcel("heavy")])).await).starts_with("parcels[0].weight"));
    let mut extra = request(vec![parcel("1")]);
    extra.extra = r#"{"package_type": "crate"}"#.into();
    assert!(validation(courier.generate_awb(&extra).await).contains("crate"));
    assert!(validation(courier.get_tracking("../etc").await).contains("not a Sameday AWB"));
    assert_eq!(mock.requests().len(), before, "nothing reached Sameday");

    // …and what only Sameday can judge comes back with its field names.
    let mut atlantis = request(vec![parcel("1")]);
    atlantis.extra = r#"{"pickup_point": 5}"#.into();
    atlantis.recipient.address.as_mut().unwrap().city = "Atlantis".into();
    let message = validation(courier.generate_awb(&atlantis).await);
    assert!(
        message.contains("awbRecipient.cityString: Invalid city.")
            && message.contains("pickupPoint: The given pickupPoint is invalid!"),
        "{message}"
    );

    // A 429 is waited out by the host (GETs are retried), as is a 5xx on a
    // read; a 5xx on the AWB POST (Sameday honours no idempotency key) is
    // not repeated: a retryable `provider` error for the caller.
    mock.throttle(1);
    courier.get_tracking(&label.tracking_number).await.unwrap();
    mock.fail(500, 1);
    courier.get_tracking(&label.tracking_number).await.unwrap();
    let posts = mock.requests().iter().filter(|r| r.path == "/api/awb").count();
    mock.fail(500, 1);
    let down = courier.generate_awb(&request(vec![parcel("1")])).await;
    assert!(
        matches!(down, Err(CallError::Connector(ConnectorError::Provider(ref f))) if f.status == Some(500)),
        "{down:?}"
    );
    assert_eq!(
        mock.requests().iter().filter(|r| r.path == "/api/awb").count(),
        posts + 1,
        "sent once"
    );

    // Wrong credentials: a failed test, and auth errors from calls.
    let (_host2, wrong) = sameday(&mock, "not-the-password", &[]).await;
    let test = wrong.test().await.unwrap();
    assert!(!test.success && test.message.contains("Bad credentials"), "{test:?}");
    let refused = wrong.courier().unwrap().get_tracking(&label.tracking_number).await;
    assert!(
        matches!(refused, Err(CallError::Connector(ConnectorError::Auth(_)))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn shipments_are_listed_from_status_changes_to_the_end() {
    let mock = MockSameday::start().await.unwrap();
    let (_host, conn) = sameday(&mock, PASSWORD, &[]).await;
    let courier = conn.courier().unwrap();
    let now = chrono::Utc::now().timestamp();
    let old = mock.add_awb(1, now - 30 * 86_400);
    let mut recent = Vec::new();
    for i in 0..3 {
        let awb = mock.add_awb(2, now - 3600 + i * 60);
        mock.advance(
            &awb,
            4,
            "Ridicat de la expeditor",
            "Colet preluat de curier",
            "",
            now - 1800 + i * 60,
        );
        recent.push(awb);
    }

    // Three AWBs × two parcels × two statuses = 12 changes, 5 a page.
    let since = rfc3339(now - 2 * 3600);
    let mut seen: Vec<(String, ShipmentStatus)> = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = courier
            .get_shipments(&ShipmentQuery {
                since: Some(since.clone()),
                cursor: cursor.clone(),
                limit: Some(5),
            })
            .await
            .unwrap();
        pages += 1;
        assert_eq!(page.total, None, "Sameday's status sync has no total");
        for shipment in &page.items {
            let parcels: Value = serde_json::from_str(&shipment.extra).unwrap();
            assert!(
                parcels["parcels"][0]
                    .as_str()
                    .unwrap()
                    .starts_with(&shipment.tracking_number)
            );
            seen.push((shipment.tracking_number.clone(), shipment.status));
        }
        if !page.has_more {
            assert!(page.next_cursor.is_none());
            break;
        }
        cursor = page.next_cursor;
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 3, "5 + 5 + 2");
    for awb in &recent {
        assert!(
            seen.iter().any(|(a, s)| a == awb && *s == ShipmentStatus::PickedUp),
            "{awb} in {seen:?}"
        );
    }
    assert!(!seen.iter().any(|(a, _)| *a == old), "outside the window");

    // An empty window, and a cursor that is not ours.
    let empty = courier
        .get_shipments(&ShipmentQuery {
            since: Some(rfc3339(now + 60)),
            cursor: None,
            limit: None,
        })
        .await;
    assert!(validation(empty).contains("future"));
    let quiet = courier
        .get_shipments(&ShipmentQuery {
            since: None,
            cursor: Some(format!("{}-{}-1", now - 100 * 86_400, now - 99 * 86_400)),
            limit: None,
        })
        .await
        .unwrap();
    assert!(quiet.items.is_empty() && !quiet.has_more);
    let bad = courier
        .get_shipments(&ShipmentQuery {
            since: None,
            cursor: Some("page-2".into()),
            limit: None,
        })
        .await;
    assert!(validation(bad).contains("cursor"));
}

/// RFC 3339 of a Unix time.
fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
