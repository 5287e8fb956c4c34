//! The state of one call's `Store`: WASI, `wasi:http` and the contract's
//! imports all see the same call context.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::StoreLimits;
use wasmtime::StoreLimitsBuilder;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::grant::CallGrant;
use crate::imports::blobs::BlobsView;
use crate::imports::config::ConfigView;
use crate::imports::crypto::CryptoView;
use crate::imports::file_transfer::FileTransferView;
use crate::imports::http::HttpView;
use crate::imports::kv::KvView;
use crate::imports::log::LogView;
use crate::imports::smtp::SmtpView;
use crate::imports::stream_sink::StreamView;
use crate::imports::{HttpDoor, PipelineHooks, TypesView};
use crate::limits::Limits;
use crate::services::Shared;
use patchbay_contract::types::StreamChunk;

/// Largest `wasi:http` fields (headers) resource, in bytes.
const MAX_FIELDS_BYTES: usize = 16 * 1024;
/// Resources one call may hold at once (streams, fields, requests, ...).
const MAX_RESOURCES: usize = 1024;

/// Bytes of stdout/stderr kept per call before the guest's writes fail.
const STDIO_CAPTURE_BYTES: usize = 64 * 1024;

/// What one call knows: who calls, on which connection, until when.
pub(crate) struct CallContext {
    /// `family/name`.
    pub provider: Arc<str>,
    /// Unique per call, for logs.
    pub call_id: String,
    /// `None` while the host reads a manifest at load time.
    pub connection: Option<Arc<CallGrant>>,
    /// Host-wide services: storage, outbound policy, limits.
    pub services: Arc<Shared>,
    /// When the call must be over.
    pub deadline: Instant,
    /// The limits of this call (the host's, or the plugin's own).
    pub limits: Limits,
    /// Log records written so far.
    pub log_records: u32,
    /// Epoch ticks that found the guest running: its CPU time, in ticks.
    pub cpu_ticks: u64,
    /// CPU the host spent on the guest's behalf (hashing, formatting logs).
    pub host_cpu: std::time::Duration,
    /// Bytes of log text written so far.
    pub log_bytes: usize,
    /// Where streamed LLM chunks go, when the caller listens.
    pub stream: Option<tokio::sync::mpsc::UnboundedSender<StreamChunk>>,
}

