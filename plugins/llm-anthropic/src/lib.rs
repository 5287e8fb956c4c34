//! Patchbay plugin for Anthropic's Messages API
//! (<https://docs.anthropic.com/en/api/messages>): system prompts, tools,
//! JSON answers to a schema, streamed as server-sent events chunk by chunk
//! through the host, token usage. The manifest is `patchbay.toml`.

/// The API and its error object.
pub mod api;
/// Messages, whole and streamed.
pub mod messages;

use patchbay_sdk::client::connected;
use patchbay_sdk::prelude::*;
use serde::Deserialize;

/// The Anthropic adapter.
pub struct Anthropic;

#[derive(Deserialize)]
struct Models {
    data: Vec<Model>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

#[derive(Deserialize)]
struct Model {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
}

/// Pages of the model list followed at most this far.
const MAX_MODEL_PAGES: usize = 20;

impl Connector for Anthropic {
    fn test_connection() -> Result<ConnectionTest> {
        api::client()?
            .get("models")
            .query("limit", "1")
            .test_connection(|_| connected("Connected to Anthropic's API"))
    }
}

impl Llm for Anthropic {
    fn complete(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
        messages::complete(messages, model, options)
    }

    fn list_models() -> Result<Vec<ModelInfo>> {
        let mut models = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_MODEL_PAGES {
            let page: Models = api::client()?
                .get("models")
                .query("limit", "1000")
                .query_opt("after_id", after.as_deref())
                .json()?;
            let more = page.has_more;
            after = page.last_id.or_else(|| page.data.last().map(|m| m.id.clone()));
            models.extend(page.data.into_iter().map(|m| ModelInfo {
                name: m.display_name.unwrap_or_else(|| m.id.clone()),
                id: m.id,
                context_window: None,
                capabilities: ["chat", "tools", "streaming", "vision"].map(String::from).to_vec(),
            }));
            if !more || after.is_none() {
                break;
            }
        }
        Ok(models)
    }
}

impl Streaming for Anthropic {
    fn stream_complete(
        messages: Vec<ChatMessage>,
        model: Option<String>,
        options: CompletionOptions,
    ) -> Result<LlmResponse> {
        messages::stream(messages, model, options)
    }
}

patchbay_sdk::export!(Anthropic: llm, streaming);
