//! The sandbox: the engine, the linker with exactly the granted imports,
//! and the services every call uses. Calls run through
//! [`Sandbox::run`](crate::Sandbox::run) (`call.rs`).

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

use crate::cache::{CacheOutcome, CompileCache};
use crate::engine::{self, EngineOptions};
use crate::linker;
use crate::services::{Services, Shared};
use crate::spikes::CallSpikes;
use crate::state::CallState;

/// The engine, the linker and the services every call uses.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<CallState>,
    pub(crate) services: Arc<Shared>,
    _ticker: engine::EpochTicker,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").finish_non_exhaustive()
    }
}

impl Sandbox {
    /// An engine sized from `services.limits` and built as `options` say,
    /// and a linker granting exactly what plugins may import.
    pub fn new(services: Services, options: EngineOptions) -> wasmtime::Result<Self> {
        let engine = engine::engine(&services.limits, options)?;
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
