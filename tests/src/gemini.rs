//! A mock Gemini API (`/v1beta`), serving what the real one serves:
//! `x-goog-api-key`, `models/{model}:generateContent` with `contents`,
//! `systemInstruction`, `tools` / `functionCall` / `functionResponse`,
//! `usageMetadata`, `promptFeedback.blockReason`, a paged `models` list
//! (`pageSize`, `pageToken`, `nextPageToken`), and `google.rpc` error bodies
//! (`API_KEY_INVALID` as a 400, `RESOURCE_EXHAUSTED` with `RetryInfo`).
//!
//! The model is a deterministic stand-in: it answers "echo: <last user
//! text>", calls `get_weather` when asked about the weather and tools are
//! declared, and summarises a function response it is given.

// Handlers return ready responses as their early-exit errors, as axum does.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::mock::RunningServer;

/// The API key the mock accepts.
pub const API_KEY: &str = "AIzaSyMock-0123456789abcdefghijklmnop";
/// A model that is always overloaded with quota exhaustion (429).
pub const EXHAUSTED_MODEL: &str = "gemini-exhausted";
/// Prompts containing this word are blocked for safety.
pub const BLOCKED_WORD: &str = "forbidden";

const MODELS: [(&str, &str, u32, &[&str]); 5] = [
    (
        "gemini-2.0-flash",
        "Gemini 2.0 Flash",
        1_048_576,
        &["generateContent", "countTokens"],
    ),
    (
        "gemini-2.0-flash-lite",
        "Gemini 2.0 Flash-Lite",
        1_048_576,
        &["generateContent", "countTokens"],
    ),
    (
        "gemini-2.5-pro",
        "Gemini 2.5 Pro",
        1_048_576,
        &["generateContent", "countTokens"],
    ),
    (
        "gemini-exhausted",
        "Gemini (always over quota)",
        32_768,
        &["generateContent"],
    ),
    ("text-embedding-004", "Text Embedding 004", 2_048, &["embedContent"]),
];

type Shared = Arc<Mutex<Vec<(String, Value)>>>;

/// A running mock Gemini API.
pub struct MockGemini {
    server: RunningServer,
    requests: Shared,
}

impl MockGemini {
    /// Starts the mock on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let requests: Shared = Arc::default();
        let router = Router::new()
            .route("/v1beta/models", get(list_models))
            .route("/v1beta/models/{action}", post(generate))
            .with_state(Arc::clone(&requests));
        Ok(Self {
            server: RunningServer::start(router, 0).await?,
            requests,
        })
    }

    /// The `api_base` setting: `http://127.0.0.1:PORT/v1beta`.
    pub fn api_base(&self) -> String {
        format!("{}/v1beta", self.server.url())
    }

    /// generateContent bodies received, with the model, in order.
    pub fn generate_requests(&self) -> Vec<(String, Value)> {
        self.requests.lock().expect("mock state").clone()
    }
}

fn google_error(status: StatusCode, rpc_status: &str, message: &str, details: Value) -> Response {
    let body = json!({ "error": {
        "code": status.as_u16(), "message": message, "status": rpc_status, "details": details,
    }});
    (status, axum::Json(body)).into_response()
}

fn authorize(headers: &HeaderMap) -> Result<(), Response> {
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) == Some(API_KEY) {
        return Ok(());
    }
    Err(google_error(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        json!([{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com", "metadata": { "service": "generativelanguage.googleapis.com" } }]),
    ))
}

async fn list_models(headers: HeaderMap, Query(query): Query<Vec<(String, String)>>) -> Response {
    if let Err(refused) = authorize(&headers) {
        return refused;
    }
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let size: usize = param("pageSize").and_then(|v| v.parse().ok()).unwrap_or(50).clamp(1, 2);
    let start: usize = param("pageToken")
        .and_then(|t| t.strip_prefix("page-").and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let page: Vec<Value> = MODELS
        .iter()
        .skip(start)
        .take(size)
        .map(|(id, display, input, methods)| {
            json!({ "name": format!("models/{id}"), "version": "001", "displayName": display,
                    "inputTokenLimit": input, "outputTokenLimit": 8192, "supportedGenerationMethods": methods })
        })
        .collect();
    let mut body = json!({ "models": page });
    if start + size < MODELS.len() {
        body["nextPageToken"] = json!(format!("page-{}", start + size));
    }
    axum::Json(body).into_response()
}

async fn generate(
    State(requests): State<Shared>,
    Path(action): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = authorize(&headers) {
        return refused;
    }
    let Some(model) = action.strip_suffix(":generateContent") else {
        return google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("Method not found: {action}"),
            json!([]),
        );
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received.",
            json!([]),
        );
    };
    requests
        .lock()
        .expect("mock state")
        .push((model.to_string(), request.clone()));
    if !MODELS.iter().any(|(id, ..)| *id == model) {
        let message =
            format!("models/{model} is not found for API version v1beta, or is not supported for generateContent.");
        return google_error(StatusCode::NOT_FOUND, "NOT_FOUND", &message, json!([]));
    }
    if model == EXHAUSTED_MODEL {
        return google_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            json!([
                { "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                  "violations": [{ "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                   "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }] },
                { "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s" }
            ]),
        );
    }
    let Some(contents) = request["contents"].as_array().filter(|c| !c.is_empty()) else {
        return google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "* GenerateContentRequest.contents: contents is not specified",
            json!([]),
        );
    };
    let last = contents.last().expect("non-empty");
    let last_parts = last["parts"].as_array().cloned().unwrap_or_default();
    let text: String = last_parts
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let prompt_tokens = contents.iter().map(|c| c.to_string().len() / 4).sum::<usize>() as u64;
    if text.contains(BLOCKED_WORD) {
        return axum::Json(json!({
            "promptFeedback": { "blockReason": "SAFETY", "safetyRatings": [] },
            "usageMetadata": { "promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens },
            "modelVersion": model,
        }))
        .into_response();
    }
    let has_tools = request["tools"][0]["functionDeclarations"]
        .as_array()
        .is_some_and(|d| !d.is_empty());
    let function_response = last_parts.iter().find_map(|p| p.get("functionResponse"));
    let (parts, finish) = if let Some(result) = function_response {
        let summary = format!(
            "{} says: {}",
            result["name"].as_str().unwrap_or_default(),
            result["response"]
        );
        (json!([{ "text": summary }]), "STOP")
    } else if has_tools && text.contains("weather") {
        (
            json!([{ "functionCall": { "name": "get_weather", "args": { "city": "Cluj-Napoca", "unit": "celsius" } } }]),
            "STOP",
        )
    } else {
        let mut reply = format!("echo: {text}");
        if let Some(max) = request["generationConfig"]["maxOutputTokens"].as_u64() {
            reply.truncate(max as usize * 4);
            if reply.len() < format!("echo: {text}").len() {
                let body = completion(model, json!([{ "text": reply }]), "MAX_TOKENS", prompt_tokens);
                return axum::Json(body).into_response();
            }
        }
        (json!([{ "text": reply }]), "STOP")
    };
    axum::Json(completion(model, parts, finish, prompt_tokens)).into_response()
}

fn completion(model: &str, parts: Value, finish: &str, prompt_tokens: u64) -> Value {
    let completion_tokens = (parts.to_string().len() / 4) as u64;
    json!({
        "candidates": [{
            "content": { "role": "model", "parts": parts },
            "finishReason": finish,
            "index": 0,
            "safetyRatings": [],
        }],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": completion_tokens,
            "totalTokenCount": prompt_tokens + completion_tokens,
        },
        "modelVersion": format!("{model}-001"),
        "responseId": "mock-response-1",
    })
}
