//! A Sameday-shaped mock, written from Sameday's official PHP SDK
//! (<https://github.com/sameday-courier/php-sdk>: its requests, response
//! classes and their test fixtures, which are Sameday's answers):
//!
//! - `POST /api/authenticate` with `X-Auth-Username` / `X-Auth-Password`
//!   and the form `remember_me` → `{"token", "expire_at": "Y-m-d H:i"}`;
//!   every other route wants the token in `X-AUTH-TOKEN` (401 otherwise).
//! - `GET /api/client/pickup-points` (paginated `{total, currentPage, pages,
//!   perPage, data}`), `POST /api/awb` (form; 201 `{awbNumber, awbCost,
//!   parcels: [{position, awbNumber}], pdfLink}`, or 400 with Symfony's form
//!   errors `{"code", "message": "Validation Failed", "errors": {"children":
//!   …}}`), `GET /api/awb/download/{awb}/{A4|A6}` (the PDF), `GET
//!   /api/client/awb/{awb}/status` (`expeditionSummary`, `expeditionStatus`,
//!   `parcelsStatus`, `expeditionHistory`), `DELETE /api/awb/{awb}`, `GET
//!   /api/client/status-sync?startTimestamp&endTimestamp&page&countPerPage`
//!   (`{currentPage, perPage, data}`, no total).
//! - Dates as Sameday writes them: `2018-12-20T17:20:13+0200`.

// Handlers return ready responses as their early-exit errors, as axum does.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde_json::{Value, json};

use crate::mock::{RequestLog, RunningServer, SeenRequest};

/// The API user the mock accepts.
pub const USERNAME: &str = "patchbay_api";
/// Its password.
pub const PASSWORD: &str = "s4meday-Secret!";
/// The account's default pickup point and its default contact person.
pub const PICKUP_POINT: u64 = 139;
/// The default pickup point's default contact person.
pub const CONTACT_PERSON: u64 = 145;
/// The PDF the label route answers.
pub const LABEL: &[u8] = b"%PDF-1.4\n% Sameday AWB label (mock)\n%%EOF\n";

/// One status of a parcel, as Sameday reports it.
#[derive(Clone)]
struct Step {
    id: u64,
    status: String,
    label: String,
    state: String,
    at: i64,
}

struct Awb {
    number: String,
    parcels: usize,
    weight: f64,
    cod: f64,
    form: Vec<(String, String)>,
    steps: Vec<Step>,
    canceled: bool,
}

#[derive(Default)]
struct Inner {
    next: u64,
    tokens: HashMap<String, i64>,
    logins: u32,
    awbs: Vec<Awb>,
    /// Answers still to throttle with a 429.
    throttle: u32,
    /// Answers still to fail with this status (Sameday down).
    failing: Option<(u16, u32)>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    log: RequestLog,
}

/// A running Sameday-shaped mock.
pub struct MockSameday {
    server: RunningServer,
    shared: Shared,
}

impl MockSameday {
    /// Starts the mock on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let shared = Shared {
            inner: Arc::default(),
            log: RequestLog::default(),
        };
        let router = Router::new()
            .route("/api/authenticate", post(authenticate))
            .route("/api/client/pickup-points", get(pickup_points))
            .route("/api/awb", post(create_awb))
            .route("/api/awb/{awb}", delete(delete_awb))
            .route("/api/awb/download/{awb}/{format}", get(download))
            .route("/api/client/awb/{awb}/status", get(status))
            .route("/api/client/status-sync", get(status_sync))
            .with_state(shared.clone());
        Ok(Self {
            server: RunningServer::start(router, 0).await?,
            shared,
        })
    }

    /// The `api_base` setting for the adapter.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests seen, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.log.all()
    }

    /// How many logins succeeded.
    pub fn logins(&self) -> u32 {
        self.shared.inner.lock().expect("mock state").logins
    }

    /// Revokes every token, as an expiry on Sameday's side would.
    pub fn revoke_tokens(&self) {
        self.shared.inner.lock().expect("mock state").tokens.clear();
    }

    /// The next `n` requests are answered `status` (a 5xx: Sameday's own
    /// failure, `{"code", "message"}`).
    pub fn fail(&self, status: u16, n: u32) {
        self.shared.inner.lock().expect("mock state").failing = Some((status, n));
    }

    /// The next `n` requests are answered 429.
    pub fn throttle(&self, n: u32) {
        self.shared.inner.lock().expect("mock state").throttle = n;
    }

    /// The form an AWB was created with.
    pub fn awb_form(&self, awb: &str) -> Vec<(String, String)> {
        let inner = self.shared.inner.lock().expect("mock state");
        inner
            .awbs
            .iter()
            .find(|a| a.number == awb)
            .map(|a| a.form.clone())
            .unwrap_or_default()
    }

    /// Sameday moves an AWB on: a status of all its parcels at `at` (Unix
    /// seconds).
    pub fn advance(&self, awb: &str, id: u64, status: &str, label: &str, state: &str, at: i64) {
        let mut inner = self.shared.inner.lock().expect("mock state");
        let awb = inner.awbs.iter_mut().find(|a| a.number == awb).expect("a known AWB");
        awb.steps.push(Step {
            id,
            status: status.into(),
            label: label.into(),
            state: state.into(),
            at,
        });
    }

    /// Creates an AWB directly, as another channel (eAWB) would, issued at
    /// `at`; its number.
    pub fn add_awb(&self, parcels: usize, at: i64) -> String {
        let mut inner = self.shared.inner.lock().expect("mock state");
        issue(&mut inner, parcels, 1.0, 0.0, Vec::new(), at)
    }
}

