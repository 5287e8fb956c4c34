//! `log`: guest records into `tracing`, tagged and scrubbed.

use patchbay_contract::bindings::patchbay::connector::log::{self as wit, Field, Level};
use wasmtime::component::HasData;

use crate::grant::CallGrant;

/// What `log` sees of a call: who writes, and how many records it may.
pub(crate) struct LogView<'a> {
    pub provider: &'a str,
    pub call_id: &'a str,
    pub grant: Option<&'a CallGrant>,
    /// Records written so far in this call.
    pub records: &'a mut u32,
    pub limit: u32,
    /// Bytes of log text written so far in this call.
    pub bytes: &'a mut usize,
    pub byte_limit: usize,
    /// CPU the host spent on the guest's behalf.
    pub host_cpu: &'a mut std::time::Duration,
}

/// Links `log` to a [`LogView`].
pub(crate) struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

/// Longest message kept from a guest record, in bytes.
const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Fields kept from a guest record.
const MAX_FIELDS: usize = 32;
/// Longest field key and value kept, in bytes.
const MAX_FIELD_KEY_BYTES: usize = 64;
const MAX_FIELD_VALUE_BYTES: usize = 1024;

/// `text` cut to at most `max` bytes on a character boundary, marked.
fn truncated(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" [truncated]");
    }
    text
}

/// At most `max` bytes of `text`, on a character boundary, before scrubbing
/// (so that a huge value costs the host nothing to scrub).
fn prefix(text: &str, max: usize) -> &str {
    let mut cut = text.len().min(max);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

fn enabled(level: Level) -> bool {
    match level {
        Level::Trace => tracing::enabled!(target: "patchbay::plugin", tracing::Level::TRACE),
        Level::Debug => tracing::enabled!(target: "patchbay::plugin", tracing::Level::DEBUG),
        Level::Info => tracing::enabled!(target: "patchbay::plugin", tracing::Level::INFO),
        Level::Warn => tracing::enabled!(target: "patchbay::plugin", tracing::Level::WARN),
        Level::Error => tracing::enabled!(target: "patchbay::plugin", tracing::Level::ERROR),
    }
}

impl LogView<'_> {
    /// Writes one guest record (from `log.write` or captured stdio).
    pub(crate) fn record(&mut self, level: Level, message: &str, fields: &[Field]) {
        *self.records += 1;
        let limit = self.limit;
        if *self.records > limit {
            if *self.records == limit + 1 {
                tracing::warn!(provider = %self.provider, call = %self.call_id, limit, "plugin log limit reached; further records of this call are dropped");
            }
            return;
        }
        if !enabled(level) {
            return;
        }
        let started = std::time::Instant::now();
        let grant = self.grant;
        let scrub = |text: &str, max: usize| {
            // Scrub a little more than is kept, so that a secret across the
            // cut is still found whole.
            let text = prefix(text, max.saturating_mul(2));
            truncated(
                match grant {
                    Some(connection) => connection.redactor.scrub(text),
                    None => text.to_string(),
                },
                max,
            )
        };
        let message = scrub(message, MAX_MESSAGE_BYTES);
        let dropped = fields.len().saturating_sub(MAX_FIELDS);
        let mut shown = fields
            .iter()
            .take(MAX_FIELDS)
            .map(|f| {
                format!(
                    "{}={}",
                    scrub(&f.key, MAX_FIELD_KEY_BYTES),
                    scrub(&f.value, MAX_FIELD_VALUE_BYTES)
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        if dropped > 0 {
            shown.push_str(&format!(" [{dropped} more fields dropped]"));
        }
        let fields = shown;
        *self.host_cpu += started.elapsed();
        let size = message.len() + fields.len();
        if *self.bytes + size > self.byte_limit {
            if *self.bytes <= self.byte_limit {
                tracing::warn!(provider = %self.provider, call = %self.call_id, limit = self.byte_limit, "plugin log bytes limit reached; further records of this call are dropped");
                *self.bytes = self.byte_limit + 1;
            }
            return;
        }
        *self.bytes += size;
        let connection = self.grant.map(|c| c.id.as_str()).unwrap_or("-");
        let (provider, call) = (self.provider, self.call_id);
        macro_rules! emit {
            ($level:ident) => {
                tracing::$level!(target: "patchbay::plugin", provider, connection, call, fields = %fields, "{message}")
            };
        }
        match level {
            Level::Trace => emit!(trace),
            Level::Debug => emit!(debug),
            Level::Info => emit!(info),
            Level::Warn => emit!(warn),
            Level::Error => emit!(error),
        }
    }
}

impl wit::Host for LogView<'_> {
    async fn write(&mut self, level: Level, message: String, fields: Vec<Field>) -> wasmtime::Result<()> {
        self.record(level, &message, &fields);
        Ok(())
    }
}
