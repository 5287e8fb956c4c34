//! Patchbay plugin for Sameday, the Romanian courier.
//!
//! AWBs with parcels, cash on delivery and insurance (`POST /api/awb`), the
//! label PDF (`GET /api/awb/download/{awb}/{A6|A4}`), tracking history
//! (`GET /api/client/awb/{awb}/status`), cancellation (`DELETE
//! /api/awb/{awb}`), and shipments by their status changes (`GET
//! /api/client/status-sync`). The login token is cached in `kv` (see
//! [`api`]). The manifest is `patchbay.toml`.

mod api;
/// Sameday's statuses → the contract's.
pub mod status;

use patchbay_sdk::client::Raw;
use patchbay_sdk::prelude::*;
use patchbay_sdk::time::{now, rfc3339, unix};
use patchbay_sdk::{config, kv, log};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authorized, client, login};

/// The Sameday adapter.
pub struct Sameday;

/// Largest page of `status-sync` (the PHP SDK's default too).
const MAX_PAGE: u32 = 500;

/// How far back `get-shipments` looks without a `since`.
const DEFAULT_LOOKBACK: i64 = 7 * 86_400;

/// Where the account's default pickup point is cached, and for how long.
const PICKUP_KEY: &str = "sameday/pickup-point";
const PICKUP_TTL: u32 = 86_400;

/// A Sameday id: digits only.
fn id(value: &str, field: &str) -> Result<String> {
    let value = value.trim();
    if !value.is_empty() && value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err(Error::Validation(format!(
            "{field}: {value:?} is not a Sameday id (digits)"
        )))
    }
}

/// An id given in `extra` as a number or a string of digits.
fn extra_id(extra: &Value, key: &str) -> Result<Option<String>> {
    match extra.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => id(&n.to_string(), &format!("extra.{key}")).map(Some),
        Some(Value::String(s)) => id(s, &format!("extra.{key}")).map(Some),
        Some(other) => Err(Error::Validation(format!("extra.{key}: {other} is not a Sameday id"))),
    }
}

/// An AWB or parcel number as Sameday prints them: letters and digits.
fn awb_number(value: &str) -> Result<&str> {
    let value = value.trim();
    if !value.is_empty() && value.len() <= 40 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(value)
    } else {
        Err(Error::Validation(format!("{value:?} is not a Sameday AWB number")))
    }
}

/// The AWB of a parcel number: Sameday numbers parcels as the AWB followed
/// by the parcel's three-digit position (`1SDY241067423` → `…423001`).
fn awb_of_parcel(parcel: &str) -> &str {
    let n = parcel.len();
    if n > 3 && parcel[n - 3..].bytes().all(|b| b.is_ascii_digit()) {
        &parcel[..n - 3]
    } else {
        parcel
    }
}

/// A positive decimal of the request, as a number.
fn positive(value: &str, field: &str) -> Result<f64> {
    match value.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(Error::Validation(format!(
            "{field}: {value:?} is not a positive number"
        ))),
    }
}

/// A non-negative amount, as Sameday's decimal text.
fn amount(value: Option<&str>, field: &str) -> Result<String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok("0".into()),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(v.to_string()),
            _ => Err(Error::Validation(format!("{field}: {v:?} is not an amount"))),
        },
    }
}

