//! The embedder API's error types.

use std::path::PathBuf;

use patchbay_outbound::PatternError;
use patchbay_secrets::VaultError;
use patchbay_store::StoreError;

use crate::vault_key::KeyCheckError;

/// Why a plugin file was not loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The file is not a valid WebAssembly component.
    #[error("{path}: {reason}")]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The component imports something the host does not grant.
    #[error("{path}: imports `{import}`, which the host does not provide{hint}")]
    UnsupportedImport {
        /// The file.
        path: PathBuf,
        /// The import's name.
        import: String,
        /// Extra guidance.
        hint: String,
    },
    /// The component targets a contract version this host does not serve.
    #[error("{path}: targets contract version {found}; this host serves {supported}")]
    ContractVersion {
        /// The file.
        path: PathBuf,
        /// The version it targets.
        found: String,
        /// The versions this host serves.
        supported: String,
    },
    /// The component is not a Patchbay plugin, or exports the contract wrongly.
    #[error("{path}: {reason}")]
    NotAPlugin {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The plugin's manifest is invalid.
    #[error("{path}: invalid manifest: {reason}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another file already provides this provider.
    #[error("{path}: provider {provider} is already provided by {existing}")]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// `family/name`.
        provider: String,
        /// The file that won.
        existing: PathBuf,
    },
}

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No plugin provides this provider.
    #[error("no plugin provides {provider:?}; loaded providers: {available}")]
    UnknownProvider {
        /// What was asked for.
        provider: String,
        /// What is loaded, comma-separated.
        available: String,
    },
    /// The credentials or settings do not fit the manifest.
    #[error("{provider}: {reason}")]
    Invalid {
        /// `family/name`.
        provider: String,
        /// What is wrong.
        reason: String,
    },
}

/// Why a host could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The WebAssembly engine could not be configured.
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    /// The state store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The plugins directory could not be read.
    #[error("cannot read the plugins directory {path}: {reason}")]
    PluginsDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The vault key does not fit the database.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// An operator host pattern is invalid.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

impl From<KeyCheckError> for HostError {
    fn from(error: KeyCheckError) -> Self {
        match error {
            KeyCheckError::Vault(error) => Self::Vault(error),
            KeyCheckError::Store(error) => Self::Store(error),
        }
    }
}
