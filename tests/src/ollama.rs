//! A mock Ollama server, serving what Ollama serves: `POST /api/chat` with
//! `stream: false` (`message`, `tool_calls` with `function.arguments` as an
//! object, `done_reason`, `prompt_eval_count`, `eval_count`), `GET /api/tags`,
//! and Ollama's error bodies `{"error": "..."}` (404 for a model that was
//! never pulled, 400 for a malformed request).
//!
//! The model is a deterministic stand-in: it answers "echo: <last user
//! text>", calls `get_weather` when asked about the weather and tools are
//! given, and summarises a tool result.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::mock::RunningServer;

/// The models the mock has pulled.
pub const MODELS: [&str; 2] = ["llama3.2:latest", "qwen2.5:7b"];

type Shared = Arc<Mutex<Vec<Value>>>;

/// A running mock Ollama.
pub struct MockOllama {
    server: RunningServer,
    requests: Shared,
}

impl MockOllama {
    /// Starts the mock on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let requests: Shared = Arc::default();
        let router = Router::new()
            .route("/api/chat", post(chat))
            .route("/api/tags", get(tags))
            .with_state(Arc::clone(&requests));
        Ok(Self {
            server: RunningServer::start(router, 0).await?,
            requests,
        })
    }

    /// The `base_url` setting.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// `/api/chat` bodies received, in order.
    pub fn chat_requests(&self) -> Vec<Value> {
        self.requests.lock().expect("mock state").clone()
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

async fn tags() -> Response {
    let models: Vec<Value> = MODELS
        .iter()
        .map(|name| {
            let (family, size) = if name.starts_with("llama") {
                ("llama", "3.2B")
            } else {
                ("qwen2", "7.6B")
            };
            json!({ "name": name, "model": name, "modified_at": "2026-11-01T10:00:00.000000000Z", "size": 2019393189u64,
                    "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                    "details": { "parent_model": "", "format": "gguf", "family": family, "families": [family],
                                 "parameter_size": size, "quantization_level": "Q4_K_M" } })
        })
        .collect();
    axum::Json(json!({ "models": models })).into_response()
}

async fn chat(State(requests): State<Shared>, body: axum::body::Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid character 'x' looking for beginning of value",
        );
    };
    requests.lock().expect("mock state").push(request.clone());
    let model = request["model"].as_str().unwrap_or_default();
    if model.is_empty() {
        return error(StatusCode::BAD_REQUEST, "model is required");
    }
    if !MODELS
        .iter()
        .any(|m| *m == model || m.strip_suffix(":latest") == Some(model))
    {
        return error(
            StatusCode::NOT_FOUND,
            &format!("model \"{model}\" not found, try pulling it first"),
        );
    }
    if request["stream"] != false {
        return error(StatusCode::BAD_REQUEST, "this mock serves stream: false only");
    }
    let Some(messages) = request["messages"].as_array().filter(|m| !m.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "messages are required");
    };
    let last = messages.last().expect("non-empty");
    let text = last["content"].as_str().unwrap_or_default();
    let has_tools = request["tools"].as_array().is_some_and(|t| !t.is_empty());
    let mut message = json!({ "role": "assistant", "content": "" });
    let mut reason = "stop";
    if last["role"] == "tool" {
        message["content"] = json!(format!(
            "{} says: {text}",
            last["tool_name"].as_str().unwrap_or("a tool")
        ));
    } else if has_tools && text.contains("weather") {
        message["tool_calls"] =
            json!([{ "function": { "name": "get_weather", "arguments": { "city": "Cluj-Napoca" } } }]);
    } else {
        let mut reply = format!("echo: {text}");
        if let Some(limit) = request["options"]["num_predict"].as_u64()
            && reply.len() > limit as usize * 4
        {
            reply.truncate(limit as usize * 4);
            reason = "length";
        }
        message["content"] = json!(reply);
    }
    let prompt = messages.iter().map(|m| m.to_string().len() / 4).sum::<usize>();
    let eval = message.to_string().len() / 4;
    axum::Json(json!({
        "model": model,
        "created_at": "2026-11-23T09:30:00.000000000Z",
        "message": message,
        "done": true,
        "done_reason": reason,
        "total_duration": 4_883_583_458u64,
        "load_duration": 1_334_875u64,
        "prompt_eval_count": prompt,
        "prompt_eval_duration": 342_546_000u64,
        "eval_count": eval,
        "eval_duration": 4_535_599_000u64,
    }))
    .into_response()
}
