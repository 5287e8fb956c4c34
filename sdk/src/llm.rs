//! What LLM plugins share: handing streamed chunks to the caller, and
//! putting together tool calls that providers stream in pieces.

use crate::bindings::imports::patchbay::connector::stream_sink;
use crate::types::{StreamChunk, ToolCall};
use crate::{Error, Result};

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
