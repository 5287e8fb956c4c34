//! The embedder API's error types.

use std::path::PathBuf;

use patchbay_outbound::PatternError;
use patchbay_sandbox::ErrorKind;
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
        /// The credential field or setting that is wrong, when one is.
        field: Option<String>,
        /// What kind of mistake it is.
        problem: Problem,
        /// What is wrong, for a reader.
        reason: String,
    },
}

/// What is wrong with a credential field, a setting or a connection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The manifest does not declare it.
    Unknown,
    /// It is required and missing.
    Missing,
    /// Its value is not of its type (a number, a boolean, a URL).
    WrongType,
    /// Its value is not one of its choices.
    NotAChoice,
    /// The manifest's allowed hosts cannot be resolved with it.
    Hosts,
    /// A connection id that is malformed, or taken.
    Id,
}

impl ConnectError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownProvider { .. } => ErrorKind::NotFound,
            Self::Invalid { .. } => ErrorKind::Invalid,
        }
    }

    /// The field (credential or setting) that is wrong, when one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => field.as_deref(),
            Self::UnknownProvider { .. } => None,
        }
    }
}

impl LoadError {
    /// What kind of failure this is: a plugin that cannot be loaded is a
    /// fault of that plugin (the host goes on without it).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Fault
    }
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
    /// The compile cache's directory cannot be trusted or used.
    #[error(transparent)]
    CompileCache(#[from] patchbay_sandbox::CacheError),
    /// An operator's rate limit that no limiter can honour.
    #[error("the rate limit of {provider} ({per_second} requests per second) is outside 0.001 to 1000000")]
    RateLimit {
        /// The provider.
        provider: String,
        /// The rate asked for.
        per_second: f64,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    /// The blob spool could not be made in the blob directory
    /// ([`HostBuilder::blob_dir`](crate::HostBuilder::blob_dir)).
    #[error("cannot spool blobs: {0}")]
    Spool(String),
}

impl HostError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine(_) | Self::Http(_) => ErrorKind::Fault,
            Self::Store(_) => ErrorKind::Storage,
            Self::PluginsDir { .. } => ErrorKind::Invalid,
            Self::Vault(error) => vault_kind(error),
            Self::Pattern(_) | Self::RateLimit { .. } | Self::CompileCache(_) | Self::Spool(_) => ErrorKind::Config,
        }
    }
}

/// The kind of a vault failure: a missing or wrong key is configuration, a
/// value that does not open (or a key file that cannot be used) a fault.
pub(crate) fn vault_kind(error: &VaultError) -> ErrorKind {
    match error {
        VaultError::NoKey | VaultError::WrongKey { .. } => ErrorKind::Config,
        _ => ErrorKind::Fault,
    }
}

impl From<KeyCheckError> for HostError {
    fn from(error: KeyCheckError) -> Self {
        match error {
            KeyCheckError::Vault(error) => Self::Vault(error),
            KeyCheckError::Store(error) => Self::Store(error),
        }
    }
}
