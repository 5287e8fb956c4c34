//! What LLM plugins share: the model a call uses, the contract's JSON
//! fields, handing streamed chunks to the caller, and putting together tool
//! calls that providers stream in pieces.

use serde_json::{Map, Value};

use crate::bindings::imports::patchbay::connector::stream_sink;
use crate::types::{LlmResponse, StreamChunk, ToolCall};
use crate::{Error, Result, config};

/// The model a call names, or else the connection's setting `setting`,
/// or else `default`.
pub fn model(asked: Option<String>, setting: &str, default: &str) -> Result<String> {
    match asked.map(|m| m.trim().to_string()).filter(|m| !m.is_empty()) {
        Some(model) => Ok(model),
        None => config::get_or(setting, default),
    }
}

/// One of the contract's `json` fields (`parameters-json`,
/// `response-schema`, `extra`) that must hold an object: `None` when empty
/// or `null`, a `validation` error naming `place` otherwise.
pub fn json_object(text: &str, place: &str) -> Result<Option<Map<String, Value>>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(Some(object)),
        Ok(Value::Null) => Ok(None),
        Ok(_) => Err(Error::Validation(format!("{place}: expected a JSON object"))),
        Err(e) => Err(Error::Validation(format!("{place}: not valid JSON: {e}"))),
    }
}

/// The tool call a `tool` message answers (`messages[index]`), required.
pub fn tool_call_id(index: usize, message: &crate::types::ChatMessage) -> Result<&str> {
    message
        .tool_call_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::Validation(format!(
                "messages[{index}]: a tool message needs the tool-call-id it answers"
            ))
        })
}

/// The JSON Schema of tool `index`'s arguments; a tool without one takes
/// an empty object.
pub fn tool_parameters(index: usize, tool: &crate::types::ToolDefinition) -> Result<Map<String, Value>> {
    Ok(json_object(
        &tool.parameters_json,
        &format!("options.tools[{index}].parameters-json"),
    )?
    .unwrap_or_else(|| {
        let mut empty = Map::new();
        empty.insert("type".into(), Value::from("object"));
        empty.insert("properties".into(), Value::Object(Map::new()));
        empty
    }))
}

/// What `completion-options.tool-choice` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolChoice<'a> {
    /// The model decides.
    Auto,
    /// No tool.
    None,
    /// Some tool.
    Required,
    /// This tool.
    Tool(&'a str),
}

/// The tool choice of `options`, checked: `auto`, `none`, `required` or the
/// name of one of its tools; `None` when not set.
pub fn tool_choice(options: &crate::types::CompletionOptions) -> Result<Option<ToolChoice<'_>>> {
    let Some(choice) = options.tool_choice.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(match choice {
        "auto" => ToolChoice::Auto,
        "none" => ToolChoice::None,
        "required" => ToolChoice::Required,
        name if options.tools.iter().any(|t| t.name == name) => ToolChoice::Tool(name),
        other => {
            return Err(Error::Validation(format!(
                "options.tool-choice: {other:?} is neither auto, none, required nor one of the tools"
            )));
        }
    }))
}

/// A sampling parameter (`temperature`, `top-p`) as JSON, without the
/// noise of its `f32` (0.7, not 0.699999988).
pub fn sampling(value: f32) -> Value {
    let rounded = (f64::from(value) * 1e6).round() / 1e6;
    serde_json::Number::from_f64(rounded).map_or(Value::Null, Value::Number)
}

/// Hands one chunk of a streamed answer to the caller, at once and in
/// order (`stream-sink.emit`).
pub fn emit(chunk: &StreamChunk) {
    stream_sink::emit(chunk);
}

/// Hands a piece of text to the caller as a chunk of its own; empty text
/// is not sent.
pub fn emit_text(text: &str) {
    if !text.is_empty() {
        emit(&StreamChunk {
            content_delta: text.to_string(),
            tool_calls: Vec::new(),
            finish_reason: None,
        });
    }
}

