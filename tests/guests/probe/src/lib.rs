//! A test plugin for the host's policies. Its `actions` send whatever
//! request a test describes and report exactly what the guest saw: the
//! response, or the host's typed `http-error`. It also tries to read
//! configuration values and logs text it is given.

use patchbay_sdk::http::HttpError;
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

mod wasi_http;

/// The probe.
pub struct Probe;

#[derive(Deserialize)]
struct RequestSpec {
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    basic: Option<(String, String)>,
    query_auth: Option<(String, String)>,
    /// A header carrying a credential field (`oauth.access_token`: the
    /// connection's OAuth2 token): header name, field.
    header_auth: Option<(String, String)>,
    /// service, region, key-id field, secret field
    sigv4: Option<(String, String, String, String)>,
    /// Authenticate with the connection's OAuth2 token (managed by the host).
    #[serde(default)]
    oauth2: bool,
    #[serde(default)]
    no_retry: bool,
    timeout_ms: Option<u32>,
    idempotency_key: Option<String>,
    /// Log the response body (tests that logs are scrubbed).
    #[serde(default)]
    log_body: bool,
    /// Send the same request this many times in one call.
    #[allow(dead_code, reason = "read from the raw input")]
    repeat: Option<u32>,
}

fn http_error(error: HttpError) -> Value {
    let (kind, detail) = match error {
        HttpError::Denied(m) => ("denied", json!(m)),
        HttpError::Timeout(m) => ("timeout", json!(m)),
        HttpError::Connection(m) => ("connection", json!(m)),
        HttpError::TooLarge(n) => ("too-large", json!(n)),
        HttpError::RateLimited(s) => ("rate-limited", json!(s)),
        HttpError::CircuitOpen(m) => ("circuit-open", json!(m)),
        HttpError::InvalidRequest(m) => ("invalid-request", json!(m)),
    };
    json!({ "error": kind, "detail": detail })
}

fn request(input: RequestSpec) -> Value {
    let method = match input.method.as_deref().unwrap_or("GET") {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        other => Method::Other(other.to_string()),
    };
    let mut request = Request::new(method, input.url);
    for (name, value) in input.headers {
        request = request.header(name, value);
    }
    if let Some(body) = input.body {
        request = request.body(body);
    }
    if let Some((user, password)) = input.basic {
        request = request.basic_auth(&user, &password);
    }
    if let Some((name, field)) = input.header_auth {
        request = request.header_auth(&name, &field, None);
    }
    if let Some((param, field)) = input.query_auth {
        request = request.query_auth(&param, &field);
    }
    if let Some((service, region, key_id, secret)) = input.sigv4 {
        request = request.aws_sigv4(&service, &region, &key_id, &secret);
    }
    if input.oauth2 {
        request = request.oauth2();
    }
    if let Some(ms) = input.timeout_ms {
        request = request.timeout_ms(ms);
    }
    if input.no_retry {
        request = request.no_retry();
    }
    if let Some(key) = input.idempotency_key {
        request = request.idempotency_key(key);
    }
    match request.send_raw() {
        Ok(response) => {
            let body = response.text();
            if input.log_body {
                log::write(log::Level::Info, &format!("upstream said: {body}"), &[("body", &body)]);
            }
            let headers: Vec<(String, String)> = response
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect();
            json!({ "status": response.status, "body": body, "headers": headers })
        }
        Err(error) => http_error(error),
    }
}

impl Actions for Probe {
    fn list_actions() -> Vec<ActionSpec> {
        [
            "request",
            "config",
            "hmac",
            "log",
            "kv",
            "ed25519",
            "wasi-http",
            "wasi-http-hoard",
            "fields-hoard",
        ]
        .into_iter()
        .map(|name| ActionSpec {
            name: name.into(),
            description: format!("probe: {name}"),
            input_schema: "{}".into(),
            output_schema: "{}".into(),
        })
        .collect()
    }

