//! The probe's `wasi-http` action: one request through `wasi:http`'s
//! outgoing handler (the door JavaScript's `fetch` and Python's HTTP
//! clients use) instead of the contract's `http.send`.

use serde::Deserialize;
use serde_json::{Value, json};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};

#[derive(Deserialize)]
pub struct WasiRequest {
    method: Option<String>,
    scheme: String,
    authority: String,
    path: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// `wasi:http` request options, in milliseconds.
    connect_ms: Option<u64>,
    first_byte_ms: Option<u64>,
    between_bytes_ms: Option<u64>,
}

/// Sends `spec` and reports `{status, body, headers}` or `{error}` with the
/// `wasi:http` error code exactly as the guest sees it.
pub fn send(spec: WasiRequest) -> Value {
    match try_send(spec) {
        Ok(value) => value,
        Err(error) => json!({ "error": error }),
    }
}

fn try_send(spec: WasiRequest) -> Result<Value, String> {
    let fields: Vec<(String, Vec<u8>)> = spec
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&fields).map_err(|e| format!("headers: {e:?}"))?;
    let request = OutgoingRequest::new(headers);
    let method = match spec.method.as_deref().unwrap_or("GET") {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        other => Method::Other(other.to_string()),
    };
    request.set_method(&method).map_err(|()| "method".to_string())?;
    let scheme = if spec.scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    request.set_scheme(Some(&scheme)).map_err(|()| "scheme".to_string())?;
    request
        .set_authority(Some(&spec.authority))
        .map_err(|()| "authority".to_string())?;
    request
        .set_path_with_query(Some(&spec.path))
        .map_err(|()| "path".to_string())?;
    let body = request.body().map_err(|()| "body".to_string())?;
    if let Some(text) = &spec.body {
        let stream = body.write().map_err(|()| "body stream".to_string())?;
        for chunk in text.as_bytes().chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("write: {e:?}"))?;
        }
    }
    let options = [spec.connect_ms, spec.first_byte_ms, spec.between_bytes_ms]
        .iter()
        .any(Option::is_some)
        .then(|| {
            let options = RequestOptions::new();
            let nanos = |ms: Option<u64>| ms.map(|ms| ms * 1_000_000);
            options
                .set_connect_timeout(nanos(spec.connect_ms))
                .and_then(|()| options.set_first_byte_timeout(nanos(spec.first_byte_ms)))
                .and_then(|()| options.set_between_bytes_timeout(nanos(spec.between_bytes_ms)))
                .map(|()| options)
                .map_err(|()| "the host refuses these request options".to_string())
        })
        .transpose()?;
    let pending = outgoing_handler::handle(request, options).map_err(|code| format!("{code:?}"))?;
    OutgoingBody::finish(body, None).map_err(|code| format!("{code:?}"))?;
    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("no response after the pollable was ready")?
        .map_err(|()| "response taken twice".to_string())?
        .map_err(|code| format!("{code:?}"))?;
    let headers: Vec<(String, String)> = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming = response.consume().map_err(|()| "body".to_string())?;
    let stream = incoming.stream().map_err(|()| "body stream".to_string())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(wasip2::io::streams::StreamError::Closed) => break,
            Err(error) => return Err(format!("read: {error:?}")),
        }
    }
    Ok(json!({
        "status": response.status(),
        "headers": headers,
        "body": String::from_utf8_lossy(&bytes),
    }))
}

#[derive(Deserialize)]
pub struct Hoard {
    scheme: String,
    authority: String,
    path: String,
    requests: usize,
    body_bytes: usize,
}

/// The host-memory attack on `wasi:http` (security review F5): many
/// requests with large bodies, their responses left unread. Reports what
/// each request ended with.
pub fn hoard(spec: Hoard) -> Value {
    let chunk = vec![b'h'; 4096];
    let mut pending = Vec::new();
    let mut outcomes = Vec::new();
    for _ in 0..spec.requests {
        let request = OutgoingRequest::new(Fields::new());
        let _ = request.set_method(&Method::Post);
        let scheme = if spec.scheme == "https" {
            Scheme::Https
        } else {
            Scheme::Http
        };
        let _ = request.set_scheme(Some(&scheme));
        let _ = request.set_authority(Some(&spec.authority));
        let _ = request.set_path_with_query(Some(&spec.path));
        let Ok(body) = request.body() else {
            outcomes.push(json!("no body"));
            continue;
        };
        let response = match outgoing_handler::handle(request, None) {
            Ok(response) => response,
            Err(code) => {
                outcomes.push(json!(format!("{code:?}")));
                continue;
            }
        };
        let mut written = 0;
        if let Ok(stream) = body.write() {
            while written < spec.body_bytes {
                let n = chunk.len().min(spec.body_bytes - written);
                if stream.blocking_write_and_flush(&chunk[..n]).is_err() {
                    break;
                }
                written += n;
            }
        }
        let _ = OutgoingBody::finish(body, None);
        pending.push(response);
    }
    for response in &pending {
        response.subscribe().block();
        outcomes.push(match response.get() {
            Some(Ok(Ok(answer))) => json!(answer.status()),
            Some(Ok(Err(code))) => json!(format!("{code:?}")),
            _ => json!("no response"),
        });
    }
    // The responses are left unread on purpose.
    json!({ "outcomes": outcomes })
}

/// The `fields` hoard (security review F5): header collections created and
/// filled until the host says no, all kept alive. Reports how many were
/// made and how far a value could grow.
pub fn fields_hoard() -> Value {
    let value = vec![b'f'; 4096];
    let mut kept = Vec::new();
    let mut appended = 0usize;
    let mut refused = None;
    for round in 0..100_000 {
        let fields = Fields::new();
        for i in 0..64 {
            if let Err(error) = fields.append(&format!("x-{i}"), &value) {
                refused.get_or_insert_with(|| format!("{error:?}"));
                break;
            }
            appended += value.len();
        }
        kept.push(fields);
        if round > 50_000 {
            break;
        }
    }
    json!({ "fields": kept.len(), "bytes": appended, "refused": refused })
}