/// A number without trailing zeros (`3.500` → `3.5`).
fn decimal(n: f64) -> String {
    let text = format!("{n:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A JSON number or numeric string as decimal text.
fn json_decimal(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.trim().parse::<f64>().is_ok() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// The account's pickup points (`GET /api/client/pickup-points`, one page
/// of 500: an account has a handful).
fn pickup_points() -> Result<Vec<Value>> {
    let points: Value = authorized(|| {
        Ok(client()?
            .get("api/client/pickup-points")
            .query("page", "1")
            .query("countPerPage", "500"))
    })?
    .json()?;
    Ok(points["data"].as_array().cloned().unwrap_or_default())
}

/// The pickup point (and its contact person) of a new AWB: the request's,
/// the setting's, or the account's default one.
fn pickup(extra: &Value) -> Result<(String, Option<String>)> {
    let contact = extra_id(extra, "contact_person")?;
    if let Some(point) = extra_id(extra, "pickup_point")? {
        return Ok((point, contact));
    }
    if let Some(point) = config::get("pickup_point")?.filter(|p| !p.trim().is_empty()) {
        return Ok((id(&point, "settings.pickup_point")?, contact));
    }
    #[derive(Deserialize, serde::Serialize)]
    struct Chosen {
        id: String,
        contact: Option<String>,
    }
    if let Some(chosen) = kv::get_json::<Chosen>(PICKUP_KEY)? {
        return Ok((chosen.id, contact.or(chosen.contact)));
    }
    let data = pickup_points()?;
    let point = data
        .iter()
        .find(|p| p["defaultPickupPoint"] == true)
        .or_else(|| data.first())
        .ok_or_else(|| Error::Config("the Sameday account has no pickup point: add one in eAWB".into()))?;
    let people = point["pickupPointContactPerson"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let person = people
        .iter()
        .find(|c| c["defaultContactPerson"] == true)
        .or_else(|| people.first());
    let chosen = Chosen {
        id: json_decimal(&point["id"]).ok_or_else(|| Error::provider("a Sameday pickup point without an id"))?,
        contact: person.and_then(|c| json_decimal(&c["id"])),
    };
    kv::set_json(PICKUP_KEY, &chosen, Some(PICKUP_TTL))?;
    Ok((chosen.id, contact.or(chosen.contact)))
}

/// Sameday's package type code.
fn package_type(extra: &Value) -> Result<&'static str> {
    let name = match extra.get("package_type").and_then(Value::as_str) {
        Some(name) => name.to_string(),
        None => config::get("package_type")?.unwrap_or_else(|| "parcel".into()),
    };
    match name.as_str() {
        "parcel" => Ok("0"),
        "envelope" => Ok("1"),
        "large" => Ok("2"),
        other => Err(Error::Validation(format!(
            "package_type: {other:?} is not parcel, envelope or large"
        ))),
    }
}

/// The form of `POST /api/awb` for a request (the fields Sameday's SDK
/// sends, bracketed as PHP's `http_build_query` writes them).
fn awb_form(request: &ShipmentRequest) -> Result<Vec<(String, String)>> {
    let extra: Value = match request.extra.trim() {
        "" => json!({}),
        text => serde_json::from_str(text).map_err(|e| Error::Validation(format!("extra: not JSON ({e})")))?,
    };
    let recipient = &request.recipient;
    let address = recipient
        .address
        .as_ref()
        .ok_or_else(|| Error::Validation("recipient.address: Sameday needs the recipient's address".into()))?;
    for (field, value) in [
        ("recipient.name", recipient.name.as_str()),
        ("recipient.phone", recipient.phone.as_str()),
        ("recipient.address.street", address.street.as_str()),
        ("recipient.address.city", address.city.as_str()),
        ("recipient.address.region", address.region.as_str()),
    ] {
        if value.trim().is_empty() {
            return Err(Error::Validation(format!("{field}: Sameday needs it")));
        }
    }
    if request.parcels.is_empty() {
        return Err(Error::Validation("parcels: at least one parcel".into()));
    }
    let service = match request.service.trim() {
        "" => config::get("service")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                Error::Validation(
                    "service: the request names no Sameday service and the connection has no default \
                 (the service setting; GET /api/client/services lists the account's)"
                        .into(),
                )
            })?,
        named => named.to_string(),
    };
    let service = id(&service, "service")?;
    let (pickup_point, contact_person) = pickup(&extra)?;

    let mut form: Vec<(String, String)> = vec![
        ("pickupPoint".into(), pickup_point),
        ("packageType".into(), package_type(&extra)?.into()),
        ("packageNumber".into(), request.parcels.len().to_string()),
        ("service".into(), service),
        // 1: the client (the sender's account) pays for the AWB; Sameday's
        // SDK offers no other payer.
        ("awbPayment".into(), "1".into()),
        (
            "cashOnDelivery".into(),
            amount(request.cod_amount.as_deref(), "cod-amount")?,
        ),
        (
            "insuredValue".into(),
            amount(request.insured_value.as_deref(), "insured-value")?,
        ),
        ("thirdPartyPickup".into(), "0".into()),
    ];
    if let Some(person) = contact_person {
        form.push(("contactPerson".into(), person));
    }
    let mut weight = 0.0;
    for (i, parcel) in request.parcels.iter().enumerate() {
        let w = positive(&parcel.weight, &format!("parcels[{i}].weight"))?;
        weight += w;
        form.push((format!("parcels[{i}][weight]"), decimal(w)));
        for (name, value) in [
            ("width", &parcel.width),
            ("length", &parcel.length),
            ("height", &parcel.height),
        ] {
            if !value.trim().is_empty() {
                let n = positive(value, &format!("parcels[{i}].{name}"))?;
                form.push((format!("parcels[{i}][{name}]"), decimal(n)));
            }
        }
    }
    form.push(("packageWeight".into(), decimal(weight)));

    let mut person = |key: &str, value: &str| {
        form.push((format!("awbRecipient[{key}]"), value.trim().to_string()));
    };
    person("name", &recipient.name);
    person("phoneNumber", &recipient.phone);
    person("email", &recipient.email);
    person("address", &address.street.replace('\n', ", "));
    person("cityString", &address.city);
    person("countyString", &address.region);
    if !address.postal_code.trim().is_empty() {
        person("postalCode", &address.postal_code);
    }
    if recipient.company_name.trim().is_empty() {
        person("personType", "0");
    } else {
        person("personType", "1");
        person("companyName", &recipient.company_name);
        if !recipient.vat_id.trim().is_empty() {
            person("companyCui", &recipient.vat_id);
        }
    }
    if let Some(locker) = extra_id(&extra, "locker_last_mile")? {
        form.push(("lockerLastMile".into(), locker));
    }
    if let Some(taxes) = extra.get("service_taxes") {
        let taxes = taxes
            .as_array()
            .ok_or_else(|| Error::Validation("extra.service_taxes: must be a list of ids".into()))?;
        for (i, tax) in taxes.iter().enumerate() {
            let tax =
                json_decimal(tax).ok_or_else(|| Error::Validation(format!("extra.service_taxes[{i}]: not an id")))?;
            form.push((format!("serviceTaxes[{i}]"), id(&tax, "extra.service_taxes")?));
        }
    }
    for (key, value) in [
        ("clientInternalReference", &request.reference),
        ("observation", &request.notes),
        ("currency", &request.currency),
    ] {
        if !value.trim().is_empty() {
            form.push((key.into(), value.trim().to_string()));
        }
    }
    Ok(form)
}

/// One status as Sameday reports it (history, parcel or status sync).
#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    status_id: Value,
    #[serde(default)]
    status: String,
    #[serde(default)]
    status_label: String,
    #[serde(default)]
    status_state: String,
    #[serde(default)]
    status_date: String,
    #[serde(default)]
    county: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    transit_location: Option<String>,
    #[serde(default)]
    parcel_awb_number: Option<String>,
    #[serde(default)]
    in_return: Option<bool>,
}

