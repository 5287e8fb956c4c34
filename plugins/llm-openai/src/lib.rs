//! Patchbay plugin for OpenAI's API and OpenAI-compatible ones
//! (<https://platform.openai.com/docs/api-reference>): chat completions
//! with tools and structured output, streamed as server-sent events chunk
//! by chunk through the host, embeddings, speech to text and image
//! generation. The manifest is `patchbay.toml`.

/// The API, its settings and its error object.
pub mod api;
/// Chat completions, whole and streamed.
pub mod chat;
/// Embeddings, transcription, images, models.
pub mod media;

use patchbay_sdk::client::connected;
use patchbay_sdk::prelude::*;

/// The OpenAI adapter.
pub struct OpenAi;

impl Connector for OpenAi {
    fn test_connection() -> Result<ConnectionTest> {
        match media::count() {
            Ok(n) => connected(format!("Connected: the key may use {n} models")),
            Err(Error::Auth(why)) => {
                patchbay_sdk::client::refused(format!("the provider refused the credentials: {why}"))
            }
            Err(other) => Err(other),
        }
    }
}

impl Llm for OpenAi {
    fn complete(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
        chat::complete(messages, model, options)
    }

    fn list_models() -> Result<Vec<ModelInfo>> {
        media::list()
    }
}

impl Streaming for OpenAi {
    fn stream_complete(
        messages: Vec<ChatMessage>,
        model: Option<String>,
        options: CompletionOptions,
    ) -> Result<LlmResponse> {
        chat::stream(messages, model, options)
    }
}

impl Embedding for OpenAi {
    fn embed(inputs: Vec<String>, model: Option<String>) -> Result<EmbeddingResult> {
        media::embed(inputs, model)
    }
}

impl Transcription for OpenAi {
    fn transcribe(audio: Vec<u8>, filename: String, options: TranscriptionOptions) -> Result<TranscriptionResult> {
        media::transcribe(audio, filename, options)
    }
}

impl ImageGeneration for OpenAi {
    fn generate_images(prompt: String, options: ImageOptions) -> Result<ImageResult> {
        media::generate(prompt, options)
    }
}

patchbay_sdk::export!(OpenAi: llm, streaming, embedding, transcription, image_generation);
