//! Patchbay plugin for Sameday, the Romanian courier.
//!
//! AWBs with parcels, cash on delivery and insurance (`POST /api/awb`), the
//! label PDF (`GET /api/awb/download/{awb}/{A6|A4}`), tracking history
//! (`GET /api/client/awb/{awb}/status`), cancellation (`DELETE
//! /api/awb/{awb}`), and shipments by their status changes (`GET
//! /api/client/status-sync`). The login token is cached in `kv` (see
//! [`api`]). The manifest is `patchbay.toml`.

mod api;
mod awb;
/// Sameday's statuses → the contract's.
pub mod status;
mod tracking;

use patchbay_sdk::client::Raw;
use patchbay_sdk::prelude::*;
use patchbay_sdk::time::{now, unix};
use patchbay_sdk::{config, log};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authorized, client, login};
use crate::awb::{awb_form, awb_number, json_decimal, pickup_points};
use crate::tracking::{Cursor, History, Sync, shipment, shipments_of};

/// The Sameday adapter.
pub struct Sameday;

/// Largest page of `status-sync` (the PHP SDK's default too).
const MAX_PAGE: u32 = 500;

/// How far back `get-shipments` looks without a `since`.
const DEFAULT_LOOKBACK: i64 = 7 * 86_400;

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
