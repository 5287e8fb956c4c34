//! One call into a plugin: a fresh instance from the plugin's `InstancePre`,
//! a deadline, and the guest's stdout/stderr turned into log records.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Instance;
use wasmtime::{Store, UpdateDeadline};

use crate::bindings::patchbay::connector::log::Level;
use crate::connection::ConnectionShared;
use crate::error::CallError;
use crate::plugin::Plugin;
use crate::runtime::{CallContext, CallState, EPOCH_TICK};
use crate::services::Services;

/// A live instance for the duration of one call.
pub(crate) struct Call {
    pub store: Store<CallState>,
    pub instance: Instance,
    timeout: Duration,
    started: Instant,
    span: tracing::Span,
}

fn new_call_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:x}-{n}", std::process::id())
}

/// The fault of a guest that used up its CPU time.
const CPU_LIMIT: &str = "the plugin used up its CPU time for this call";

/// The message of a trap or host fault, without the wasm backtrace.
pub(crate) fn fault_message(error: &wasmtime::Error) -> String {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return format!("the plugin called exit({})", exit.0);
    }
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
        return trap.to_string();
    }
    if error.root_cause().to_string() == CPU_LIMIT {
        return CPU_LIMIT.to_string();
    }
    let text = format!("{error:#}");
    text.lines().next().unwrap_or_default().to_string()
}

impl Call {
    /// Instantiates `plugin` for one call on `connection` (none while the
    /// host reads a manifest).
    pub async fn start(
        plugin: &Plugin,
        connection: Option<Arc<ConnectionShared>>,
        services: &Arc<Services>,
    ) -> Result<Self, CallError> {
        let limits = services.limits_for(plugin.key()).clone();
        let timeout = limits.call_timeout;
        let started = Instant::now();
        if let Some(connection) = &connection {
            services.spikes.record(plugin.key(), &connection.id);
        }
        let call_id = new_call_id();
        let span = tracing::info_span!(
            "call",
            provider = plugin.key(),
            connection = connection.as_ref().map(|c| c.id.as_str()).unwrap_or("-"),
            call = %call_id,
        );
        let ctx = CallContext {
            provider: plugin.key_arc(),
            call_id,
            connection,
            services: Arc::clone(services),
            deadline: Instant::now() + timeout,
            limits: limits.clone(),
            log_records: 0,
            cpu_ticks: 0,
            stream: None,
        };
        let mut store = Store::new(plugin.pre.engine(), CallState::new(ctx, &limits));
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        let cpu_ticks = (limits.max_cpu_time.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.epoch_deadline_callback(move |mut store| {
            // The epoch deadline is only checked while guest code runs, so
            // each tick that lands here is one tick of the guest's CPU time.
            let ctx = &mut store.data_mut().ctx;
            ctx.cpu_ticks += 1;
            if ctx.cpu_ticks > cpu_ticks {
                return Err(wasmtime::Error::msg(CPU_LIMIT));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        let instance = tokio::time::timeout(timeout, plugin.pre.instantiate_async(&mut store))
            .await
            .map_err(|_| CallError::Deadline(timeout))?
            .map_err(|e| CallError::Fault(format!("cannot instantiate the plugin: {}", fault_message(&e))))?;
        Ok(Self {
            store,
            instance,
            timeout,
            started,
            span,
        })
    }

    /// The call's tracing span; instrument the guest call with it.
    pub fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// Routes streamed chunks of this call to `sink`.
    pub fn stream_to(&mut self, sink: tokio::sync::mpsc::UnboundedSender<crate::types::StreamChunk>) {
        self.store.data_mut().ctx.stream = Some(sink);
    }

    /// The call's deadline budget.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Writes the guest's stdout/stderr to the log; returns the last line of
    /// stderr, which often says why a guest panicked.
    pub fn finish(mut self) -> Option<String> {
        let (stdout, stderr) = self.store.data().take_output();
        let state = self.store.data_mut();
        for line in String::from_utf8_lossy(&stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            state.guest_log(Level::Info, line, &[]);
        }
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
            state.guest_log(Level::Warn, line, &[]);
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
}

/// Runs a guest call under a deadline and flattens its outcome.
pub(crate) async fn within<T>(
    timeout: Duration,
    future: impl Future<Output = wasmtime::Result<T>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(timeout, future).await {
        Err(_) => Err(CallError::Deadline(timeout)),
        Ok(Err(error)) => Err(CallError::Fault(fault_message(&error))),
        Ok(Ok(value)) => Ok(value),
    }
}

/// Finishes a call: logs its output, counts it, and adds the guest's last
/// stderr line to a fault.
pub(crate) fn conclude<T>(call: Call, outcome: Result<T, CallError>) -> Result<T, CallError> {
    let label = match &outcome {
        Ok(_) => "ok",
        Err(CallError::Connector(_)) => "connector-error",
        Err(CallError::Fault(_)) => "fault",
        Err(CallError::Deadline(_)) => "deadline",
        Err(CallError::Input(_)) => "invalid-input",
        Err(CallError::Unsupported(_)) => "unsupported",
    };
    let ctx = &call.store.data().ctx;
    let metrics = &ctx.services.metrics;
    let provider = ctx.provider.to_string();
    metrics
        .calls
        .get_or_create(&crate::metrics::CallLabels {
            provider: provider.clone(),
            outcome: label.into(),
        })
        .inc();
    metrics
        .call_seconds
        .get_or_create(&crate::metrics::Metrics::provider(&provider))
        .observe(call.started.elapsed().as_secs_f64());
    let last_stderr = call.finish();
    match outcome {
        Err(CallError::Fault(message)) => Err(CallError::Fault(match last_stderr {
            Some(line) => format!("{message} (plugin stderr: {line})"),
            None => message,
        })),
        other => other,
    }
}
