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
}

/// Links `log` to a [`LogView`].
pub(crate) struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

/// Longest message kept from a guest record, in bytes.
const MAX_MESSAGE_BYTES: usize = 8 * 1024;

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
        let scrub = |text: &str| match self.grant {
            Some(connection) => connection.redactor.scrub(text),
            None => text.to_string(),
        };
        let mut message = scrub(message);
        if message.len() > MAX_MESSAGE_BYTES {
            let mut cut = MAX_MESSAGE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" [truncated]");
        }
        let fields = fields
            .iter()
            .map(|f| format!("{}={}", f.key, scrub(&f.value)))
            .collect::<Vec<_>>()
            .join(" ");
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
