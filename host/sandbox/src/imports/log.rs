//! `log`: guest records into `tracing`, tagged and scrubbed.

use crate::state::CallState;
use patchbay_contract::bindings::patchbay::connector::log::{self as wit, Field, Level};

/// Longest message kept from a guest record, in bytes.
const MAX_MESSAGE_BYTES: usize = 8 * 1024;

impl CallState {
    /// Writes one guest record (from `log.write` or captured stdio).
    pub(crate) fn guest_log(&mut self, level: Level, message: &str, fields: &[Field]) {
        let ctx = &mut self.ctx;
        ctx.log_records += 1;
        let limit = ctx.limits.max_log_records_per_call;
        if ctx.log_records > limit {
            if ctx.log_records == limit + 1 {
                tracing::warn!(provider = %ctx.provider, call = %ctx.call_id, limit, "plugin log limit reached; further records of this call are dropped");
            }
            return;
        }
        let scrub = |text: &str| match &ctx.connection {
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
        let connection = ctx.connection.as_ref().map(|c| c.id.as_str()).unwrap_or("-");
        let (provider, call) = (&*ctx.provider, ctx.call_id.as_str());
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

impl wit::Host for CallState {
    async fn write(&mut self, level: Level, message: String, fields: Vec<Field>) -> wasmtime::Result<()> {
        self.guest_log(level, &message, &fields);
        Ok(())
    }
}