    fn execute(name: String, input: Json) -> Result<Json> {
        let input: Value = serde_json::from_str(&input).or_validation("input")?;
        let output = match name.as_str() {
            "request" => {
                let times = input.get("repeat").and_then(Value::as_u64).unwrap_or(1);
                let mut outcomes = Vec::new();
                for _ in 0..times {
                    outcomes.push(request(serde_json::from_value(input.clone()).or_validation("request")?));
                }
                if times == 1 {
                    outcomes.remove(0)
                } else {
                    Value::Array(outcomes)
                }
            }
            "config" => {
                let field = input["name"].as_str().unwrap_or_default();
                match config::get(field) {
                    Ok(value) => json!({ "value": value }),
                    Err(error) => json!({ "error": format!("{error:?}") }),
                }
            }
            "hmac" => {
                let message = input["message"].as_str().unwrap_or_default().as_bytes();
                let field = input["field"].as_str().unwrap_or_default();
                match crypto::hmac(crypto::HashAlgorithm::Sha256, field, message) {
                    Ok(mac) => {
                        let verified = crypto::verify_hmac(crypto::HashAlgorithm::Sha256, field, message, &mac)?;
                        let tampered = crypto::verify_hmac(crypto::HashAlgorithm::Sha256, field, b"other", &mac)?;
                        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
                        let matches_secret = crypto::verify_secret(field, input["guess"].as_str().unwrap_or_default())?;
                        json!({ "hmac": hex, "verified": verified, "tampered": tampered, "guess": matches_secret })
                    }
                    Err(error) => json!({ "error": format!("{error:?}") }),
                }
            }
            "ed25519" => {
                let bytes = |field: &str| -> Result<Vec<u8>> {
                    let text = input[field].as_str().unwrap_or_default();
                    (0..text.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(text.get(i..i + 2).unwrap_or("zz"), 16))
                        .collect::<core::result::Result<Vec<u8>, _>>()
                        .or_validation(field)
                };
                let message = input["message"].as_str().unwrap_or_default().as_bytes();
                json!({ "valid": crypto::verify_ed25519(&bytes("key")?, message, &bytes("signature")?) })
            }
            "kv" => {
                let key = input["key"].as_str().unwrap_or("probe");
                kv::set(key, input["value"].as_str().unwrap_or_default().as_bytes(), None)?;
                json!({ "value": kv::get_string(key)? })
            }
            "wasi-http" => wasi_http::send(serde_json::from_value(input).or_validation("wasi-http request")?),
            "wasi-http-hoard" => wasi_http::hoard(serde_json::from_value(input).or_validation("wasi-http-hoard")?),
            "fields-hoard" => wasi_http::fields_hoard(),
            "both-doors" => json!([
                wasi_http::send(serde_json::from_value(input["wasi"].clone()).or_validation("wasi request")?),
                request(serde_json::from_value(input["contract"].clone()).or_validation("request")?),
            ]),
            "log" => {
                log::info(input["text"].as_str().unwrap_or_default());
                json!({})
            }
            other => return Err(Error::Unsupported(format!("no action {other:?}"))),
        };
        Ok(output.to_string())
    }
}

impl Connector for Probe {
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "probe".into(),
            details: "{}".into(),
        })
    }
}

/// Streams the last message back word by word; a prompt that says `fail`
/// ends with a provider error after its chunks.
impl Streaming for Probe {
    fn stream_complete(
        messages: Vec<ChatMessage>,
        model: Option<String>,
        _options: CompletionOptions,
    ) -> Result<LlmResponse> {
        use patchbay_sdk::bindings::imports::patchbay::connector::stream_sink;
        let prompt = messages.last().map(|m| m.content.clone()).unwrap_or_default();
        for word in prompt.split_whitespace() {
            stream_sink::emit(&StreamChunk {
                content_delta: format!("{word} "),
                tool_calls: Vec::new(),
                finish_reason: None,
            });
        }
        if prompt.split_whitespace().any(|w| w == "fail") {
            return Err(Error::from_status(503, "the model is overloaded", None));
        }
        Ok(LlmResponse {
            content: prompt,
            model: model.unwrap_or_else(|| "probe".into()),
            usage: None,
            finish_reason: Some("stop".into()),
            tool_calls: Vec::new(),
        })
    }
}

/// The probe sets `X-Forwarded-For` (as a plugin passing on an end
/// customer's address would); no other forwarding header.
impl ManifestExtension for Probe {
    fn forwarding_headers() -> Vec<String> {
        vec!["X-Forwarded-For".into()]
    }
}

patchbay_sdk::export!(Probe: actions, streaming, manifest_extension);