/// Sameday's date format: `2018-12-20T17:20:13+0200` (Bucharest, +02:00 here).
fn date(at: i64) -> String {
    let zone = FixedOffset::east_opt(2 * 3600).expect("an offset");
    let time: DateTime<FixedOffset> = zone.timestamp_opt(at, 0).single().expect("a time");
    time.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

fn issue(inner: &mut Inner, parcels: usize, weight: f64, cod: f64, form: Vec<(String, String)>, at: i64) -> String {
    inner.next += 1;
    let number = format!("1SDY{:09}", 241_067_000 + inner.next);
    inner.awbs.push(Awb {
        number: number.clone(),
        parcels,
        weight,
        cod,
        form,
        steps: vec![Step {
            id: 1,
            status: "AWB Emis".into(),
            label: "Document de transport emis".into(),
            state: "Comanda curier primita".into(),
            at,
        }],
        canceled: false,
    });
    number
}

fn answer(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).expect("a status"), axum::Json(body)).into_response()
}

fn failure(status: u16, message: &str) -> Response {
    answer(status, json!({ "code": status, "message": message }))
}

/// Logs the request, checks the throttle and the token.
fn admit(shared: &Shared, method: &Method, path: &str, query: &str, headers: &HeaderMap) -> Result<(), Response> {
    shared.log.record_parts(method, path, query, headers);
    let mut inner = shared.inner.lock().expect("mock state");
    if let Some((status, left)) = inner.failing.filter(|(_, left)| *left > 0) {
        inner.failing = Some((status, left - 1));
        return Err(failure(status, "Internal Server Error"));
    }
    if inner.throttle > 0 {
        inner.throttle -= 1;
        let mut response = failure(429, "Too Many Requests");
        response
            .headers_mut()
            .insert("retry-after", "1".parse().expect("ASCII"));
        return Err(response);
    }
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match inner.tokens.get(token) {
        Some(expires) if *expires > Utc::now().timestamp() => Ok(()),
        _ => Err(failure(401, "Invalid or expired token")),
    }
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn authenticate(State(shared): State<Shared>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    shared.log.record_parts(&method, "/api/authenticate", "", &headers);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if header("x-auth-username") != USERNAME || header("x-auth-password") != PASSWORD {
        return failure(401, "Bad credentials");
    }
    if field(&form(&body), "remember_me").is_none() {
        return answer(
            400,
            json!({"code": 400, "message": "Validation Failed", "errors": {"children": {"remember_me": {"errors": ["This value should not be null."]}}}}),
        );
    }
    let mut inner = shared.inner.lock().expect("mock state");
    inner.next += 1;
    inner.logins += 1;
    let token = format!("mocktoken{:016x}", inner.next * 0x9e37_79b9);
    // Sameday's expire_at is Bucharest wall time, minutes, no zone.
    let expires = Utc::now().timestamp() + 12 * 3600;
    inner.tokens.insert(token.clone(), expires);
    let local = FixedOffset::east_opt(2 * 3600)
        .expect("an offset")
        .timestamp_opt(expires, 0)
        .single()
        .expect("a time");
    answer(
        200,
        json!({ "token": token, "expire_at": local.format("%Y-%m-%d %H:%M").to_string() }),
    )
}

async fn pickup_points(
    State(shared): State<Shared>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(
        &shared,
        &method,
        "/api/client/pickup-points",
        query.as_deref().unwrap_or_default(),
        &headers,
    ) {
        return refused;
    }
    let point = |id: u64, default: bool, contact: u64, alias: &str| {
        json!({
            "id": id,
            "country": {"id": 187, "name": "Romania", "code": "RO"},
            "county": {"id": 1, "name": "Bucuresti", "code": "B"},
            "city": {"samedayDeliveryAgency": "B_SEMA_A03", "samedayPickupAgency": "B_SEMA_A03", "id": 6, "name": "Sectorul 6", "extraKM": 0},
            "address": "Splaiul Independentei 319, OB17C",
            "defaultPickupPoint": default,
            "pickupPointContactPerson": [{"id": contact, "name": alias, "phoneNumber": "021.637.06.60", "defaultContactPerson": true}],
            "alias": alias,
            "status": true,
        })
    };
    answer(
        200,
        json!({
            "total": 2, "currentPage": 1, "pages": 1, "perPage": 500,
            "data": [point(1641, false, 1740, "Customer Care"), point(PICKUP_POINT, true, CONTACT_PERSON, "Software")],
        }),
    )
}

async fn create_awb(State(shared): State<Shared>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = admit(&shared, &method, "/api/awb", "", &headers) {
        return refused;
    }
    let form = form(&body);
    let mut errors = json!({});
    let mut complain = |path: &[&str], message: &str| add_error(&mut errors, path, message);
    match field(&form, "pickupPoint") {
        None => complain(&["pickupPoint"], "This value should not be null."),
        Some(p) if p != PICKUP_POINT.to_string() && p != "1641" => {
            complain(&["pickupPoint"], "The given pickupPoint is invalid!")
        }
        Some(_) => {}
    }
    if field(&form, "service").is_none_or(|s| s.parse::<u32>().is_err()) {
        complain(&["service"], "This value is not valid.");
    }
    for key in ["name", "phoneNumber", "address"] {
        if field(&form, &format!("awbRecipient[{key}]")).is_none_or(str::is_empty) {
            complain(&["awbRecipient", key], "This value should not be blank.");
        }
    }
    if field(&form, "awbRecipient[cityString]").is_some_and(|c| c == "Atlantis") {
        complain(&["awbRecipient", "cityString"], "Invalid city.");
    }
    let count: usize = field(&form, "packageNumber").and_then(|n| n.parse().ok()).unwrap_or(0);
    let weights: Vec<f64> = (0..count)
        .filter_map(|i| field(&form, &format!("parcels[{i}][weight]")).and_then(|w| w.parse().ok()))
        .collect();
    if count == 0 || weights.len() != count {
        complain(&["parcels"], "Each parcel needs a weight.");
    }
    let weight: f64 = field(&form, "packageWeight")
        .and_then(|w| w.parse().ok())
        .unwrap_or(0.0);
    if (weights.iter().sum::<f64>() - weight).abs() > 1e-6 {
        complain(&["packageWeight"], "The package weight is not the sum of the parcels'.");
    }
    if errors.as_object().is_some_and(|e| !e.is_empty()) {
        return answer(
            400,
            json!({"code": 400, "message": "Validation Failed", "errors": {"children": errors}}),
        );
    }
    let cod = field(&form, "cashOnDelivery")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0.0);
    let mut inner = shared.inner.lock().expect("mock state");
    let number = issue(&mut inner, count, weight, cod, form, Utc::now().timestamp());
    let parcels: Vec<Value> = (1..=count)
        .map(|i| json!({"position": i, "awbNumber": format!("{number}{i:03}")}))
        .collect();
    answer(
        201,
        json!({
            "awbNumber": number,
            "awbCost": 17.85,
            "parcels": parcels,
            "pdfLink": format!("https://api.sameday.ro/api/awb/download/{number}"),
        }),
    )
}

