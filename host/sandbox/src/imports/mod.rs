//! The host side of the contract's imports, one file per interface. Each
//! implements the generated `Host` trait on the call's state.
//!
//! Guest-visible failures (a denied request, a full quota) are returned as
//! the interface's typed errors; only host faults trap.

mod config;
mod crypto;
mod door;
mod http;
mod kv;
mod log;
mod stream_sink;
mod wasi_http;

pub(crate) use door::HttpDoor;
pub(crate) use wasi_http::PipelineHooks;

use crate::state::CallState;
use patchbay_contract::bindings::patchbay::connector as wit;

// Interfaces that only define types have nothing to implement.
impl wit::types::Host for CallState {}
impl wit::shop_types::Host for CallState {}
impl wit::courier_types::Host for CallState {}
impl wit::payment_types::Host for CallState {}
impl wit::messaging_types::Host for CallState {}
impl wit::storage_types::Host for CallState {}
impl wit::llm_types::Host for CallState {}
impl wit::feed_types::Host for CallState {}
