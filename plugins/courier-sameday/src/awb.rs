//! The AWB a shipment request becomes (the form of `POST /api/awb`), and
//! the ids, numbers and amounts it is written with.

use patchbay_sdk::prelude::*;
use patchbay_sdk::{config, kv};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authorized, client};

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
pub(crate) fn awb_number(value: &str) -> Result<&str> {
    let value = value.trim();
    if !value.is_empty() && value.len() <= 40 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(value)
    } else {
        Err(Error::Validation(format!("{value:?} is not a Sameday AWB number")))
    }
}

/// The AWB of a parcel number: Sameday numbers parcels as the AWB followed
/// by the parcel's three-digit position (`1SDY241067423` → `…423001`).
pub(crate) fn awb_of_parcel(parcel: &str) -> &str {
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
pub(crate) fn json_decimal(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.trim().parse::<f64>().is_ok() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// The account's pickup points (`GET /api/client/pickup-points`, one page
/// of 500: an account has a handful).
pub(crate) fn pickup_points() -> Result<Vec<Value>> {
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
pub(crate) fn awb_form(request: &ShipmentRequest) -> Result<Vec<(String, String)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parcels_belong_to_their_awb() {
        assert_eq!(awb_of_parcel("1SDY241067423001"), "1SDY241067423");
        assert_eq!(awb_of_parcel("PARCEL"), "PARCEL");
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
}
