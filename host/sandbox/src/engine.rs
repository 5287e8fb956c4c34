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

/// Linear memories pooled per component instance.
const MEMORIES_PER_INSTANCE: u32 = 2;

/// Guard pages after each linear memory.
const MEMORY_GUARD: u64 = 64 * 1024 * 1024;

/// Address space reserved per memory at which wasmtime drops the bounds
/// check from every guest load and store: a 32-bit address plus its
/// offset cannot leave 4 GiB plus the guard, so the guard page traps
/// instead.
const ELIDING_RESERVATION: u64 = 4 << 30;

/// The most address space the pool may reserve for memories. Reserved,
/// not committed: it costs page-table entries only where touched, but a
/// 47-bit user address space is 128 TiB, and other mappings need room.
const MAX_POOL_RESERVATION: u64 = 64 << 40;

/// Address space reserved for each pooled memory: enough to elide bounds
/// checks when the whole pool fits under [`MAX_POOL_RESERVATION`], else
/// just the memory limit (bounds checked; as safe, slower).
///
/// The reservation is address space only: a guest still cannot grow past
/// `max_memory_bytes`, which the pool enforces separately.
fn memory_reservation(limits: &Limits) -> u64 {
    let memories = u64::from(limits.pool_instances.saturating_mul(MEMORIES_PER_INSTANCE));
    let eliding = memories.saturating_mul(ELIDING_RESERVATION + MEMORY_GUARD);
    if eliding <= MAX_POOL_RESERVATION {
        ELIDING_RESERVATION.max(limits.max_memory_bytes as u64)
    } else {
        limits.max_memory_bytes as u64
    }
}

/// How the engine is built, beyond the limits.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// The pooling instance allocator (the default: a pool sized from the
    /// limits, reused from call to call) or memories allocated per call.
    pub pooling: bool,
    /// Writes `/tmp/perf-PID.map`, naming every compiled plugin function
    /// (by the names in its name section, such as
    /// `shop_woocommerce::mapping::map_order`), so that `perf` attributes
    /// the samples of guest code to it instead of to anonymous memory. For
    /// profiling; off by default.
    pub perf_map: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pooling: true,
            perf_map: false,
        }
    }
}

/// Builds the engine: component model, async, epoch interruption, and the
/// pooling allocator sized from `limits`.
pub fn engine(limits: &Limits, options: EngineOptions) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(limits.max_wasm_stack_bytes);
    if options.perf_map {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(limits.pool_instances)
            .total_core_instances(limits.pool_instances.saturating_mul(4))
            .total_memories(limits.pool_instances.saturating_mul(MEMORIES_PER_INSTANCE))
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
        config.memory_reservation(memory_reservation(limits));
        config.memory_guard_size(MEMORY_GUARD);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pool_reserves_enough_to_elide_bounds_checks() {
        assert_eq!(memory_reservation(&Limits::default()), ELIDING_RESERVATION);
    }

    #[test]
    fn a_pool_too_large_for_the_address_space_reserves_only_the_limit() {
        let limits = Limits {
            pool_instances: 100_000,
            ..Limits::default()
        };
        assert_eq!(memory_reservation(&limits), limits.max_memory_bytes as u64);
    }
}
