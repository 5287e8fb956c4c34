//! A hostile upstream: rate limits in both `Retry-After` forms, bursts of
//! 5xx, hangs, trickled bodies, connections reset mid-body, oversize
//! bodies, redirects, an echo of what it received and a reflector that
//! hands it back decoded every way it can. Counts hits per path and keeps
//! the last request it was sent, as it was sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use serde_json::json;

use crate::mock::RunningServer;

#[derive(Default)]
struct Hits(
    Mutex<HashMap<String, usize>>,
    Mutex<HashMap<String, String>>,
    Mutex<Option<serde_json::Value>>,
);

impl Hits {
    fn bump(&self, key: &str) -> usize {
        let mut hits = self.0.lock().unwrap();
        let n = hits.entry(key.to_string()).or_default();
        *n += 1;
        *n
    }
}

type Shared = Arc<Hits>;

/// `/429/{key}/{form}`: the first hit answers 429 with `Retry-After` of one
/// second (`form` = `seconds` or `date`), the next ones 200.
async fn rate_limited(State(hits): State<Shared>, Path((key, form)): Path<(String, String)>) -> Response {
    if hits.bump(&format!("429/{key}")) > 1 {
        return (StatusCode::OK, "finally").into_response();
    }
    let value = if form == "date" {
        httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2))
    } else {
        "1".to_string()
    };
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, value)],
        r#"{"message":"slow down"}"#,
    )
        .into_response()
}

/// `/flaky/{key}/{failures}/{status}`: `failures` times `status`, then 200.
async fn flaky(State(hits): State<Shared>, Path((key, failures, status)): Path<(String, usize, u16)>) -> Response {
    if hits.bump(&format!("flaky/{key}")) > failures {
        return (StatusCode::OK, "recovered").into_response();
    }
    (StatusCode::from_u16(status).unwrap(), "upstream trouble").into_response()
}

/// `/status/{key}/{status}`: always `status`.
async fn status(State(hits): State<Shared>, Path((key, code)): Path<(String, u16)>) -> Response {
    hits.bump(&format!("status/{key}"));
    (StatusCode::from_u16(code).unwrap(), "as asked").into_response()
}

/// `/hang/{key}`: answers after a minute.
async fn hang(State(hits): State<Shared>, Path(key): Path<String>) -> Response {
    hits.bump(&format!("hang/{key}"));
    tokio::time::sleep(Duration::from_secs(60)).await;
    "too late".into_response()
}

/// `/sleep/{ms}`: answers after `ms` milliseconds (holds calls in flight).
async fn sleep(State(hits): State<Shared>, Path(ms): Path<u64>) -> Response {
    hits.bump("sleep");
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "slept".into_response()
}

/// `/reset/{key}`: sends headers and half a body, then drops the connection.
async fn reset(State(hits): State<Shared>, Path(key): Path<String>) -> Response {
    hits.bump(&format!("reset/{key}"));
    let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
        Ok("partial body..."),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset")),
    ];
    Response::builder()
        .header(header::CONTENT_LENGTH, "1000")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap()
}

/// `/big/{bytes}?declared=true`: a body of `bytes` bytes, streamed in 64 KiB
/// chunks, with or without a `Content-Length`.
async fn big(Path(bytes): Path<usize>, Query(query): Query<HashMap<String, String>>) -> Response {
    let chunk = vec![b'x'; 64 * 1024];
    let mut parts = Vec::new();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        parts.push(Ok::<_, std::io::Error>(chunk[..n].to_vec()));
        left -= n;
    }
    let mut response = Response::builder();
    if query.get("declared").is_some_and(|v| v == "true") {
        response = response.header(header::CONTENT_LENGTH, bytes.to_string());
    }
    response.body(Body::from_stream(futures::stream::iter(parts))).unwrap()
}

/// `/redirect?to=URL`: 302 to `URL`.
async fn redirect(Query(query): Query<HashMap<String, String>>) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, query.get("to").cloned().unwrap_or_default())],
    )
        .into_response()
}

/// `/echo`: what was received, as JSON.
async fn echo(State(hits): State<Shared>, headers: HeaderMap, request: Request) -> Response {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let (method, uri) = (request.method().to_string(), request.uri().to_string());
    let body = axum::body::to_bytes(request.into_body(), 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body);
    let received = json!({ "method": method, "uri": uri, "headers": headers, "body": body });
    *hits.2.lock().unwrap() = Some(received.clone());
    axum::Json(received).into_response()
}

