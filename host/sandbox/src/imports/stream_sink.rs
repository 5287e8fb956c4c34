//! `stream-sink`: streamed LLM chunks, handed to the caller in order.

use crate::state::CallState;
use patchbay_contract::bindings::patchbay::connector::llm_types::StreamChunk;
use patchbay_contract::bindings::patchbay::connector::stream_sink as wit;

impl wit::Host for CallState {
    async fn emit(&mut self, chunk: StreamChunk) -> wasmtime::Result<()> {
        if let Some(sink) = &self.ctx.stream {
            // A caller that stopped listening does not fail the call.
            let _ = sink.send(chunk);
        }
        Ok(())
    }
}
