//! `stream-sink`: streamed LLM chunks, handed to the caller in order.

use patchbay_contract::bindings::patchbay::connector::llm_types::StreamChunk;
use patchbay_contract::bindings::patchbay::connector::stream_sink as wit;
use tokio::sync::mpsc::UnboundedSender;
use wasmtime::component::HasData;

/// What `stream-sink` sees of a call: where its chunks go, if anywhere.
pub(crate) struct StreamView<'a> {
    pub sink: Option<&'a UnboundedSender<StreamChunk>>,
}

/// Links `stream-sink` to a [`StreamView`].
pub(crate) struct StreamSink;

impl HasData for StreamSink {
    type Data<'a> = StreamView<'a>;
}

impl wit::Host for StreamView<'_> {
    async fn emit(&mut self, chunk: StreamChunk) -> wasmtime::Result<()> {
        if let Some(sink) = self.sink {
            // A caller that stopped listening does not fail the call.
            let _ = sink.send(chunk);
        }
        Ok(())
    }
}
