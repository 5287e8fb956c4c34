//! Embeddings, speech to text, image generation and the model list.
//! <https://platform.openai.com/docs/api-reference/embeddings>,
//! <https://platform.openai.com/docs/api-reference/audio/createTranscription>,
//! <https://platform.openai.com/docs/api-reference/images/create>,
//! <https://platform.openai.com/docs/api-reference/models/list>

use patchbay_sdk::crypto::from_base64;
use patchbay_sdk::http::{Multipart, idempotency_key};
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::client;
use patchbay_sdk::llm;

/// The largest audio file OpenAI transcribes.
pub const MAX_AUDIO_BYTES: usize = 25 * 1024 * 1024;

#[derive(Deserialize)]
struct Embeddings {
    data: Vec<Embedded>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Option<EmbeddingUsage>,
}

#[derive(Deserialize)]
struct Embedded {
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct EmbeddingUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    total_tokens: u32,
}

/// One vector per input, in the inputs' order.
pub fn embed(inputs: Vec<String>, model: Option<String>) -> Result<EmbeddingResult> {
    if inputs.is_empty() {
        return Err(Error::Validation("inputs: at least one text is needed".into()));
    }
    if let Some(i) = inputs.iter().position(|input| input.is_empty()) {
        return Err(Error::Validation(format!(
            "inputs[{i}]: an empty text cannot be embedded"
        )));
    }
    let model = llm::model(model, "embedding_model", "text-embedding-3-small")?;
    let answer: Embeddings = client()?
        .post("embeddings")
        .idempotency_key(idempotency_key("embed"))
        .body_json(&json!({ "model": model, "input": inputs, "encoding_format": "float" }))?
        .json()?;
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; inputs.len()];
    for item in answer.data {
        let slot = vectors.get_mut(item.index).ok_or_else(|| {
            Error::provider(format!(
                "an embedding for input {} of {} came back",
                item.index,
                inputs.len()
            ))
        })?;
        *slot = Some(item.embedding);
    }
    let embeddings = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| Error::provider(format!("no embedding came back for input {i}"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(EmbeddingResult {
        embeddings,
        model: if answer.model.is_empty() { model } else { answer.model },
        usage: answer.usage.map(|u| TokenUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: 0,
            total_tokens: u.total_tokens.max(u.prompt_tokens),
        }),
    })
}

/// The content type of an audio file by its extension, as OpenAI lists them.
fn audio_type(filename: &str) -> &'static str {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "mp3" | "mpga" | "mpeg" => "audio/mpeg",
        "mp4" | "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "webm" => "audio/webm",
        "ogg" | "oga" => "audio/ogg",
        "flac" => "audio/flac",
        _ => "application/octet-stream",
    }
}

#[derive(Deserialize)]
struct Transcript {
    text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
}

/// Speech to text, the audio uploaded as multipart form data.
pub fn transcribe(audio: Vec<u8>, filename: String, options: TranscriptionOptions) -> Result<TranscriptionResult> {
    if audio.is_empty() {
        return Err(Error::Validation("audio: the file is empty".into()));
    }
    if audio.len() > MAX_AUDIO_BYTES {
        return Err(Error::Validation(format!(
            "audio: {} bytes is over OpenAI's limit of 25 MB",
            audio.len()
        )));
    }
    let filename = if filename.trim().is_empty() {
        "audio.mp3".to_string()
    } else {
        filename
    };
    let model = llm::model(options.model, "transcription_model", "whisper-1")?;
    // Only whisper-1 tells the language and duration (verbose_json).
    let format = if model == "whisper-1" { "verbose_json" } else { "json" };
    let mut form = Multipart::new()
        .file("file", &filename, audio_type(&filename), &audio)
        .text("model", &model)
        .text("response_format", format);
    if let Some(language) = options.language.as_deref().filter(|l| !l.is_empty()) {
        form = form.text("language", language);
    }
    if let Some(prompt) = options.prompt.as_deref().filter(|p| !p.is_empty()) {
        form = form.text("prompt", prompt);
    }
    let transcript: Transcript = client()?
        .post("audio/transcriptions")
        .idempotency_key(idempotency_key("transcribe"))
        .multipart(form)
        .json()?;
    Ok(TranscriptionResult {
        text: transcript.text,
        language: transcript.language.or(options.language),
        duration_seconds: transcript.duration,
    })
}

