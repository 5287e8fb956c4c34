//! Tracking: Sameday's statuses as the contract's events and shipments,
//! and the cursor of `get-shipments`, which pages through status changes.

use patchbay_sdk::client::Raw;
use patchbay_sdk::prelude::*;
use patchbay_sdk::time::{rfc3339, unix};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::awb::{awb_of_parcel, json_decimal};
use crate::status;

/// One status as Sameday reports it (history, parcel or status sync).
#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Status {
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
pub(crate) struct History {
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

pub(crate) fn shipment(awb: &str, history: &Raw<History>) -> Shipment {
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
pub(crate) struct Cursor {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) page: u32,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        format!("{}-{}-{}", self.start, self.end, self.page)
    }

    pub(crate) fn decode(text: &str) -> Result<Self> {
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
pub(crate) struct Sync {
    #[serde(default)]
    pub(crate) data: Vec<Raw<Status>>,
}

/// One page of status changes as shipments: the statuses of each AWB (its
/// parcels' numbers less their position), in the order the page first names
/// them.
pub(crate) fn shipments_of(statuses: &[Raw<Status>]) -> Vec<Shipment> {
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