impl Status {
    fn id(&self) -> i64 {
        match &self.status_id {
            Value::Number(n) => n.as_i64().unwrap_or(0),
            Value::String(s) => s.trim().parse().unwrap_or(0),
            _ => 0,
        }
    }

    fn normalized(&self) -> Option<ShipmentStatus> {
        status::normalize(self.id(), &[&self.status, &self.status_label, &self.status_state])
    }

    fn when(&self) -> Option<i64> {
        unix(&self.status_date).ok()
    }

    fn verbatim(&self) -> Value {
        json!({
            "id": self.status_id,
            "status": self.status,
            "label": self.status_label,
            "state": self.status_state,
            "date": self.status_date,
        })
    }
}

/// Statuses as events, oldest first; a status the mapping cannot place keeps
/// the one before it.
fn events(mut statuses: Vec<Status>) -> Vec<TrackingEvent> {
    statuses.sort_by_key(|s| s.when().unwrap_or(i64::MIN));
    let mut current = ShipmentStatus::Created;
    statuses
        .iter()
        .map(|s| {
            current = s.normalized().unwrap_or(current);
            let mut description = s.status_label.trim().to_string();
            if description.is_empty() {
                description = s.status.trim().to_string();
            }
            if !s.status_state.trim().is_empty() && s.status_state.trim() != description {
                description = format!("{description} — {}", s.status_state.trim());
            }
            if let Some(reason) = s.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                description = format!("{description} ({reason})");
            }
            let location = [s.transit_location.as_deref(), s.county.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default()
                .to_string();
            TrackingEvent {
                status: current,
                description,
                location,
                timestamp: s.when().map(rfc3339),
            }
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    #[serde(default)]
    delivered: bool,
    #[serde(default)]
    canceled: bool,
    #[serde(default)]
    delivery_attempts: Value,
    #[serde(default)]
    awb_number: String,
    #[serde(default)]
    awb_weight: Value,
    #[serde(default)]
    service_payment: Value,
    #[serde(default)]
    cash_on_delivery: Value,
    #[serde(default)]
    redirections_attempts: Value,
    #[serde(default)]
    delivered_at: Option<String>,
    #[serde(default)]
    last_delivery_attempt: Option<String>,
}

/// `GET /api/client/awb/{awb}/status`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct History {
    expedition_summary: Summary,
    #[serde(default)]
    expedition_status: Option<Status>,
    #[serde(default)]
    parcels_status: Vec<Status>,
    #[serde(default)]
    expedition_history: Vec<Status>,
}

/// A time Sameday may leave empty, as RFC 3339.
fn optional_time(value: Option<&str>) -> Option<String> {
    value
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| unix(v).ok())
        .map(rfc3339)
}

