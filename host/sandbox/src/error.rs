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

/// What kind of failure an error is: the one classification that callers
/// decide on. The CLI's exit codes (and the service's HTTP statuses) map
/// from it in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request does not fit: arguments, JSON input, credentials or
    /// settings the manifest refuses, an operation the plugin lacks, a
    /// plugin file that is not a valid plugin.
    Invalid,
    /// What was asked for does not exist: a provider, a connection, an
    /// authorization state.
    NotFound,
    /// It exists but cannot be used now: disabled, disconnected, not yet
    /// authorized.
    Unavailable,
    /// The provider or the plugin refused or failed: a connector error, an
    /// authorization server's refusal.
    Failed,
    /// The host is configured wrongly: a missing or wrong vault key, an
    /// invalid operator pattern.
    Config,
    /// The call ran past its deadline.
    Timeout,
    /// The plugin trapped or broke a limit, or the host itself failed.
    Fault,
    /// The storage backend failed (unreachable, corrupt, full).
    Storage,
}

/// The guest used up its CPU time for the call: the trap the epoch
/// callback raises, recognised by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the plugin used up its CPU time for this call")]
pub struct CpuLimitExceeded;

impl CallError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Connector(_) => ErrorKind::Failed,
            Self::Unsupported(_) | Self::Input(_) => ErrorKind::Invalid,
            Self::Deadline(_) => ErrorKind::Timeout,
            Self::Fault(_) => ErrorKind::Fault,
        }
    }

    /// The connector error, when the plugin returned one.
    pub fn connector_error(&self) -> Option<&ConnectorError> {
        match self {
            Self::Connector(e) => Some(e),
            _ => None,
        }
    }
}
