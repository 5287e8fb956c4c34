//! Limits on what one call of a plugin may use.

use std::time::Duration;

/// Per-call limits and the size of the instance pool. Breaking a limit ends
/// that call with a clear error; the host and other calls go on.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear memory per instance, in bytes.
    pub max_memory_bytes: usize,
    /// Elements per table.
    pub max_table_elements: usize,
    /// Core instances per call.
    pub max_instances: usize,
    /// Memories per component instance.
    pub max_memories_per_instance: u32,
    /// Tables per component instance.
    pub max_tables_per_instance: u32,
    /// Native stack the guest may use, in bytes.
    pub max_wasm_stack_bytes: usize,
    /// Wall-clock time of one call, including its HTTP requests.
    pub call_timeout: Duration,
    /// CPU time the guest may run in one call, measured in epoch ticks of
    /// 10 ms, plus the CPU the host spends on its behalf in `crypto` and
    /// `log` (time spent waiting, such as on HTTP, does not count).
    pub max_cpu_time: Duration,
    /// HTTP requests one call may send.
    pub max_http_requests_per_call: u32,
    /// Log records one call may write; more are dropped and counted.
    pub max_log_records_per_call: u32,
    /// Bytes of log text (messages and fields) one call may write; more are
    /// dropped.
    pub max_log_bytes_per_call: usize,
    /// Bytes of `wasi:http` request bodies and responses one call may hold
    /// on the host (outside its linear memory); more ends the request with
    /// a body-size error.
    pub max_wasi_http_bytes_per_call: usize,
    /// Largest input to one `crypto` operation, in bytes; a larger one is a
    /// broken limit and ends the call.
    pub max_crypto_input_bytes: usize,
    /// Concurrent instances the pooling allocator is sized for.
    pub pool_instances: u32,
    /// Calls per connection per minute above which the host warns of a
    /// spike (0: never).
    pub call_spike_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_memory_bytes: 256 * 1024 * 1024,
            max_table_elements: 100_000,
            max_instances: 64,
            max_memories_per_instance: 4,
            max_tables_per_instance: 8,
            max_wasm_stack_bytes: 1024 * 1024,
            call_timeout: Duration::from_secs(60),
            max_cpu_time: Duration::from_secs(30),
            max_http_requests_per_call: 1000,
            max_log_records_per_call: 1000,
            max_log_bytes_per_call: 1024 * 1024,
            max_crypto_input_bytes: 16 * 1024 * 1024,
            max_wasi_http_bytes_per_call: 64 * 1024 * 1024,
            pool_instances: 256,
            call_spike_per_minute: 600,
        }
    }
}