/// A Sameday shipment as the contract has it: Sameday's answers carry no
/// sender, recipient, parcel sizes or expected delivery.
fn sameday_shipment(
    tracking_number: String,
    status: ShipmentStatus,
    events: Vec<TrackingEvent>,
    extra: Value,
    raw_payload: String,
) -> Shipment {
    Shipment {
        tracking_number: tracking_number.clone(),
        status,
        carrier: "Sameday".into(),
        sender: None,
        recipient: None,
        parcels: Vec::new(),
        events,
        estimated_delivery: None,
        extra: extra.to_string(),
        provider_meta: ProviderMeta {
            provider: "sameday".into(),
            raw_id: tracking_number,
            raw_payload,
        },
    }
}

fn shipment(awb: &str, history: &Raw<History>) -> Shipment {
    let summary = &history.expedition_summary;
    let events = events(history.expedition_history.clone());
    let status = if summary.canceled {
        ShipmentStatus::Cancelled
    } else if summary.delivered {
        ShipmentStatus::Delivered
    } else {
        history
            .expedition_status
            .as_ref()
            .and_then(Status::normalized)
            .or_else(|| events.last().map(|e| e.status))
            .unwrap_or(ShipmentStatus::Created)
    };
    let parcels: Vec<Value> = history
        .parcels_status
        .iter()
        .map(|p| {
            json!({
                "number": p.parcel_awb_number,
                "status": p.verbatim(),
                "in_return": p.in_return.unwrap_or(false),
            })
        })
        .collect();
    let tracking_number = if summary.awb_number.is_empty() {
        awb.to_string()
    } else {
        summary.awb_number.clone()
    };
    sameday_shipment(
        tracking_number,
        status,
        events,
        json!({
            "sameday_status": history.expedition_status.as_ref().map(Status::verbatim),
            "delivered_at": optional_time(summary.delivered_at.as_deref()),
            "last_delivery_attempt": optional_time(summary.last_delivery_attempt.as_deref()),
            "delivery_attempts": summary.delivery_attempts,
            "redirections": summary.redirections_attempts,
            "weight": json_decimal(&summary.awb_weight),
            "cash_on_delivery": json_decimal(&summary.cash_on_delivery),
            "service_payment": json_decimal(&summary.service_payment),
            "parcels": parcels,
        }),
        history.raw().to_string(),
    )
}

/// The `get-shipments` cursor: the window and the page, fixed at the first
/// page so that paging is stable while statuses keep arriving.
#[derive(Debug, PartialEq)]
struct Cursor {
    start: i64,
    end: i64,
    page: u32,
}

impl Cursor {
    fn encode(&self) -> String {
        format!("{}-{}-{}", self.start, self.end, self.page)
    }

    fn decode(text: &str) -> Result<Self> {
        let bad = || Error::Validation(format!("cursor {text:?} is not one get-shipments returned"));
        let mut parts = text.split('-');
        let mut next = || parts.next().ok_or_else(bad);
        let cursor = Self {
            start: next()?.parse().map_err(|_| bad())?,
            end: next()?.parse().map_err(|_| bad())?,
            page: next()?.parse().map_err(|_| bad())?,
        };
        if parts.next().is_some() || cursor.page == 0 || cursor.start > cursor.end {
            return Err(bad());
        }
        Ok(cursor)
    }
}

