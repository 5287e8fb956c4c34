//! Why a call failed, as the caller sees it.

use patchbay_contract::bridge::BridgeError;
use patchbay_contract::types::{ConnectorError, describe_error};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The plugin returned its typed error.
    #[error("{}", describe_error(.0))]
    Connector(ConnectorError),
    /// The plugin does not export the interface or function.
    #[error("{0}")]
    Unsupported(String),
    /// The JSON input does not fit the function's parameters.
    #[error("invalid input: {0}")]
    Input(#[from] BridgeError),
    /// The call ran past its deadline and was stopped.
    #[error("the call exceeded its time limit of {0:?} and was stopped")]
    Deadline(std::time::Duration),
    /// The plugin trapped or broke a limit; the call was ended.
    #[error("plugin fault: {0}")]
    Fault(String),
}

/// The guest used up its CPU time for the call: the trap the epoch
/// callback raises, recognised by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the plugin used up its CPU time for this call")]
pub struct CpuLimitExceeded;

impl CallError {
    /// The connector error, when the plugin returned one.
    pub fn connector_error(&self) -> Option<&ConnectorError> {
        match self {
            Self::Connector(e) => Some(e),
            _ => None,
        }
    }
}
