//! # patchbay-contract
//!
//! The `patchbay:connector` contract as the host sees it:
//!
//! - [`types`]: the contract's records, variants and enums, generated from
//!   `wit/` (money as decimal strings, timestamps as RFC 3339 strings);
//! - [`Interface`]: the table of interfaces a plugin may export (ports and
//!   capabilities), which drives loading, the typed port handles and the
//!   JSON bridge;
//! - [`bridge`]: any exported function called with JSON in and JSON out,
//!   with a JSON Schema per WIT type;
//! - [`CONTRACT_PACKAGE`] and [`SUPPORTED_CONTRACT_VERSIONS`]: the versions
//!   this host serves.
//!
//! The generated bindings themselves are an implementation detail of the
//! host's own crates (the sandbox implements the imports, the embedder API
//! calls the exports); they are not a promise to anyone else.
#![deny(missing_docs)]

#[doc(hidden)]
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod bindings;
pub mod bridge;
mod interfaces;
pub mod types;

pub use interfaces::{
    CONTRACT_PACKAGE, CONTRACT_VERSION, HOST_IMPORTS, Interface, SUPPORTED_CONTRACT_VERSIONS, family_name,
    split_version,
};
