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
mod runtime;
mod services;
mod spikes;
mod state;

pub use cache::{CacheError, CacheOutcome, CompileCache, FileStamp, KnownFile};
pub use call::{CallOptions, CallTarget, GuestFuture, answered, fault_message, trapped};
pub use engine::EngineOptions;
pub use error::{CallError, CpuLimitExceeded, ErrorKind};
pub use grant::CallGrant;
pub use limits::Limits;
pub use linker::GRANTED_WASI;
pub use metrics::CallMetrics;
pub use runtime::Sandbox;
pub use services::Services;
pub use state::CallState;
