//! Chat completions (`POST chat/completions`): the conversation, tools,
//! structured output and options as OpenAI takes them; the answer, whole or
//! streamed as server-sent events.
//! <https://platform.openai.com/docs/api-reference/chat>

use patchbay_sdk::http::idempotency_key;
use patchbay_sdk::llm::{self, ToolCallParts, ToolChoice, json_object, sampling};
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::{Detail, client};

fn message(index: usize, message: &ChatMessage) -> Result<Value> {
    let mut wire = Map::new();
    let role = match message.role {
        ChatRole::System => "system",
        ChatRole::User => "user",
        ChatRole::Assistant => "assistant",
        ChatRole::Tool => "tool",
    };
    wire.insert("role".into(), json!(role));
    match message.role {
        ChatRole::Assistant if !message.tool_calls.is_empty() => {
            let calls = message
                .tool_calls
                .iter()
                .map(|call| {
                    json!({
                        "id": call.id,
                        "type": "function",
                        "function": { "name": call.name, "arguments": call.arguments_json },
                    })
                })
                .collect::<Vec<_>>();
            wire.insert("tool_calls".into(), Value::Array(calls));
            let content = if message.content.is_empty() {
                Value::Null
            } else {
                json!(message.content)
            };
            wire.insert("content".into(), content);
        }
        ChatRole::Tool => {
            wire.insert("tool_call_id".into(), json!(llm::tool_call_id(index, message)?));
            wire.insert("content".into(), json!(message.content));
        }
        _ => {
            wire.insert("content".into(), json!(message.content));
        }
    }
    if let Some(name) = message.name.as_deref().filter(|n| !n.is_empty()) {
        wire.insert("name".into(), json!(name));
    }
    Ok(Value::Object(wire))
}