/// The data of one call's `Store`: what the guest's imports see. Opaque
/// outside the sandbox; the embedder API names it only as a type parameter.
pub struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_hooks: PipelineHooks,
    table: ResourceTable,
    pub(crate) limits: StoreLimits,
    pub(crate) ctx: CallContext,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl CallState {
    pub(crate) fn new(ctx: CallContext, limits: &Limits) -> Self {
        let stdout = MemoryOutputPipe::new(STDIO_CAPTURE_BYTES);
        let stderr = MemoryOutputPipe::new(STDIO_CAPTURE_BYTES);
        // No environment, no arguments, no preopened directory, no sockets.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let door = HttpDoor::new(
            Arc::clone(&ctx.provider),
            ctx.call_id.clone(),
            ctx.connection.clone(),
            Arc::clone(&ctx.services.outbound),
            ctx.deadline,
            ctx.limits.max_http_requests_per_call,
            ctx.services.spool.clone(),
        );
        let http_hooks = PipelineHooks::new(door, limits.max_wasi_http_bytes_per_call);
        // `wasi:http` fields live on the host: small ones, and not too many
        // resources of any kind.
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(MAX_FIELDS_BYTES);
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let store_limits = StoreLimitsBuilder::new()
            .memory_size(limits.max_memory_bytes)
            .table_elements(limits.max_table_elements)
            .instances(limits.max_instances)
            .tables(limits.max_tables_per_instance as usize * 4)
            .memories(limits.max_memories_per_instance as usize * 4)
            .trap_on_grow_failure(false)
            .build();
        Self {
            wasi,
            http,
            http_hooks,
            table,
            limits: store_limits,
            ctx,
            stdout,
            stderr,
        }
    }

    /// What `http` sees: the call's door, which `wasi:http` shares, and the
    /// resource table its streamed bodies live in.
    pub(crate) fn http_view(&mut self) -> HttpView<'_> {
        HttpView {
            door: self.http_hooks.door(),
            table: &mut self.table,
            caller_gone: self.ctx.stream.as_ref().is_some_and(|sink| sink.is_closed()),
        }
    }

    /// What `blobs` sees: the resource table its blobs live in.
    pub(crate) fn blobs_view(&mut self) -> BlobsView<'_> {
        BlobsView { table: &mut self.table }
    }

    /// Lends `range` to the guest: a blob argument of an exported function.
    /// Fails when the call holds too many resources.
    pub fn lend_blob(
        &mut self,
        range: patchbay_outbound::BlobRange,
    ) -> wasmtime::Result<wasmtime::component::Resource<patchbay_contract::bindings::patchbay::connector::blobs::Blob>>
    {
        crate::imports::blobs::lend(&mut self.table, range)
            .ok_or_else(|| wasmtime::Error::msg(crate::imports::blobs::TOO_MANY))
    }

    /// Takes a blob the guest handed over (an exported function's answer).
    pub fn take_blob(
        &mut self,
        blob: wasmtime::component::Resource<patchbay_contract::bindings::patchbay::connector::blobs::Blob>,
    ) -> wasmtime::Result<patchbay_outbound::BlobRange> {
        crate::imports::blobs::take(&mut self.table, blob)
    }

    /// What `smtp` sees: the call's door, shared with `http`.
    pub(crate) fn smtp_view(&mut self) -> SmtpView<'_> {
        SmtpView {
            door: self.http_hooks.door(),
        }
    }

    /// What `file-transfer` sees: the call's door, shared with `http`, and
    /// the resource table its blobs live in.
    pub(crate) fn file_transfer_view(&mut self) -> FileTransferView<'_> {
        FileTransferView {
            door: self.http_hooks.door(),
            table: &mut self.table,
        }
    }

    /// What `kv` sees.
    pub(crate) fn kv_view(&mut self) -> KvView<'_> {
        let ctx = &self.ctx;
        KvView {
            namespace: ctx.connection.as_deref().map(|c| c.kv_namespace.as_str()),
            store: &ctx.services.kv,
            limits: &ctx.services.kv_limits,
        }
    }

    /// What `log` sees.
    pub(crate) fn log_view(&mut self) -> LogView<'_> {
        let ctx = &mut self.ctx;
        LogView {
            provider: &ctx.provider,
            call_id: &ctx.call_id,
            grant: ctx.connection.as_deref(),
            records: &mut ctx.log_records,
            limit: ctx.limits.max_log_records_per_call,
            bytes: &mut ctx.log_bytes,
            byte_limit: ctx.limits.max_log_bytes_per_call,
            host_cpu: &mut ctx.host_cpu,
        }
    }

    /// What `config` sees.
    pub(crate) fn config_view(&mut self) -> ConfigView<'_> {
        ConfigView {
            grant: self.ctx.connection.as_deref(),
        }
    }

    /// What `crypto` sees.
    pub(crate) fn crypto_view(&mut self) -> CryptoView<'_> {
        let ctx = &mut self.ctx;
        CryptoView {
            grant: ctx.connection.as_deref(),
            max_input: ctx.limits.max_crypto_input_bytes,
            host_cpu: &mut ctx.host_cpu,
        }
    }

    /// What `stream-sink` sees.
    pub(crate) fn stream_view(&mut self) -> StreamView<'_> {
        StreamView {
            sink: self.ctx.stream.as_ref(),
        }
    }

    /// What the types-only interfaces see: nothing.
    pub(crate) fn types_view(&mut self) -> TypesView {
        TypesView
    }

    /// What the guest wrote to stdout and stderr.
    pub(crate) fn take_output(&self) -> (Vec<u8>, Vec<u8>) {
        (self.stdout.contents().to_vec(), self.stderr.contents().to_vec())
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.http_hooks,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
