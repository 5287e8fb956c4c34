//! # patchbay-sandbox
//!
//! Where plugin code runs, and everything it can reach:
//!
//! - [`Sandbox`]: the wasmtime engine (epoch interruption, pooling
//!   allocator), the linker with exactly the granted imports, and the one
//!   call path, [`Sandbox::run`];
//! - [`Limits`]: per-call memory, tables, instances, stack, CPU time,
//!   wall-clock deadline, HTTP requests, log records;
//! - [`CallGrant`]: what one connection grants its calls (credentials by
//!   name, hosts, retry and rate policy, OAuth tokens);
//! - the host side of the contract's imports, one file per interface
//!   (`http` and `wasi:http` both through one door to the outbound
//!   pipeline, `kv`, `config`, `crypto`, `log`, `stream-sink`);
//! - [`CompileCache`]: precompiled components on disk.
//!
//! A denied request, a full quota or a secret field is a typed error the
//! guest can match; only faults and broken limits trap.
#![deny(missing_docs)]

mod cache;
mod call;
mod engine;
mod error;
mod grant;
mod imports;
mod limits;
mod linker;
mod metrics;
mod spikes;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use patchbay_outbound::OutboundPolicy;
use patchbay_store::{KvLimits, KvStore};
use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

pub use cache::{CacheOutcome, CompileCache};
pub use call::{CallOptions, CallTarget, GuestFuture, answered, fault_message, trapped};
pub use error::{CallError, CpuLimitExceeded};
pub use grant::CallGrant;
pub use limits::Limits;
pub use linker::GRANTED_WASI;
pub use metrics::CallMetrics;
pub use state::CallState;

use spikes::CallSpikes;

/// What every call shares: storage, the outbound policy, limits, metrics.
pub struct Services {
    /// The plugins' key-value data.
    pub kv: Arc<dyn KvStore>,
    /// Its quotas.
    pub kv_limits: KvLimits,
    /// Where every HTTP request of every plugin goes.
    pub outbound: Arc<dyn OutboundPolicy>,
    /// Per-call limits.
    pub limits: Limits,
    /// Per-provider limits that replace `limits`.
    pub plugin_limits: BTreeMap<String, Limits>,
    /// Call counters.
    pub metrics: Arc<CallMetrics>,
}

/// The services, and what the sandbox derives from them.
pub(crate) struct Shared {
    services: Services,
    spikes: CallSpikes,
}

impl std::ops::Deref for Shared {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl Services {
    /// The limits of a provider's calls.
    pub fn limits_for(&self, provider: &str) -> &Limits {
        self.plugin_limits.get(provider).unwrap_or(&self.limits)
    }
}

/// The engine, the linker and the services every call uses.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<CallState>,
    services: Arc<Shared>,
    _ticker: engine::EpochTicker,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").finish_non_exhaustive()
    }
}

impl Sandbox {
    /// An engine sized from `services.limits` (the pooling allocator when
    /// `pooling`), and a linker granting exactly what plugins may import.
    pub fn new(services: Services, pooling: bool) -> wasmtime::Result<Self> {
        let engine = engine::engine(&services.limits, pooling)?;
        let linker = linker::linker(&engine)?;
        let spikes = CallSpikes::new(Duration::from_secs(60), services.limits.call_spike_per_minute);
        let ticker = engine::EpochTicker::start(&engine);
        Ok(Self {
            engine,
            linker,
            services: Arc::new(Shared { services, spikes }),
            _ticker: ticker,
        })
    }

    /// The services every call uses.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Compiles a component for this engine (see [`CompileCache`] to keep
    /// the result on disk).
    pub fn compile(
        &self,
        bytes: &[u8],
        cache: Option<&CompileCache>,
        sha256: &str,
    ) -> wasmtime::Result<(Component, Option<CacheOutcome>)> {
        match cache {
            Some(cache) => cache
                .load_or_compile(&self.engine, bytes, sha256)
                .map(|(component, outcome)| (component, Some(outcome))),
            None => Component::from_binary(&self.engine, bytes).map(|c| (c, None)),
        }
    }

    /// Links a compiled component against the granted imports.
    pub fn link(&self, component: &Component) -> wasmtime::Result<InstancePre<CallState>> {
        self.linker.instantiate_pre(component)
    }

    /// The engine, for reading a component's types.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}