/// `GET /api/client/status-sync`.
#[derive(Deserialize)]
struct Sync {
    #[serde(default)]
    data: Vec<Raw<Status>>,
}

/// One page of status changes as shipments: the statuses of each AWB (its
/// parcels' numbers less their position), in the order the page first names
/// them.
fn shipments_of(statuses: &[Raw<Status>]) -> Vec<Shipment> {
    let mut groups: Vec<(String, Vec<&Raw<Status>>)> = Vec::new();
    for status in statuses {
        let parcel = status.parcel_awb_number.as_deref().unwrap_or_default();
        let awb = awb_of_parcel(parcel).to_string();
        match groups.iter_mut().find(|(a, _)| *a == awb) {
            Some((_, group)) => group.push(status),
            None => groups.push((awb, vec![status])),
        }
    }
    groups
        .into_iter()
        .map(|(awb, group)| {
            let events = events(group.iter().map(|s| (***s).clone()).collect());
            let status = events.last().map_or(ShipmentStatus::Created, |e| e.status);
            let mut parcels: Vec<&str> = group.iter().filter_map(|s| s.parcel_awb_number.as_deref()).collect();
            parcels.sort_unstable();
            parcels.dedup();
            let raw = format!("[{}]", group.iter().map(|s| s.raw()).collect::<Vec<_>>().join(","));
            sameday_shipment(
                awb,
                status,
                events,
                json!({ "parcels": parcels, "source": "status-sync" }),
                raw,
            )
        })
        .collect()
}

impl Connector for Sameday {
    fn test_connection() -> Result<ConnectionTest> {
        if let Err(error) = login() {
            return match error {
                Error::Auth(message) => Ok(ConnectionTest {
                    success: false,
                    message: format!("Sameday refused the login: {message}"),
                    details: "{}".into(),
                }),
                other => Err(other),
            };
        }
        let data = pickup_points()?;
        let default = data.iter().find(|p| p["defaultPickupPoint"] == true);
        Ok(ConnectionTest {
            success: true,
            message: format!("Connected to Sameday ({} pickup points)", data.len()),
            details: json!({
                "pickup_points": data.len(),
                "default_pickup_point": default.map(|p| json!({"id": p["id"], "alias": p["alias"], "address": p["address"]})),
            })
            .to_string(),
        })
    }
}

