//! The wasmtime engine, the linker with exactly what plugins are granted,
//! and the state of one call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings;
use crate::connection::ConnectionShared;
use crate::imports::{HttpDoor, PipelineHooks};
use crate::limits::Limits;
use crate::services::Services;
use crate::types::StreamChunk;

/// How often the epoch advances; a running guest yields to the async
/// runtime at least this often, so deadlines can fire.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bytes of stdout/stderr kept per call before the guest's writes fail.
const STDIO_CAPTURE_BYTES: usize = 64 * 1024;

/// Builds the engine: component model, async, epoch interruption, and the
/// pooling allocator sized from `limits`.
pub(crate) fn engine(limits: &Limits, pooling: bool) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(limits.max_wasm_stack_bytes);
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(limits.pool_instances)
            .total_core_instances(limits.pool_instances.saturating_mul(4))
            .total_memories(limits.pool_instances.saturating_mul(2))
            .total_tables(limits.pool_instances.saturating_mul(4))
            .total_stacks(limits.pool_instances)
            .max_memory_size(limits.max_memory_bytes)
            .table_elements(limits.max_table_elements)
            .max_memories_per_component(limits.max_memories_per_instance)
            .max_tables_per_component(limits.max_tables_per_instance);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        config.memory_reservation(limits.max_memory_bytes as u64);
        config.memory_guard_size(64 * 1024 * 1024);
    }
    Engine::new(&config)
}

/// Advances an engine's epoch every [`EPOCH_TICK`] until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.weak(), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("patchbay-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawning the epoch thread");
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The WASI interfaces a plugin may import, by name without version.
///
/// The filesystem and sockets are linked because the JavaScript and Python
/// toolchains import them whether the plugin uses them or not, but they deny
/// everything: a call has no preopened directory, no socket address passes
/// the check, and name lookup is off. `wasi:http` goes through the host's
/// outbound pipeline (see `imports::wasi_http`).
pub(crate) const GRANTED_WASI: &[&str] = &[
    "wasi:io/poll",
    "wasi:io/error",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// The linker: the contract's host imports, WASI (filesystem and sockets
/// denying everything) and `wasi:http` through the outbound pipeline.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    bindings::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// What one call knows: who calls, on which connection, until when.
pub(crate) struct CallContext {
    /// `family/name`.
    pub provider: Arc<str>,
    /// Unique per call, for logs.
    pub call_id: String,
    /// `None` while the host reads a manifest at load time.
    pub connection: Option<Arc<ConnectionShared>>,
    /// Host-wide services: storage, outbound policy, limits.
    pub services: Arc<Services>,
    /// When the call must be over.
    pub deadline: Instant,
    /// The limits of this call (the host's, or the plugin's own).
    pub limits: Limits,
    /// Log records written so far.
    pub log_records: u32,
    /// Epoch ticks that found the guest running: its CPU time, in ticks.
    pub cpu_ticks: u64,
    /// Where streamed LLM chunks go, when the caller listens.
    pub stream: Option<tokio::sync::mpsc::UnboundedSender<StreamChunk>>,
}

/// The data of a call's `Store`.
pub(crate) struct CallState {
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
        let http_hooks = PipelineHooks::new(HttpDoor::new(&ctx), limits.max_memory_bytes);
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
            http: WasiHttpCtx::new(),
            http_hooks,
            table: ResourceTable::new(),
            limits: store_limits,
            ctx,
            stdout,
            stderr,
        }
    }

    /// The call's door to the outbound pipeline.
    pub(crate) fn http_door(&self) -> HttpDoor {
        self.http_hooks.door()
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
