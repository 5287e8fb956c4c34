//! The wasmtime engine: component model, async, epoch interruption, and
//! the pooling allocator sized from the host's limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::limits::Limits;

/// How often the epoch advances; a running guest yields to the async
/// runtime at least this often, so deadlines can fire.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bytes of each pooled memory kept resident and reset in place between
/// instances (larger use is decommitted as before).
const KEEP_RESIDENT: usize = 1024 * 1024;

/// Slots whose decommits are batched into one flush.
const DECOMMIT_BATCH: usize = 8;

/// Builds the engine: component model, async, epoch interruption, and the
/// pooling allocator sized from `limits`.
pub fn engine(limits: &Limits, pooling: bool) -> wasmtime::Result<Engine> {
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
            .max_tables_per_component(limits.max_tables_per_instance)
            // A slot is reset for its next instance by zeroing what the last
            // one dirtied (memset, only the resident pages where the kernel
            // can say which: PAGEMAP_SCAN, Linux 6.7+) instead of unmapping
            // it: `madvise` on every call made the kernel interrupt the
            // other cores to flush their TLBs, a quarter of the CPU of a
            // busy webhook ingress. Memory is zeroed either way; nothing of
            // one call is visible to the next.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT / 16)
            .pagemap_scan(wasmtime::Enabled::Auto)
            .decommit_batch_size(DECOMMIT_BATCH);
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
