//! The error every operation returns, and the one HTTP status mapping that
//! every plugin shares.

use crate::bindings::imports::patchbay::connector::types::{ConnectorError, ProviderFailure};

/// The error type of every port and capability operation.
///
/// Variants: `Auth`, `Config`, `Validation`, `RateLimited(retry_after_secs)`,
/// `Provider` (retryable), `Permanent`, `Unsupported`, `WebhookVerification`,
/// `NotFound`.
pub type Error = ConnectorError;

/// `Result` with [`Error`] as its default error.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl ConnectorError {
    /// Maps an HTTP error status the way every Patchbay plugin does:
    /// 401/403 `Auth`, 404 `NotFound`, 429 `RateLimited`, other 4xx
    /// `Permanent`, 5xx (and anything else) `Provider`.
    ///
    /// ```
    /// use patchbay_sdk::Error;
    /// assert!(matches!(Error::from_status(401, "bad key", None), Error::Auth(_)));
    /// assert!(matches!(Error::from_status(429, "slow down", Some(3)), Error::RateLimited(Some(3))));
    /// assert!(matches!(Error::from_status(422, "bad sku", None), Error::Permanent(_)));
    /// assert!(matches!(Error::from_status(503, "down", None), Error::Provider(_)));
    /// ```
    pub fn from_status(status: u16, message: impl Into<String>, retry_after: Option<u32>) -> Self {
        let message = message.into();
        match status {
            401 | 403 => Self::Auth(message),
            404 => Self::NotFound(message),
            429 => Self::RateLimited(retry_after),
            400..=499 => Self::Permanent(ProviderFailure {
                status: Some(status),
                message,
            }),
            _ => Self::Provider(ProviderFailure {
                status: Some(status),
                message,
            }),
        }
    }

    /// A transient provider failure without an HTTP status.
    pub fn provider(message: impl Into<String>) -> Self {
        Self::Provider(ProviderFailure {
            status: None,
            message: message.into(),
        })
    }

    /// The same error with `context` after its message (`…; the partial
    /// file was removed`), its kind and status kept: what a plugin did
    /// about a failure, told with it.
    ///
    /// ```
    /// use patchbay_sdk::Error;
    /// let error = Error::provider("part 3 failed").with_context("the upload was aborted");
    /// assert_eq!(error.message(), "part 3 failed; the upload was aborted");
    /// ```
    #[must_use]
    pub fn with_context(self, context: &str) -> Self {
        let add = |message: String| format!("{message}; {context}");
        match self {
            Self::Provider(f) => Self::Provider(ProviderFailure {
                status: f.status,
                message: add(f.message),
            }),
            Self::Permanent(f) => Self::Permanent(ProviderFailure {
                status: f.status,
                message: add(f.message),
            }),
            Self::Auth(m) => Self::Auth(add(m)),
            Self::Config(m) => Self::Config(add(m)),
            Self::Validation(m) => Self::Validation(add(m)),
            Self::Unsupported(m) => Self::Unsupported(add(m)),
            Self::WebhookVerification(m) => Self::WebhookVerification(add(m)),
            Self::NotFound(m) => Self::NotFound(add(m)),
            Self::RateLimited(after) => Self::Provider(ProviderFailure {
                status: Some(429),
                message: add(match after {
                    Some(seconds) => format!("rate limited, retry after {seconds} s"),
                    None => "rate limited".to_string(),
                }),
            }),
        }
    }

    /// A failure that retrying will not fix, without an HTTP status.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(ProviderFailure {
            status: None,
            message: message.into(),
        })
    }

    /// The error's text as a person reads it (the provider's message), for
    /// a delivery report or a bulk result.
    pub fn message(&self) -> String {
        match self {
            Self::Auth(m)
            | Self::Config(m)
            | Self::Validation(m)
            | Self::Unsupported(m)
            | Self::WebhookVerification(m)
            | Self::NotFound(m) => m.clone(),
            Self::Provider(f) | Self::Permanent(f) => f.message.clone(),
            Self::RateLimited(Some(seconds)) => format!("rate limited: retry after {seconds} s"),
            Self::RateLimited(None) => "rate limited".into(),
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited(_) | Self::Provider(_))
    }

    /// The HTTP status behind the error, when there is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Provider(f) | Self::Permanent(f) => f.status,
            Self::RateLimited(_) => Some(429),
            _ => None,
        }
    }
}

/// Turns any displayable error into an [`Error`] with a word of context.
pub trait ErrorExt<T> {
    /// The input of the operation was invalid: `Validation`.
    fn or_validation(self, context: &str) -> Result<T>;
    /// The provider sent something unusable: `Permanent`.
    fn or_permanent(self, context: &str) -> Result<T>;
    /// The connection's configuration is unusable: `Config`.
    fn or_config(self, context: &str) -> Result<T>;
}

impl<T, E: core::fmt::Display> ErrorExt<T> for core::result::Result<T, E> {
    fn or_validation(self, context: &str) -> Result<T> {
        self.map_err(|e| Error::Validation(format!("{context}: {e}")))
    }
    fn or_permanent(self, context: &str) -> Result<T> {
        self.map_err(|e| Error::permanent(format!("{context}: {e}")))
    }
    fn or_config(self, context: &str) -> Result<T> {
        self.map_err(|e| Error::Config(format!("{context}: {e}")))
    }
}
