//! Messages (`POST messages`): the conversation as Anthropic takes it
//! (system prompts apart, tool results as user content blocks, turns
//! alternating), tools, a JSON answer to a schema through a forced tool, and
//! the answer, whole or streamed as typed server-sent events.
//! <https://docs.anthropic.com/en/api/messages>,
//! <https://docs.anthropic.com/en/docs/build-with-claude/streaming>

use patchbay_sdk::http::idempotency_key;
use patchbay_sdk::llm::{self, ToolCallParts, ToolChoice, json_object, sampling};
use patchbay_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::{Detail, client};

/// The tool a JSON answer to `response-schema` is asked through.
pub const ANSWER_TOOL: &str = "respond_with_json";

/// A tool call's arguments as the object Anthropic's `input` is.
fn input(call: &ToolCall, place: &str) -> Result<Value> {
    Ok(Value::Object(
        json_object(&call.arguments_json, place)?.unwrap_or_default(),
    ))
}

/// The content blocks of one message.
fn blocks(index: usize, message: &ChatMessage) -> Result<Vec<Value>> {
    let mut blocks = Vec::new();
    match message.role {
        ChatRole::Tool => {
            let id = llm::tool_call_id(index, message)?;
            blocks.push(json!({ "type": "tool_result", "tool_use_id": id, "content": message.content }));
        }
        _ => {
            if !message.content.is_empty() {
                blocks.push(json!({ "type": "text", "text": message.content }));
            }
            for (i, call) in message.tool_calls.iter().enumerate() {
                let place = format!("messages[{index}].tool-calls[{i}].arguments-json");
                blocks.push(
                    json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": input(call, &place)? }),
                );
            }
        }
    }
    Ok(blocks)
}

/// The system prompt and the turns: system messages join the prompt, tool
/// results ride in user turns, and consecutive turns of one role merge
/// (Anthropic wants them alternating).
fn conversation(messages: &[ChatMessage]) -> Result<(String, Vec<Value>)> {
    let mut system = Vec::new();
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let role = match message.role {
            ChatRole::System => {
                system.push(message.content.as_str());
                continue;
            }
            ChatRole::User | ChatRole::Tool => "user",
            ChatRole::Assistant => "assistant",
        };
        let content = blocks(index, message)?;
        match turns.last_mut() {
            Some((last, blocks)) if *last == role => blocks.extend(content),
            _ => turns.push((role, content)),
        }
    }
    if turns.is_empty() {
        return Err(Error::Validation(
            "messages: at least one user message is needed besides system prompts".into(),
        ));
    }
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    Ok((system.join("\n\n"), turns))
}

/// The request body of a message.
pub fn body(messages: &[ChatMessage], model: &str, options: &CompletionOptions, stream: bool) -> Result<Value> {
    let (system, turns) = conversation(messages)?;
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    let max_tokens = match options.max_tokens {
        Some(max) => max,
        None => {
            let setting = config::get_or("max_tokens", "4096")?;
            setting
                .parse()
                .map_err(|_| Error::Config(format!("the setting max_tokens is not a whole number: {setting:?}")))?
        }
    };
    body.insert("max_tokens".into(), json!(max_tokens));
    if !system.is_empty() {
        body.insert("system".into(), json!(system));
    }
    body.insert("messages".into(), Value::Array(turns));
    if let Some(t) = options.temperature {
        body.insert("temperature".into(), sampling(t));
    }
    if let Some(p) = options.top_p {
        body.insert("top_p".into(), sampling(p));
    }
    if !options.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(options.stop));
    }
    let mut tools = options
        .tools
        .iter()
        .enumerate()
        .map(|(i, tool)| {
            let schema = llm::tool_parameters(i, tool)?;
            Ok(json!({ "name": tool.name, "description": tool.description, "input_schema": schema }))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut tool_choice = llm::tool_choice(options)?.map(|choice| match choice {
        ToolChoice::Auto => json!({ "type": "auto" }),
        ToolChoice::None => json!({ "type": "none" }),
        ToolChoice::Required => json!({ "type": "any" }),
        ToolChoice::Tool(name) => json!({ "type": "tool", "name": name }),
    });
    // A JSON answer: Anthropic's documented way is a tool whose input is
    // the answer, which the model is made to call.
    if let Some(schema) = options.response_schema.as_deref()
        && let Some(schema) = json_object(schema, "options.response-schema")?
    {
        tools.push(json!({
            "name": ANSWER_TOOL,
            "description": "Give the answer as JSON following this schema.",
            "input_schema": schema,
        }));
        tool_choice = Some(json!({ "type": "tool", "name": ANSWER_TOOL }));
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = tool_choice {
        body.insert("tool_choice".into(), choice);
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    if let Some(extra) = json_object(&options.extra, "options.extra")? {
        body.extend(extra);
    }
    Ok(Value::Object(body))
}

/// Anthropic's stop reasons in the contract's words: `stop`, `length`,
/// `tool_calls`; others (`refusal`, `pause_turn`) as they are.
pub fn finish_reason(stop_reason: &str) -> String {
    match stop_reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        other => other,
    }
    .to_string()
}

#[derive(Deserialize, Clone, Copy, Default)]
struct Usage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
    #[serde(default)]
    cache_creation_input_tokens: u32,
    #[serde(default)]
    cache_read_input_tokens: u32,
}

impl Usage {
    fn tokens(self) -> TokenUsage {
        let prompt = self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens;
        TokenUsage {
            prompt_tokens: prompt,
            completion_tokens: self.output_tokens,
            total_tokens: prompt + self.output_tokens,
        }
    }
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    model: String,
    #[serde(default)]
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

/// The answer, with a forced JSON tool's input turned back into the text.
fn answer(message: Message, asked_model: &str, json_answer: bool) -> LlmResponse {
    let mut content = String::new();
    let mut tool_calls = Vec::new();
    for block in message.content {
        match block {
            Block::Text { text } => content.push_str(&text),
            Block::ToolUse { name, input, .. } if json_answer && name == ANSWER_TOOL => {
                content = input.to_string();
            }
            Block::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                name,
                arguments_json: input.to_string(),
            }),
            Block::Other => {}
        }
    }
    let finish = message.stop_reason.as_deref().map(|reason| match reason {
        "tool_use" if json_answer && tool_calls.is_empty() => "stop".to_string(),
        other => finish_reason(other),
    });
    LlmResponse {
        content,
        model: if message.model.is_empty() {
            asked_model.to_string()
        } else {
            message.model
        },
        usage: message.usage.map(Usage::tokens),
        finish_reason: finish,
        tool_calls,
    }
}