impl Courier for Sameday {
    fn generate_awb(request: ShipmentRequest) -> Result<AwbLabel> {
        let form = awb_form(&request)?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            awb_number: String,
            #[serde(default)]
            awb_cost: Value,
            #[serde(default)]
            pdf_link: Option<String>,
        }
        // Sameday honours no idempotency key: the host does not retry this
        // POST, and a refused token (nothing created) is the only repeat.
        let created: Created = authorized(|| {
            Ok(client()?
                .post("api/awb")
                .form(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
        })?
        .json()?;
        let awb = created.awb_number;
        let format = config::get("label_format")?.unwrap_or_else(|| "A6".into());
        let format = if format == "A4" { "A4" } else { "A6" };
        // The AWB exists now: a label that cannot be fetched is reported,
        // not turned into a failure that would make the caller create a
        // second AWB.
        let label = authorized(|| Ok(client()?.get(&format!("api/awb/download/{awb}/{format}"))));
        let label_pdf = match label {
            Ok(response) if response.body.starts_with(b"%PDF") => Some(response.body),
            Ok(response) => {
                log::warn(&format!(
                    "Sameday's label of AWB {awb} is not a PDF ({} bytes); fetch it later from the label URL",
                    response.body.len()
                ));
                None
            }
            Err(error) => {
                log::warn(&format!("Sameday's label of AWB {awb} could not be fetched: {error:?}"));
                None
            }
        };
        let label_url = created.pdf_link.filter(|l| !l.is_empty()).unwrap_or_else(|| {
            format!(
                "{}/api/awb/download/{awb}/{format}",
                client().map(|c| c.base().to_string()).unwrap_or_default()
            )
        });
        Ok(AwbLabel {
            tracking_number: awb,
            label_pdf,
            label_url,
            cost: json_decimal(&created.awb_cost),
        })
    }

    fn get_tracking(tracking_number: String) -> Result<Shipment> {
        let awb = awb_number(&tracking_number)?;
        let history: Raw<History> =
            authorized(|| Ok(client()?.get(&format!("api/client/awb/{awb}/status"))))?.json()?;
        Ok(shipment(awb, &history))
    }

    fn cancel_shipment(tracking_number: String) -> Result<()> {
        let awb = awb_number(&tracking_number)?;
        authorized(|| Ok(client()?.delete(&format!("api/awb/{awb}"))))?;
        Ok(())
    }

    fn get_shipments(query: ShipmentQuery) -> Result<ShipmentPage> {
        let per_page = query.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let cursor = match query.cursor.as_deref() {
            Some(text) => Cursor::decode(text)?,
            None => {
                let end = now();
                let start = match query.since.as_deref() {
                    Some(since) => unix(since)?,
                    None => end - DEFAULT_LOOKBACK,
                };
                if start > end {
                    return Err(Error::Validation(format!(
                        "since {:?} is in the future",
                        query.since.unwrap_or_default()
                    )));
                }
                Cursor { start, end, page: 1 }
            }
        };
        let sync: Sync = authorized(|| {
            Ok(client()?
                .get("api/client/status-sync")
                .query("startTimestamp", cursor.start.to_string())
                .query("endTimestamp", cursor.end.to_string())
                .query("page", cursor.page.to_string())
                .query("countPerPage", per_page.to_string()))
        })?
        .json()?;
        // Sameday's status sync reports no total: a full page may be followed
        // by more.
        let has_more = sync.data.len() >= per_page as usize;
        Ok(ShipmentPage {
            items: shipments_of(&sync.data),
            next_cursor: has_more.then(|| {
                Cursor {
                    page: cursor.page + 1,
                    ..cursor
                }
                .encode()
            }),
            has_more,
            total: None,
        })
    }
}

patchbay_sdk::export!(Sameday: courier);

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: i64, label: &str, date: &str, parcel: &str) -> Status {
        Status {
            status_id: json!(id),
            status: label.into(),
            status_label: label.into(),
            status_state: String::new(),
            status_date: date.into(),
            county: Some("Bucuresti".into()),
            reason: None,
            transit_location: None,
            parcel_awb_number: Some(parcel.into()),
            in_return: None,
        }
    }

    #[test]
    fn parcels_belong_to_their_awb() {
        assert_eq!(awb_of_parcel("1SDY241067423001"), "1SDY241067423");
        assert_eq!(awb_of_parcel("PARCEL"), "PARCEL");
    }

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        let cursor = Cursor {
            start: 10,
            end: 20,
            page: 3,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "1-2", "1-2-0", "5-1-1", "1-2-3-4", "a-b-c"] {
            assert!(matches!(Cursor::decode(bad), Err(Error::Validation(_))), "{bad}");
        }
    }

    #[test]
    fn numbers_read_as_sameday_writes_them() {
        assert_eq!(decimal(3.5), "3.5");
        assert_eq!(decimal(2.0), "2");
        assert_eq!(decimal(0.125), "0.125");
        assert!(positive("0", "w").is_err() && positive("x", "w").is_err());
        assert_eq!(amount(None, "cod").unwrap(), "0");
        assert!(amount(Some("-1"), "cod").is_err());
        assert!(id("12a", "service").is_err());
    }

    #[test]
    fn events_are_oldest_first_and_carry_their_status() {
        let events = events(vec![
            status(9, "Livrata cu succes", "2018-12-20T17:20:13+0200", "A001"),
            status(77, "Informare client", "2018-12-20T17:19:50+0200", "A001"),
            status(33, "In livrare la curier", "2018-12-20T17:19:41+0200", "A001"),
            status(1, "AWB Emis", "2018-12-20T17:19:15+0200", "A001"),
        ]);
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.status, e.timestamp.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (ShipmentStatus::Created, "2018-12-20T15:19:15Z".to_string()),
                (ShipmentStatus::OutForDelivery, "2018-12-20T15:19:41Z".to_string()),
                (ShipmentStatus::OutForDelivery, "2018-12-20T15:19:50Z".to_string()),
                (ShipmentStatus::Delivered, "2018-12-20T15:20:13Z".to_string()),
            ]
        );
        assert_eq!(events[0].location, "Bucuresti");
    }
}
