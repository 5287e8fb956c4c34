//! The host side of the contract's imports, one file per interface. Each
//! has its own view of the call (what that interface may see of it) and
//! implements the generated `Host` trait on that view, so it can be tested
//! without a guest; the linker hands each interface its view.
//!
//! Guest-visible failures (a denied request, a full quota, a secret field)
//! are returned as the interface's typed errors; only host faults trap.

pub(crate) mod blobs;
pub(crate) mod config;
pub(crate) mod crypto;
mod door;
pub(crate) mod file_transfer;
pub(crate) mod http;
pub(crate) mod kv;
pub(crate) mod log;
pub(crate) mod smtp;
pub(crate) mod stream_sink;
mod wasi_http;

pub(crate) use door::HttpDoor;
pub(crate) use wasi_http::PipelineHooks;

use patchbay_contract::bindings::patchbay::connector as wit;
use wasmtime::component::HasData;

/// The view of the interfaces that only define types: nothing to see.
pub(crate) struct TypesView;

/// Links the types-only interfaces.
pub(crate) struct Types;

impl HasData for Types {
    type Data<'a> = TypesView;
}

impl wit::types::Host for TypesView {}
impl wit::shop_types::Host for TypesView {}
impl wit::courier_types::Host for TypesView {}
impl wit::payment_types::Host for TypesView {}
impl wit::messaging_types::Host for TypesView {}
impl wit::storage_types::Host for TypesView {}
impl wit::llm_types::Host for TypesView {}
impl wit::feed_types::Host for TypesView {}