/// Adds a form error at `path`, as Symfony nests them: `children` maps down
/// to the field, `errors` lists its messages.
fn add_error(children: &mut Value, path: &[&str], message: &str) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let node = &mut children[*first];
    if rest.is_empty() {
        match node["errors"].as_array_mut() {
            Some(list) => list.push(json!(message)),
            None => node["errors"] = json!([message]),
        }
    } else {
        if !node["children"].is_object() {
            node["children"] = json!({});
        }
        add_error(&mut node["children"], rest, message);
    }
}

async fn delete_awb(
    State(shared): State<Shared>,
    method: Method,
    Path(awb): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(&shared, &method, &format!("/api/awb/{awb}"), "", &headers) {
        return refused;
    }
    let mut inner = shared.inner.lock().expect("mock state");
    let Some(found) = inner.awbs.iter_mut().find(|a| a.number == awb) else {
        return failure(404, &format!("Awb {awb} not found."));
    };
    if found.steps.iter().any(|s| s.id != 1) {
        return failure(400, "The awb can not be deleted: it was already picked up.");
    }
    found.canceled = true;
    found.steps.push(Step {
        id: 7,
        status: "Comanda anulata".into(),
        label: "Comanda anulata".into(),
        state: "Expedierea a fost anulata".into(),
        at: Utc::now().timestamp(),
    });
    StatusCode::OK.into_response()
}

