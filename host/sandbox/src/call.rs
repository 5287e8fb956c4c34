//! One call into a plugin, the only way any guest code runs: a fresh
//! instance from the plugin's `InstancePre`, a tracing span, the call's
//! deadline and CPU budget, then the outcome counted and the guest's
//! stdout/stderr turned into log records. Every port method, the JSON
//! bridge, `test-connection`, manifest reading and streaming go through
//! [`Sandbox::run`]; only the guest function they invoke differs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use patchbay_contract::bindings::patchbay::connector::log::Level;
use patchbay_contract::types::{ConnectorError, StreamChunk};
use tracing::Instrument as _;
use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Store, UpdateDeadline};

use crate::engine::EPOCH_TICK;
use crate::error::{CallError, CpuLimitExceeded};
use crate::grant::CallGrant;
use crate::metrics::outcome_label;
use crate::runtime::Sandbox;
use crate::state::{CallContext, CallState};

/// The guest work of one call, given the call's store and instance. The
/// third argument only ties the future's lifetime to the caller's borrows.
pub type GuestFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CallError>> + Send + 'a>>;

/// What to call: a linked plugin and the name it goes by in logs and
/// metrics (`family/name`, or its file while its manifest is read).
#[derive(Clone, Copy)]
pub struct CallTarget<'a> {
    /// The plugin, linked.
    pub pre: &'a InstancePre<CallState>,
    /// Its provider key.
    pub provider: &'a Arc<str>,
}

/// Options of one call beyond its target and grant.
#[derive(Default)]
pub struct CallOptions {
    /// Where streamed LLM chunks go, when the caller listens.
    pub stream: Option<tokio::sync::mpsc::UnboundedSender<StreamChunk>>,
}

fn new_call_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:x}-{n}", std::process::id())
}

/// The message of a trap or host fault, without the wasm backtrace.
pub fn fault_message(error: &wasmtime::Error) -> String {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return format!("the plugin called exit({})", exit.0);
    }
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
        return trap.to_string();
    }
    if let Some(limit) = error.downcast_ref::<CpuLimitExceeded>() {
        return limit.to_string();
    }
    // A host error raised while guest code ran is wrapped in the wasm
    // backtrace: the cause is what a reader needs.
    let cause = error.root_cause().to_string();
    let text = format!("{error:#}");
    match text.lines().next() {
        Some(first) if !first.starts_with("error while executing at wasm backtrace") => first.to_string(),
        _ => cause.lines().next().unwrap_or_default().to_string(),
    }
}

/// A guest function's raw outcome, a trap becoming [`CallError::Fault`].
pub fn trapped<T>(result: wasmtime::Result<T>) -> Result<T, CallError> {
    result.map_err(|error| CallError::Fault(fault_message(&error)))
}

/// A guest function that returns `result<T, connector-error>`: a trap is a
/// fault, the plugin's error is [`CallError::Connector`].
pub fn answered<T>(result: wasmtime::Result<Result<T, ConnectorError>>) -> Result<T, CallError> {
    trapped(result)?.map_err(CallError::Connector)
}

impl Sandbox {
    /// Runs one call of `target` on behalf of `grant` (`None` while the host
    /// reads a manifest: no HTTP, no storage). `invoke` does the guest work
    /// in the fresh instance; everything around it is here, once.
    pub async fn run<'env, T, F>(
        &self,
        target: CallTarget<'_>,
        grant: Option<Arc<CallGrant>>,
        options: CallOptions,
        invoke: F,
    ) -> Result<T, CallError>
    where
        T: Send + 'env,
        F: for<'a> FnOnce(&'a mut Store<CallState>, &'a Instance, &'a &'env ()) -> GuestFuture<'a, T>,
    {
        let services = &self.services;
        let provider = target.provider;
        let limits = services.limits_for(provider).clone();
        let timeout = limits.call_timeout;
        let started = Instant::now();
        if let Some(grant) = &grant {
            services.spikes.record(provider, &grant.id);
        }
        let call_id = new_call_id();
        let span = tracing::info_span!(
            "call",
            provider = &**provider,
            connection = grant.as_ref().map(|g| g.id.as_str()).unwrap_or("-"),
            call = %call_id,
        );
        let ctx = CallContext {
            provider: Arc::clone(provider),
            call_id,
            connection: grant,
            services: Arc::clone(services),
            deadline: started + timeout,
            limits: limits.clone(),
            log_records: 0,
            cpu_ticks: 0,
            host_cpu: std::time::Duration::ZERO,
            log_bytes: 0,
            stream: options.stream,
        };
        let mut store = Store::new(target.pre.engine(), CallState::new(ctx, &limits));
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        let cpu_ticks = (limits.max_cpu_time.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.epoch_deadline_callback(move |mut store| {
            // The epoch deadline is only checked while guest code runs, so
            // each tick that lands here is one tick of the guest's CPU time.
            let ctx = &mut store.data_mut().ctx;
            ctx.cpu_ticks += 1;
            let host_ticks = (ctx.host_cpu.as_millis() / EPOCH_TICK.as_millis()) as u64;
            if ctx.cpu_ticks + host_ticks > cpu_ticks {
                return Err(wasmtime::Error::new(CpuLimitExceeded));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let anchor: &'env () = &();
        let outcome = async {
            let instance = target
                .pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| CallError::Fault(format!("cannot instantiate the plugin: {}", fault_message(&e))))?;
            invoke(&mut store, &instance, &anchor).await
        }
        .instrument(span.clone());
        let outcome = match tokio::time::timeout(timeout, outcome).await {
            Ok(outcome) => outcome,
            Err(_) => Err(CallError::Deadline(timeout)),
        };
        let _entered = span.enter();
        services
            .metrics
            .record(provider, outcome_label(&outcome), started.elapsed().as_secs_f64());
        let last_stderr = finish(&mut store);
        match outcome {
            Err(CallError::Fault(message)) => Err(CallError::Fault(match last_stderr {
                Some(line) => format!("{message} (plugin stderr: {line})"),
                None => message,
            })),
            other => other,
        }
    }
}

/// Writes the guest's stdout/stderr to the log; returns the last line of
/// stderr, which often says why a guest panicked.
fn finish(store: &mut Store<CallState>) -> Option<String> {
    let (stdout, stderr) = store.data().take_output();
    let state = store.data_mut();
    for line in String::from_utf8_lossy(&stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        state.log_view().record(Level::Info, line, &[]);
    }
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        state.log_view().record(Level::Warn, line, &[]);
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))?;
    Some(match &state.ctx.connection {
        Some(connection) => connection.redactor.scrub(last),
        None => last.to_string(),
    })
}