/// The request body of a completion.
pub fn body(messages: &[ChatMessage], model: &str, options: &CompletionOptions, stream: bool) -> Result<Value> {
    if messages.is_empty() {
        return Err(Error::Validation("messages: at least one message is needed".into()));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    let wire = messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(i, m))
        .collect::<Result<Vec<_>>>()?;
    body.insert("messages".into(), Value::Array(wire));
    if let Some(t) = options.temperature {
        body.insert("temperature".into(), sampling(t));
    }
    if let Some(p) = options.top_p {
        body.insert("top_p".into(), sampling(p));
    }
    if let Some(max) = options.max_tokens {
        let name = config::get_or("max_tokens_parameter", "max_completion_tokens")?;
        body.insert(name, json!(max));
    }
    if !options.stop.is_empty() {
        body.insert("stop".into(), json!(options.stop));
    }
    if !options.tools.is_empty() {
        let tools = options
            .tools
            .iter()
            .enumerate()
            .map(|(i, tool)| {
                let parameters = llm::tool_parameters(i, tool)?;
                Ok(json!({
                    "type": "function",
                    "function": { "name": tool.name, "description": tool.description, "parameters": parameters },
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = llm::tool_choice(options)? {
        let choice = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Tool(name) => json!({ "type": "function", "function": { "name": name } }),
        };
        body.insert("tool_choice".into(), choice);
    }
    if let Some(schema) = options.response_schema.as_deref()
        && let Some(schema) = json_object(schema, "options.response-schema")?
    {
        body.insert(
            "response_format".into(),
            json!({ "type": "json_schema", "json_schema": { "name": "response", "schema": schema } }),
        );
    }
    if stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    // Provider options last: they may set anything above (`seed`,
    // `reasoning_effort`, a strict `response_format`, ...).
    if let Some(extra) = json_object(&options.extra, "options.extra")? {
        body.extend(extra);
    }
    Ok(Value::Object(body))
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    model: String,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: String,
    function: Function,
}

#[derive(Deserialize)]
struct Function {
    name: String,
    #[serde(default)]
    arguments: String,
}

/// Token counts as OpenAI reports them.
#[derive(Deserialize, Clone, Copy)]
pub struct Usage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    #[serde(default)]
    total_tokens: u32,
}

impl From<Usage> for TokenUsage {
    fn from(u: Usage) -> Self {
        TokenUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens.max(u.prompt_tokens + u.completion_tokens),
        }
    }
}

/// A refusal (structured outputs) is the answer's text, with its own
/// finish reason.
fn answer(completion: Completion, asked_model: &str) -> Result<LlmResponse> {
    let model = if completion.model.is_empty() {
        asked_model.to_string()
    } else {
        completion.model
    };
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| Error::provider("the completion has no choices"))?;
    let refused = choice.message.content.is_none() && choice.message.refusal.is_some();
    Ok(LlmResponse {
        content: choice.message.content.or(choice.message.refusal).unwrap_or_default(),
        model,
        usage: completion.usage.map(TokenUsage::from),
        finish_reason: if refused {
            Some("refusal".into())
        } else {
            choice.finish_reason
        },
        tool_calls: choice
            .message
            .tool_calls
            .into_iter()
            .map(|call| ToolCall {
                id: call.id,
                name: call.function.name,
                arguments_json: if call.function.arguments.trim().is_empty() {
                    "{}".into()
                } else {
                    call.function.arguments
                },
            })
            .collect(),
    })
}

/// A whole completion.
pub fn complete(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
    let model = llm::model(model, "default_model", "gpt-4o-mini")?;
    let body = body(&messages, &model, &options, false)?;
    // A completion changes nothing at OpenAI: the key lets the host retry
    // the POST after a 429 or a 5xx.
    let completion: Completion = client()?
        .post("chat/completions")
        .idempotency_key(idempotency_key("chat"))
        .body_json(&body)?
        .json()?;
    answer(completion, &model)
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: String,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Detail>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<DeltaToolCall>,
}

#[derive(Deserialize)]
struct DeltaToolCall {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<DeltaFunction>,
}

#[derive(Deserialize)]
struct DeltaFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// The answer being put together from a stream's chunks.
#[derive(Default)]
pub struct Assembly {
    model: String,
    content: String,
    tools: ToolCallParts,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

impl llm::Assembly for Assembly {
    fn take(&mut self, data: &str) -> Result<String> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(String::new());
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|e| Error::provider(format!("a streamed chunk is not the expected JSON: {e}")))?;
        if let Some(error) = chunk.error {
            return Err(error.error(None, None));
        }
        if !chunk.model.is_empty() {
            self.model = chunk.model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage);
        }
        let mut text = String::new();
        // One answer is asked for (no `n`): its choice is index 0.
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(delta) = choice.delta.content.or(choice.delta.refusal) {
                text.push_str(&delta);
            }
            for call in choice.delta.tool_calls {
                let function = call.function.unwrap_or(DeltaFunction {
                    name: None,
                    arguments: None,
                });
                self.tools.push(
                    call.index,
                    call.id.as_deref(),
                    function.name.as_deref(),
                    function.arguments.as_deref().unwrap_or_default(),
                );
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
        }
        self.content.push_str(&text);
        Ok(text)
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn finish(self, asked_model: &str) -> Result<(LlmResponse, StreamChunk)> {
        let Some(finish_reason) = self.finish_reason else {
            return Err(Error::provider(
                "the stream ended before the answer was complete (no finish reason)",
            ));
        };
        let tool_calls = self.tools.finish()?;
        let last = StreamChunk {
            content_delta: String::new(),
            tool_calls: tool_calls.clone(),
            finish_reason: Some(finish_reason.clone()),
        };
        let response = LlmResponse {
            content: self.content,
            model: if self.model.is_empty() {
                asked_model.to_string()
            } else {
                self.model
            },
            usage: self.usage.map(TokenUsage::from),
            finish_reason: Some(finish_reason),
            tool_calls,
        };
        Ok((response, last))
    }
}

/// A streamed completion: each piece of text goes to the caller as it
/// arrives; the last chunk carries the tool calls and the finish reason,
/// the return value the whole answer with its token usage.
pub fn stream(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
    let model = llm::model(model, "default_model", "gpt-4o-mini")?;
    let body = body(&messages, &model, &options, true)?;
    let events = client()?
        .post("chat/completions")
        .idempotency_key(idempotency_key("chat"))
        .body_json(&body)?
        .stream()?
        .events();
    llm::relay(events, Assembly::default(), &model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_sdk::llm::Assembly as _;

    fn options() -> CompletionOptions {
        CompletionOptions {
            temperature: Some(0.7),
            max_tokens: None,
            top_p: None,
            stop: vec!["END".into()],
            tools: vec![ToolDefinition {
                name: "get_weather".into(),
                description: "Weather of a city".into(),
                parameters_json: r#"{"type":"object","properties":{"city":{"type":"string"}}}"#.into(),
            }],
            tool_choice: Some("get_weather".into()),
            response_schema: None,
            extra: r#"{"seed": 7}"#.into(),
        }
    }

    fn text(role: ChatRole, content: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: content.into(),
            name: None,
            tool_call_id: None,
            tool_calls: Vec::new(),
        }
    }

    #[test]
    fn a_conversation_with_tools_becomes_openais_body() {
        let mut assistant = text(ChatRole::Assistant, "");
        assistant.tool_calls.push(ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments_json: r#"{"city":"Paris"}"#.into(),
        });
        let mut tool = text(ChatRole::Tool, "18 C");
        tool.tool_call_id = Some("call_1".into());
        let messages = vec![
            text(ChatRole::System, "Be brief."),
            text(ChatRole::User, "Weather in Paris?"),
            assistant,
            tool,
        ];
        let body = body(&messages, "gpt-4o-mini", &options(), true).unwrap();
        assert_eq!(body["messages"][0], json!({"role": "system", "content": "Be brief."}));
        assert_eq!(body["messages"][2]["content"], Value::Null);
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            r#"{"city":"Paris"}"#
        );
        assert_eq!(
            body["messages"][3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "18 C"})
        );
        assert_eq!(body["temperature"], json!(0.7));
        assert_eq!(body["stop"], json!(["END"]));
        assert_eq!(
            body["tools"][0]["function"]["parameters"]["properties"]["city"]["type"],
            "string"
        );
        assert_eq!(
            body["tool_choice"],
            json!({"type": "function", "function": {"name": "get_weather"}})
        );
        assert_eq!(body["stream_options"], json!({"include_usage": true}));
        assert_eq!(body["seed"], 7);
        let mut orphan = text(ChatRole::Tool, "x");
        orphan.tool_call_id = None;
        let error = super::body(&[orphan], "m", &options(), false).unwrap_err();
        assert!(
            matches!(&error, Error::Validation(m) if m.contains("messages[0]")),
            "{error:?}"
        );
        let mut bad = options();
        bad.response_schema = Some("[1]".into());
        let error = super::body(&messages, "m", &bad, false).unwrap_err();
        assert!(
            matches!(&error, Error::Validation(m) if m.contains("response-schema")),
            "{error:?}"
        );
    }

    #[test]
    fn streamed_chunks_assemble_into_the_answer() {
        let mut assembly = Assembly::default();
        let events = [
            r#"{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            r#"{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
            r#"{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
            r#"{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"lookup","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":1}"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"id":"c","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"#,
            "[DONE]",
        ];
        let texts: Vec<String> = events.iter().map(|e| assembly.take(e).unwrap()).collect();
        assert_eq!(texts[1..3], ["Hel".to_string(), "lo".to_string()]);
        assert!(assembly.is_done());
        let (response, last) = assembly.finish("asked").unwrap();
        assert_eq!(response.content, "Hello");
        assert_eq!(response.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(response.tool_calls[0].arguments_json, r#"{"q":1}"#);
        assert_eq!(response.usage.unwrap().total_tokens, 12);
        assert_eq!(last.tool_calls.len(), 1);
        let mut cut = Assembly::default();
        cut.take(r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#)
            .unwrap();
        assert!(cut.finish("m").is_err(), "a stream cut short is an error");
        let mut failed = Assembly::default();
        let error = failed
            .take(r#"{"error":{"message":"The server had an error","type":"server_error"}}"#)
            .unwrap_err();
        assert!(matches!(error, Error::Provider(_)), "{error:?}");
    }
}
