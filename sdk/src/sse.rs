//! Server-sent events (the `text/event-stream` format of the HTML
//! standard), read from a streamed body as they arrive: streamed LLM
//! completions come this way.
//!
//! ```no_run
//! use patchbay_sdk::client::Client;
//! use patchbay_sdk::prelude::*;
//!
//! # fn demo(api: Client) -> Result<()> {
//! let events = api.post("chat/completions").body_json(&serde_json::json!({"stream": true}))?.stream()?.events();
//! for event in events {
//!     let event = event?;
//!     if event.data == "[DONE]" {
//!         break;
//!     }
//!     let chunk: serde_json::Value = event.json()?;
//!     // ... emit the chunk's delta
//! #   let _ = chunk;
//! }
//! # Ok(())
//! # }
//! ```

use crate::{Error, Result};

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its type: the `event:` field, `message` when there is none.
    pub event: String,
    /// Its data: the `data:` lines, joined by line feeds.
    pub data: String,
    /// The last `id:` seen, when there was one.
    pub id: Option<String>,
}

impl Event {
    /// The data as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.data).map_err(|e| {
            Error::permanent(format!(
                "the provider's {} event is not the expected JSON: {e}",
                self.event
            ))
        })
    }
}

/// Where an event stream's bytes come from: the next bytes, `None` at the end.
type Source = Box<dyn FnMut() -> Result<Option<Vec<u8>>>>;

/// The events of a stream, each as soon as its blank line has arrived. An
/// event cut off by the end of the stream is not dispatched, as the
/// standard says; an error of the source ends the iteration after it.
pub struct Events {
    source: Source,
    buffer: Vec<u8>,
    ended: bool,
    failed: bool,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl Events {
    /// The events of the bytes `source` hands over, chunk by chunk.
    pub fn new(source: impl FnMut() -> Result<Option<Vec<u8>>> + 'static) -> Self {
        Self {
            source: Box::new(source),
            buffer: Vec::new(),
            ended: false,
            failed: false,
            event: String::new(),
            data: String::new(),
            has_data: false,
            id: None,
        }
    }

    /// The next complete line in the buffer, without its terminator (CRLF,
    /// LF or CR); a CR at the end of the buffer waits for what follows.
    fn line(&mut self) -> Option<String> {
        let end = self.buffer.iter().position(|&b| b == b'\n' || b == b'\r')?;
        let terminator = match (self.buffer[end], self.buffer.get(end + 1)) {
            (b'\r', Some(b'\n')) => 2,
            (b'\r', None) if !self.ended => return None,
            _ => 1,
        };
        let line = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
        self.buffer.drain(..end + terminator);
        Some(line)
    }

    /// Takes one line into the event being built; the event when the line
    /// is the blank one that ends it.
    fn field(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            if !self.has_data {
                self.event.clear();
                return None;
            }
            let event = Event {
                event: if self.event.is_empty() {
                    "message".into()
                } else {
                    std::mem::take(&mut self.event)
                },
                data: std::mem::take(&mut self.data),
                id: self.id.clone(),
            };
            self.has_data = false;
            return Some(event);
        }
        if line.starts_with(':') {
            return None;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = value.to_string(),
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {}
        }
        None
    }
}

impl Iterator for Events {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            while let Some(line) = self.line() {
                if let Some(event) = self.field(&line) {
                    return Some(Ok(event));
                }
            }
            if self.ended || self.failed {
                return None;
            }
            match (self.source)() {
                Ok(Some(chunk)) => {
                    // A byte-order mark may open the stream.
                    let chunk = match (self.buffer.is_empty(), chunk.strip_prefix(b"\xEF\xBB\xBF")) {
                        (true, Some(rest)) => rest.to_vec(),
                        _ => chunk,
                    };
                    self.buffer.extend_from_slice(&chunk);
                }
                Ok(None) => self.ended = true,
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_of(chunks: &[&str]) -> Vec<Event> {
        let mut chunks: std::collections::VecDeque<Vec<u8>> = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
        Events::new(move || Ok(chunks.pop_front()))
            .map(|e| e.unwrap())
            .collect()
    }

    #[test]
    fn events_are_read_across_chunks_with_any_line_ending() {
        let whole =
            "event: message_start\ndata: {\"a\":1}\n\n: a comment\ndata: one\r\ndata:two\r\n\r\nid: 7\rdata: three\r\r";
        let expected = vec![
            Event {
                event: "message_start".into(),
                data: "{\"a\":1}".into(),
                id: None,
            },
            Event {
                event: "message".into(),
                data: "one\ntwo".into(),
                id: None,
            },
            Event {
                event: "message".into(),
                data: "three".into(),
                id: Some("7".into()),
            },
        ];
        assert_eq!(events_of(&[whole]), expected);
        for size in 1..whole.len() {
            let chunks: Vec<&str> = whole
                .as_bytes()
                .chunks(size)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            assert_eq!(events_of(&chunks), expected, "chunks of {size}");
        }
    }

    #[test]
    fn an_event_cut_off_by_the_end_is_not_dispatched_and_errors_end_the_stream() {
        assert_eq!(events_of(&["data: whole\n\ndata: cut"]).len(), 1);
        assert!(events_of(&["event: ping\n\n"]).is_empty(), "no data, no event");
        let mut calls = 0;
        let mut events = Events::new(move || {
            calls += 1;
            match calls {
                1 => Ok(Some(b"data: a\n\n".to_vec())),
                _ => Err(Error::provider("connection reset")),
            }
        });
        assert_eq!(events.next().unwrap().unwrap().data, "a");
        assert!(events.next().unwrap().is_err());
        assert!(events.next().is_none());
    }
}