/// A whole message.
pub fn complete(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
    let model = llm::model(model, "default_model", "claude-sonnet-4-5")?;
    let body = body(&messages, &model, &options, false)?;
    // A message changes nothing at Anthropic: the key lets the host retry
    // the POST after a 529 overloaded, a 429 or a 5xx.
    let message: Message = client()?
        .post("messages")
        .idempotency_key(idempotency_key("message"))
        .body_json(&body)?
        .json()?;
    Ok(answer(message, &model, options.response_schema.is_some()))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: Message,
    },
    ContentBlockStart {
        index: u32,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u32,
        delta: Delta,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDelta,
        #[serde(default)]
        usage: Option<Usage>,
    },
    MessageStop,
    Error {
        error: Detail,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Delta {
    #[serde(rename = "text_delta")]
    Text { text: String },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: String },
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct MessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// The answer being put together from a stream's events.
pub struct Assembly {
    json_answer: bool,
    model: String,
    content: String,
    tools: ToolCallParts,
    /// The block index of a forced JSON answer, whose input is the text.
    answer_block: Option<u32>,
    stop_reason: Option<String>,
    usage: Usage,
    has_usage: bool,
    done: bool,
}

impl Assembly {
    /// An assembly for an answer that is JSON through the forced tool when
    /// `json_answer`.
    pub fn new(json_answer: bool) -> Self {
        Self {
            json_answer,
            model: String::new(),
            content: String::new(),
            tools: ToolCallParts::default(),
            answer_block: None,
            stop_reason: None,
            usage: Usage::default(),
            has_usage: false,
            done: false,
        }
    }
}

impl llm::Assembly for Assembly {
    fn take(&mut self, data: &str) -> Result<String> {
        let event: Event = serde_json::from_str(data)
            .map_err(|e| Error::provider(format!("a streamed event is not the expected JSON: {e}")))?;
        let mut text = String::new();
        match event {
            Event::MessageStart { message } => {
                self.model = message.model;
                if let Some(usage) = message.usage {
                    self.usage = usage;
                    self.has_usage = true;
                }
            }
            Event::ContentBlockStart { index, content_block } => match content_block {
                Block::Text { text: start } => text = start,
                Block::ToolUse { name, .. } if self.json_answer && name == ANSWER_TOOL => {
                    self.answer_block = Some(index);
                }
                Block::ToolUse { id, name, .. } => self.tools.push(index, Some(&id), Some(&name), ""),
                Block::Other => {}
            },
            Event::ContentBlockDelta { index, delta } => match delta {
                Delta::Text { text: delta } => text = delta,
                Delta::InputJson { partial_json } if self.answer_block == Some(index) => text = partial_json,
                Delta::InputJson { partial_json } => self.tools.push(index, None, None, &partial_json),
                Delta::Other => {}
            },
            Event::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(usage) = usage {
                    // The counts here are cumulative output tokens.
                    self.usage.output_tokens = usage.output_tokens;
                    self.has_usage = true;
                }
            }
            Event::MessageStop => self.done = true,
            Event::Error { error } => return Err(error.error(None, None)),
            Event::Other => {}
        }
        self.content.push_str(&text);
        Ok(text)
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn finish(self, asked_model: &str) -> Result<(LlmResponse, StreamChunk)> {
        let Some(stop_reason) = self.stop_reason.filter(|_| self.done) else {
            return Err(Error::provider(
                "the stream ended before the answer was complete (no message_stop)",
            ));
        };
        let tool_calls = self.tools.finish()?;
        let finish = if stop_reason == "tool_use" && self.answer_block.is_some() && tool_calls.is_empty() {
            "stop".to_string()
        } else {
            finish_reason(&stop_reason)
        };
        let last = StreamChunk {
            content_delta: String::new(),
            tool_calls: tool_calls.clone(),
            finish_reason: Some(finish.clone()),
        };
        Ok((
            LlmResponse {
                content: self.content,
                model: if self.model.is_empty() {
                    asked_model.to_string()
                } else {
                    self.model
                },
                usage: self.has_usage.then(|| self.usage.tokens()),
                finish_reason: Some(finish),
                tool_calls,
            },
            last,
        ))
    }
}

/// A streamed message: text (or a JSON answer's text) goes to the caller
/// as it arrives; the last chunk carries the tool calls and the finish
/// reason, the return value the whole answer with its token usage.
pub fn stream(messages: Vec<ChatMessage>, model: Option<String>, options: CompletionOptions) -> Result<LlmResponse> {
    let model = llm::model(model, "default_model", "claude-sonnet-4-5")?;
    let body = body(&messages, &model, &options, true)?;
    let events = client()?
        .post("messages")
        .idempotency_key(idempotency_key("message"))
        .body_json(&body)?
        .stream()?
        .events();
    llm::relay(events, Assembly::new(options.response_schema.is_some()), &model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_sdk::llm::Assembly as _;

    fn say(role: ChatRole, content: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: content.into(),
            name: None,
            tool_call_id: None,
            tool_calls: Vec::new(),
        }
    }

    fn options() -> CompletionOptions {
        CompletionOptions {
            temperature: None,
            max_tokens: Some(300),
            top_p: None,
            stop: Vec::new(),
            tools: Vec::new(),
            tool_choice: None,
            response_schema: None,
            extra: String::new(),
        }
    }

    #[test]
    fn system_prompts_tool_results_and_turns_become_anthropics_body() {
        let mut assistant = say(ChatRole::Assistant, "Looking it up.");
        for (id, city) in [("toolu_1", "Paris"), ("toolu_2", "Rome")] {
            assistant.tool_calls.push(ToolCall {
                id: id.into(),
                name: "get_weather".into(),
                arguments_json: format!(r#"{{"city":"{city}"}}"#),
            });
        }
        let mut paris = say(ChatRole::Tool, "18 C");
        paris.tool_call_id = Some("toolu_1".into());
        let mut rome = say(ChatRole::Tool, "24 C");
        rome.tool_call_id = Some("toolu_2".into());
        let messages = [
            say(ChatRole::System, "Be brief."),
            say(ChatRole::System, "Use Celsius."),
            say(ChatRole::User, "Weather in Paris and Rome?"),
            assistant,
            paris,
            rome,
        ];
        let body = body(&messages, "claude-x", &options(), false).unwrap();
        assert_eq!(body["system"], "Be brief.\n\nUse Celsius.");
        assert_eq!(body["max_tokens"], 300);
        let turns = body["messages"].as_array().unwrap();
        assert_eq!(turns.len(), 3, "user, assistant, one user turn with both results");
        assert_eq!(turns[1]["content"][1]["input"], json!({"city": "Paris"}));
        assert_eq!(turns[2]["content"][0]["type"], "tool_result");
        assert_eq!(turns[2]["content"][1]["tool_use_id"], "toolu_2");
        let mut schema = options();
        schema.response_schema = Some(r#"{"type":"object"}"#.into());
        let body = super::body(&messages[2..3], "claude-x", &schema, true).unwrap();
        assert_eq!(body["tool_choice"], json!({"type": "tool", "name": ANSWER_TOOL}));
        assert_eq!(body["stream"], true);
        let error = super::body(&messages[..1], "m", &options(), false).unwrap_err();
        assert!(matches!(error, Error::Validation(_)), "{error:?}");
    }

    #[test]
    fn streamed_events_assemble_into_the_answer() {
        let events = [
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"lookup","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            r#"{"type":"message_stop"}"#,
        ];
        let mut assembly = Assembly::new(false);
        let texts: Vec<String> = events.iter().map(|e| assembly.take(e).unwrap()).collect();
        assert_eq!(texts.concat(), "Hello");
        let (response, last) = assembly.finish("asked").unwrap();
        assert_eq!(response.model, "claude-x");
        assert_eq!(response.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(response.tool_calls[0].arguments_json, r#"{"q":1}"#);
        let usage = response.usage.unwrap();
        assert_eq!(
            (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
            (25, 15, 40)
        );
        assert_eq!(last.finish_reason.as_deref(), Some("tool_calls"));
        let mut overloaded = Assembly::new(false);
        let error = overloaded
            .take(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
            .unwrap_err();
        assert!(matches!(error, Error::Provider(_)), "{error:?}");
        let mut cut = Assembly::new(false);
        cut.take(events[0]).unwrap();
        assert!(cut.finish("m").is_err());
    }
}