async fn download(
    State(shared): State<Shared>,
    method: Method,
    Path((awb, format)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(
        &shared,
        &method,
        &format!("/api/awb/download/{awb}/{format}"),
        "",
        &headers,
    ) {
        return refused;
    }
    if format != "A4" && format != "A6" {
        return failure(400, "Invalid format.");
    }
    if !shared
        .inner
        .lock()
        .expect("mock state")
        .awbs
        .iter()
        .any(|a| a.number == awb)
    {
        return failure(404, &format!("Awb {awb} not found."));
    }
    ([("content-type", "application/pdf")], LABEL).into_response()
}

fn step_json(step: &Step) -> Value {
    json!({
        "statusId": step.id, "status": step.status, "statusLabel": step.label, "statusState": step.state,
        "statusDate": date(step.at), "county": "Bucuresti", "reason": "", "transitLocation": "",
    })
}

async fn status(State(shared): State<Shared>, method: Method, Path(awb): Path<String>, headers: HeaderMap) -> Response {
    if let Err(refused) = admit(&shared, &method, &format!("/api/client/awb/{awb}/status"), "", &headers) {
        return refused;
    }
    let inner = shared.inner.lock().expect("mock state");
    let Some(found) = inner.awbs.iter().find(|a| a.number == awb) else {
        return failure(404, &format!("Awb {awb} not found."));
    };
    let last = found.steps.last().expect("an issued AWB has a status");
    let delivered = found.steps.iter().find(|s| s.id == 9);
    let parcels: Vec<Value> = (1..=found.parcels)
        .map(|i| {
            let mut p = step_json(last);
            p["parcelAwbNumber"] = json!(format!("{}{i:03}", found.number));
            p["parcelDetails"] = json!(format!(
                "https://api.sameday.ro/api/client/parcel/{}{i:03}/status-history",
                found.number
            ));
            p["inReturn"] = json!(false);
            p
        })
        .collect();
    // Newest first, as Sameday lists the history.
    let history: Vec<Value> = found.steps.iter().rev().map(step_json).collect();
    answer(
        200,
        json!({
            "expeditionSummary": {
                "deliveredAt": delivered.map(|s| date(s.at)).unwrap_or_default(),
                "lastDeliveryAttempt": "",
                "delivered": delivered.is_some(),
                "canceled": found.canceled,
                "deliveryAttempts": u32::from(delivered.is_some()),
                "servicePayment": 0.0,
                "awbWeight": found.weight,
                "cashOnDelivery": found.cod,
                "awbNumber": found.number,
                "redirectionsAttempts": 0,
            },
            "expeditionStatus": step_json(last),
            "parcelsStatus": parcels,
            "expeditionHistory": history,
        }),
    )
}

async fn status_sync(
    State(shared): State<Shared>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    if let Err(refused) = admit(&shared, &method, "/api/client/status-sync", &query, &headers) {
        return refused;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<i64>().ok());
    let (Some(start), Some(end)) = (number("startTimestamp"), number("endTimestamp")) else {
        return answer(
            400,
            json!({"code": 400, "message": "Validation Failed", "errors": {"children": {"startTimestamp": {"errors": ["This value should not be blank."]}}}}),
        );
    };
    let page = number("page").unwrap_or(1).max(1) as usize;
    let per_page = number("countPerPage").unwrap_or(50).clamp(1, 500) as usize;
    let inner = shared.inner.lock().expect("mock state");
    // Every parcel's status changes in the window, newest first.
    let mut changes: Vec<(i64, Value)> = Vec::new();
    for awb in &inner.awbs {
        for step in awb.steps.iter().filter(|s| s.at >= start && s.at <= end) {
            for i in 1..=awb.parcels {
                let mut change = step_json(step);
                let parcel = format!("{}{i:03}", awb.number);
                change["parcelAwbNumber"] = json!(parcel);
                change["reasonId"] = json!("");
                change["parcelDetails"] = json!(format!(
                    "https://api.sameday.ro/api/client/parcel/{parcel}/status-history"
                ));
                changes.push((step.at, change));
            }
        }
    }
    changes.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let data: Vec<Value> = changes
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(_, c)| c)
        .collect();
    answer(200, json!({ "currentPage": page, "perPage": per_page, "data": data }))
}