#[derive(Deserialize)]
struct Images {
    data: Vec<Image>,
    #[serde(default)]
    model: Option<String>,
}

#[derive(Deserialize)]
struct Image {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    b64_json: Option<String>,
    #[serde(default)]
    revised_prompt: Option<String>,
}

/// Images from a prompt: links (DALL·E) or bytes (`b64_json`, always for
/// gpt-image-1).
pub fn generate(prompt: String, options: ImageOptions) -> Result<ImageResult> {
    if prompt.trim().is_empty() {
        return Err(Error::Validation("prompt: empty".into()));
    }
    let model = llm::model(options.model, "image_model", "gpt-image-1")?;
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("prompt".into(), json!(prompt));
    if let Some(count) = options.count {
        if count == 0 || count > 10 {
            return Err(Error::Validation(format!(
                "options.count: {count} is not between 1 and 10"
            )));
        }
        body.insert("n".into(), json!(count));
    }
    if let Some(size) = options.size.as_deref().filter(|s| !s.is_empty()) {
        body.insert("size".into(), json!(size));
    }
    if let Some(quality) = options.quality.as_deref().filter(|q| !q.is_empty()) {
        body.insert("quality".into(), json!(quality));
    }
    let answer: Images = client()?
        .post("images/generations")
        .idempotency_key(idempotency_key("image"))
        .body_json(&Value::Object(body))?
        .json()?;
    let images = answer
        .data
        .into_iter()
        .enumerate()
        .map(|(i, image)| {
            let data = match image.b64_json.as_deref() {
                Some(text) => Some(
                    from_base64(text).ok_or_else(|| Error::provider(format!("image {i}: b64_json is not base64")))?,
                ),
                None => None,
            };
            if data.is_none() && image.url.is_none() {
                return Err(Error::provider(format!("image {i} has neither a url nor b64_json")));
            }
            Ok(GeneratedImage {
                url: image.url,
                data,
                revised_prompt: image.revised_prompt,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ImageResult {
        images,
        model: answer.model.unwrap_or(model),
    })
}

#[derive(Deserialize)]
struct Models {
    data: Vec<Model>,
}

#[derive(Deserialize)]
struct Model {
    id: String,
}

/// What a model of OpenAI's list can do, by its name (the list says nothing
/// else).
pub fn capabilities(id: &str) -> Vec<String> {
    let id = id.to_ascii_lowercase();
    let caps: &[&str] = if id.contains("embedding") {
        &["embedding"]
    } else if id.contains("whisper") || id.contains("transcribe") {
        &["transcription"]
    } else if id.contains("dall-e") || id.contains("gpt-image") {
        &["image-generation"]
    } else if id.contains("tts") || id.contains("moderation") {
        &[]
    } else {
        &["chat", "tools", "streaming"]
    };
    caps.iter().map(|c| c.to_string()).collect()
}

/// The models the key may use.
pub fn list() -> Result<Vec<ModelInfo>> {
    let models: Models = client()?.get("models").json()?;
    let mut models: Vec<ModelInfo> = models
        .data
        .into_iter()
        .map(|m| ModelInfo {
            capabilities: capabilities(&m.id),
            name: m.id.clone(),
            id: m.id,
            context_window: None,
        })
        .collect();
    models.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(models)
}

/// The connection check: the model list answers with the key's models.
pub fn count() -> Result<usize> {
    Ok(client()?.get("models").json::<Models>()?.data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_types_and_model_capabilities() {
        assert_eq!(audio_type("memo.M4A"), "audio/mp4");
        assert_eq!(audio_type("call.wav"), "audio/wav");
        assert_eq!(audio_type("noextension"), "application/octet-stream");
        assert_eq!(capabilities("text-embedding-3-small"), ["embedding"]);
        assert_eq!(capabilities("gpt-4o-mini-transcribe"), ["transcription"]);
        assert_eq!(capabilities("gpt-image-1"), ["image-generation"]);
        assert!(capabilities("gpt-4o").contains(&"tools".to_string()));
    }
}
