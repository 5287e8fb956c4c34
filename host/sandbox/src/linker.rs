//! What a plugin may import: the contract's host interfaces, the granted
//! part of WASI (filesystem and sockets denying everything), and
//! `wasi:http` through the outbound pipeline.

use patchbay_contract::bindings::patchbay::connector as wit;
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::imports::{self, Types};
use crate::state::CallState;

/// The WASI interfaces a plugin may import, by name without version.
///
/// The filesystem and sockets are linked because the JavaScript and Python
/// toolchains import them whether the plugin uses them or not, but they deny
/// everything: a call has no preopened directory, no socket address passes
/// the check, and name lookup is off. `wasi:http` goes through the host's
/// outbound pipeline (see `imports::wasi_http`).
pub const GRANTED_WASI: &[&str] = &[
    "wasi:io/poll",
    "wasi:io/error",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// The linker: the contract's host imports, WASI (filesystem and sockets
/// denying everything) and `wasi:http` through the outbound pipeline.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    wit::http::add_to_linker::<CallState, imports::http::Http>(&mut linker, CallState::http_view)?;
    wit::blobs::add_to_linker::<CallState, imports::blobs::Blobs>(&mut linker, CallState::blobs_view)?;
    wit::smtp::add_to_linker::<CallState, imports::smtp::Smtp>(&mut linker, CallState::smtp_view)?;
    wit::file_transfer::add_to_linker::<CallState, imports::file_transfer::FileTransfer>(
        &mut linker,
        CallState::file_transfer_view,
    )?;
    wit::kv::add_to_linker::<CallState, imports::kv::Kv>(&mut linker, CallState::kv_view)?;
    wit::log::add_to_linker::<CallState, imports::log::Log>(&mut linker, CallState::log_view)?;
    wit::config::add_to_linker::<CallState, imports::config::Config>(&mut linker, CallState::config_view)?;
    wit::crypto::add_to_linker::<CallState, imports::crypto::Crypto>(&mut linker, CallState::crypto_view)?;
    wit::stream_sink::add_to_linker::<CallState, imports::stream_sink::StreamSink>(
        &mut linker,
        CallState::stream_view,
    )?;
    wit::types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    wit::shop_types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    wit::courier_types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    wit::payment_types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    wit::messaging_types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    wit::storage_types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    wit::llm_types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    wit::feed_types::add_to_linker::<CallState, Types>(&mut linker, CallState::types_view)?;
    Ok(linker)
}