/// A provider's stream being put together into the answer: each event's
/// data goes in, the text it adds comes out (to hand on at once).
pub trait Assembly {
    /// Takes one event's data; the text it adds.
    fn take(&mut self, data: &str) -> Result<String>;
    /// Whether the provider said the stream is over.
    fn is_done(&self) -> bool;
    /// The whole answer, and the last chunk, which says why it ended.
    fn finish(self, asked_model: &str) -> Result<(LlmResponse, StreamChunk)>;
}

/// Relays a streamed answer to the caller: each event into `assembly`, its
/// text to the caller as it arrives, until the provider says it is over;
/// then the last chunk, and the whole answer for the return value.
pub fn relay(events: crate::sse::Events, mut assembly: impl Assembly, asked_model: &str) -> Result<LlmResponse> {
    for event in events {
        let text = assembly.take(&event?.data)?;
        emit_text(&text);
        if assembly.is_done() {
            break;
        }
    }
    let (response, last) = assembly.finish(asked_model)?;
    emit(&last);
    Ok(response)
}

/// Tool calls streamed in pieces, each piece naming the call's index in
/// the answer: its id and name once, its JSON arguments in fragments
/// (OpenAI's `delta.tool_calls`, Anthropic's `input_json_delta`).
#[derive(Debug, Default, Clone)]
pub struct ToolCallParts {
    calls: Vec<(u32, ToolCall)>,
}

impl ToolCallParts {
    /// Adds a piece of the call at `index`.
    pub fn push(&mut self, index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) {
        let at = match self.calls.iter().position(|(i, _)| *i == index) {
            Some(at) => at,
            None => {
                self.calls.push((
                    index,
                    ToolCall {
                        id: String::new(),
                        name: String::new(),
                        arguments_json: String::new(),
                    },
                ));
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at].1;
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            call.id = id.to_string();
        }
        if let Some(name) = name.filter(|name| !name.is_empty()) {
            call.name.push_str(name);
        }
        call.arguments_json.push_str(arguments);
    }

    /// Whether no piece arrived.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The calls in index order, their arguments checked to be a JSON
    /// object (no arguments: `{}`).
    pub fn finish(self) -> Result<Vec<ToolCall>> {
        let mut calls = self.calls;
        calls.sort_by_key(|(index, _)| *index);
        calls
            .into_iter()
            .map(|(_, mut call)| {
                if call.arguments_json.trim().is_empty() {
                    call.arguments_json = "{}".into();
                }
                match serde_json::from_str::<serde_json::Value>(&call.arguments_json) {
                    Ok(serde_json::Value::Object(_)) => Ok(call),
                    _ => Err(Error::provider(format!(
                        "the provider streamed arguments of tool call {:?} ({}) that are not a JSON object",
                        call.id, call.name
                    ))),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_and_sampling_parameters() {
        assert!(json_object("", "x").unwrap().is_none());
        assert!(json_object("null", "x").unwrap().is_none());
        assert_eq!(json_object(r#"{"a":1}"#, "x").unwrap().unwrap()["a"], 1);
        let error = json_object("[1]", "options.extra").unwrap_err();
        assert!(
            matches!(&error, Error::Validation(m) if m.starts_with("options.extra")),
            "{error:?}"
        );
        assert_eq!(sampling(0.7), serde_json::json!(0.7));
    }

    #[test]
    fn streamed_tool_calls_are_put_together_by_index() {
        let mut parts = ToolCallParts::default();
        parts.push(1, Some("call_b"), Some("lookup"), "");
        parts.push(0, Some("call_a"), Some("get_weather"), "{\"ci");
        parts.push(1, None, None, "");
        parts.push(0, None, None, "ty\":\"Paris\"}");
        let calls = parts.finish().unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (
                calls[0].id.as_str(),
                calls[0].name.as_str(),
                calls[0].arguments_json.as_str()
            ),
            ("call_a", "get_weather", "{\"city\":\"Paris\"}")
        );
        assert_eq!(calls[1].arguments_json, "{}");
        let mut broken = ToolCallParts::default();
        broken.push(0, Some("c"), Some("f"), "{\"cut");
        assert!(broken.finish().is_err());
    }
}