/// `/reflect?chunk=N`: everything the request carried, handed back every
/// way an API might: the URI as sent and percent-decoded, each query
/// parameter decoded, every header, the `Basic` credentials decoded, the
/// body; in the JSON body (streamed in `N`-byte chunks, 7 by default, so a
/// secret straddles chunks) and in `x-reflected-*` response headers.
async fn reflect(State(hits): State<Shared>, headers: HeaderMap, request: Request) -> Response {
    let uri = request.uri().to_string();
    let parsed = url::Url::parse(&format!("http://reflector{uri}")).expect("a request URI");
    let query: HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    let chunk = query.get("chunk").and_then(|n| n.parse().ok()).unwrap_or(7usize).max(1);
    let decoded = url::form_urlencoded::parse(uri.as_bytes())
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let header_map: HashMap<String, String> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let authorization = header_map.get("authorization").cloned().unwrap_or_default();
    let basic = authorization
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let body = axum::body::to_bytes(request.into_body(), 1024 * 1024)
        .await
        .unwrap_or_default();
    let received = json!({
        "uri": uri, "decoded_uri": decoded, "query": query, "headers": header_map,
        "basic": basic, "body": String::from_utf8_lossy(&body),
    });
    *hits.2.lock().unwrap() = Some(received.clone());
    let text = received.to_string().into_bytes();
    let parts: Vec<Result<Vec<u8>, std::io::Error>> = text.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-reflected-uri", uri.as_str())
        .header("x-reflected-authorization", authorization.as_str());
    if let Some(basic) = &basic {
        response = response.header("x-reflected-basic", basic.as_str());
    }
    for (name, value) in &header_map {
        if let Ok(value) = axum::http::HeaderValue::from_str(value) {
            response = response.header(format!("x-reflected-{name}"), value);
        }
    }
    response.body(Body::from_stream(futures::stream::iter(parts))).unwrap()
}

/// `/trickle/{bytes}/{ms}`: answers at once, then sends its body one byte
/// every `ms` milliseconds.
async fn trickle(State(hits): State<Shared>, Path((bytes, ms)): Path<(usize, u64)>) -> Response {
    hits.bump("trickle");
    let stream = futures::stream::unfold(0usize, move |sent| async move {
        if sent == bytes {
            return None;
        }
        if sent > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Some((Ok::<_, std::io::Error>(vec![b'.']), sent + 1))
    });
    Response::builder().body(Body::from_stream(stream)).unwrap()
}

/// `/token-expired/{key}`: an API whose first bearer token has expired on
/// its side: requests with that token get 401 `invalid_token` (RFC 6750),
/// any other token gets the echo.
async fn token_expired(
    State(hits): State<Shared>,
    Path(key): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    hits.bump(&format!("token-expired/{key}"));
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let expired = hits
        .1
        .lock()
        .unwrap()
        .entry(key)
        .or_insert_with(|| token.clone())
        .clone();
    if token == expired {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                r#"Bearer error="invalid_token", error_description="The access token expired""#,
            )],
            r#"{"error":"invalid_token"}"#,
        )
            .into_response();
    }
    echo(State(hits), headers, request).await
}

/// A running hostile upstream.
pub struct Hostile {
    /// The server.
    pub server: RunningServer,
    hits: Shared,
}

impl Hostile {
    /// Starts one on 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        let hits: Shared = Arc::default();
        let router = Router::new()
            .route("/429/{key}/{form}", any(rate_limited))
            .route("/flaky/{key}/{failures}/{status}", any(flaky))
            .route("/status/{key}/{status}", any(status))
            .route("/hang/{key}", any(hang))
            .route("/sleep/{ms}", any(sleep))
            .route("/reset/{key}", any(reset))
            .route("/big/{bytes}", any(big))
            .route("/redirect", any(redirect))
            .route("/echo", any(echo))
            .route("/reflect", any(reflect))
            .route("/reflect/{*rest}", any(reflect))
            .route("/trickle/{bytes}/{ms}", any(trickle))
            .route("/token-expired/{key}", any(token_expired))
            .with_state(hits.clone());
        Ok(Self {
            server: RunningServer::start(router, 0).await?,
            hits,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The last request `/echo` or `/reflect` was sent, as it arrived
    /// (what the upstream saw, before the host scrubbed its answer).
    pub fn last_request(&self) -> Option<serde_json::Value> {
        self.hits.2.lock().unwrap().clone()
    }

    /// Hits of a route and key, e.g. `429/a` or `flaky/b`.
    pub fn hits(&self, key: &str) -> usize {
        self.hits.0.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}
