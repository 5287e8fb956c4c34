//! The service's settings, from a TOML file (`patchbay serve --config`),
//! which flags and `PATCHBAY_*` environment variables override (the CLI
//! does that). Unknown keys in the file are mistakes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

/// The configuration file: the host's keys and the service's.
///
/// ```toml
/// listen = "127.0.0.1:8080"
/// plugins = "/var/lib/patchbay/plugins"
/// database = "/var/lib/patchbay/patchbay.db"
/// public-url = "https://connectors.example.com"
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// The plugins directory (hot-reloaded).
    pub plugins: Option<PathBuf>,
    /// The SQLite state file, or a PostgreSQL URL (`postgres://…`) that
    /// several replicas share.
    pub database: Option<String>,
    /// A Redis URL (`redis://…`): rate budgets shared by every replica.
    pub redis: Option<String>,
    /// How many replicas share the rate budgets (each keeps 1/N of every
    /// quota while Redis is away).
    pub replicas: Option<u32>,
    /// Rate limits per provider (`family/name`), replacing their
    /// manifests' hints: `[rate-limits."shop/woocommerce"]` with
    /// `requests-per-second` and `burst`.
    pub rate_limits: Option<std::collections::BTreeMap<String, RateLimit>>,
    /// The vault key file.
    pub vault_key_file: Option<PathBuf>,
    /// Whether plugins may reach private addresses.
    pub allow_private_network: Option<bool>,
    /// The service's public base URL, for OAuth2 redirect URIs.
    pub public_url: Option<Url>,
    /// Where `/oauth/callback` sends the user afterwards (default: a plain page).
    pub oauth_done_url: Option<Url>,
    /// The largest request body, in bytes.
    pub body_limit: Option<usize>,
    /// A call's deadline, in seconds.
    pub call_timeout: Option<u64>,
    /// Calls in flight at most.
    pub max_in_flight: Option<usize>,
    /// Calls in flight at most for one tenant.
    pub max_in_flight_per_tenant: Option<usize>,
    /// Seconds the calls in flight get to finish at shutdown.
    pub shutdown_grace: Option<u64>,
    /// Seconds a webhook job is a worker's before another may take it up
    /// (after a crash, work in flight resumes when its lease runs out).
    pub webhook_lease: Option<u64>,
    /// Seconds before each retry of a failed push (the push is a dead
    /// letter after the last); default 5, 300, 1800, 7200, 18000, 36000, 36000.
    pub webhook_retry: Option<Vec<u64>>,
    /// The longest long-poll of `GET /v1/events`, in seconds (default 60).
    pub events_max_wait: Option<u64>,
    /// Days finished webhook work (delivered events, dead letters, their
    /// deliveries) is kept; 0 keeps it forever (default 30).
    pub webhook_retention: Option<u64>,
}

/// A provider's rate limit in the configuration file.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RateLimit {
    /// The sustained rate.
    pub requests_per_second: f64,
    /// Requests allowed at once (default 1).
    #[serde(default = "one")]
    pub burst: u32,
}

fn one() -> u32 {
    1
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// What is wrong (key and line, for a TOML mistake).
    pub message: String,
}

impl ConfigFile {
    /// Reads a configuration file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
        let file: Self = toml::from_str(&text).map_err(|e| error(e.to_string().trim().to_string()))?;
        for (provider, limit) in file.rate_limits.iter().flatten() {
            if !(limit.requests_per_second.is_finite() && limit.requests_per_second > 0.0) || limit.burst == 0 {
                return Err(error(format!(
                    "rate-limits.\"{provider}\": requests-per-second must be a positive number and burst at least 1"
                )));
            }
        }
        Ok(file)
    }
}

/// What the HTTP service itself needs (the host is built apart).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The public base URL, for OAuth2 redirect URIs.
    pub public_url: Url,
    /// Where `/oauth/callback` sends the user afterwards.
    pub oauth_done_url: Option<Url>,
    /// The largest request body, in bytes (413 beyond).
    pub body_limit: usize,
    /// A call's deadline (504 beyond).
    pub call_timeout: Duration,
    /// Calls in flight at most (503 beyond).
    pub max_in_flight: usize,
    /// Calls in flight at most for one tenant (429 beyond).
    pub max_in_flight_per_tenant: usize,
    /// How long the calls in flight get to finish at shutdown.
    pub shutdown_grace: Duration,
    /// The webhook runtime: the ingress's limits, the push schedule, and
    /// whether pushes may go to private addresses.
    pub webhooks: patchbay_jobs::Config,
    /// The longest long-poll of `GET /v1/events`.
    pub events_max_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        let listen: SocketAddr = "127.0.0.1:8080".parse().expect("a socket address");
        Self {
            public_url: Url::parse(&format!("http://{listen}")).expect("a URL"),
            listen,
            oauth_done_url: None,
            body_limit: 1024 * 1024,
            call_timeout: crate::DEFAULT_CALL_TIMEOUT,
            max_in_flight: 256,
            max_in_flight_per_tenant: 32,
            shutdown_grace: Duration::from_secs(30),
            webhooks: patchbay_jobs::Config::default(),
            events_max_wait: Duration::from_secs(60),
        }
    }
}

impl Settings {
    /// The settings of a configuration file, defaults for what it leaves out.
    pub fn from_file(file: &ConfigFile) -> Self {
        let defaults = Self::default();
        let listen = file.listen.unwrap_or(defaults.listen);
        Self {
            listen,
            public_url: file
                .public_url
                .clone()
                .unwrap_or_else(|| Url::parse(&format!("http://{listen}")).expect("a URL")),
            oauth_done_url: file.oauth_done_url.clone(),
            body_limit: file.body_limit.unwrap_or(defaults.body_limit),
            call_timeout: file.call_timeout.map_or(defaults.call_timeout, Duration::from_secs),
            max_in_flight: file.max_in_flight.unwrap_or(defaults.max_in_flight),
            max_in_flight_per_tenant: file
                .max_in_flight_per_tenant
                .unwrap_or(defaults.max_in_flight_per_tenant),
            shutdown_grace: file.shutdown_grace.map_or(defaults.shutdown_grace, Duration::from_secs),
            webhooks: patchbay_jobs::Config {
                workers: patchbay_jobs::WorkerConfig {
                    allow_private_network: file.allow_private_network.unwrap_or(false),
                    lease: file
                        .webhook_lease
                        .map_or(defaults.webhooks.workers.lease, Duration::from_secs),
                    push_schedule: match &file.webhook_retry {
                        Some(delays) => patchbay_jobs::Schedule {
                            delays: delays.iter().map(|s| Duration::from_secs(*s)).collect(),
                            ..defaults.webhooks.workers.push_schedule.clone()
                        },
                        None => defaults.webhooks.workers.push_schedule.clone(),
                    },
                    ..defaults.webhooks.workers
                },
                retention: patchbay_jobs::RetentionConfig {
                    keep: match file.webhook_retention {
                        Some(0) => None,
                        Some(days) => Some(Duration::from_secs(days.saturating_mul(24 * 3600))),
                        None => defaults.webhooks.retention.keep,
                    },
                    ..defaults.webhooks.retention
                },
                ..defaults.webhooks
            },
            events_max_wait: file
                .events_max_wait
                .map_or(defaults.events_max_wait, Duration::from_secs),
        }
    }

    /// The URL a provider delivers a connection's webhooks to.
    pub fn ingress_url(&self, token: &str) -> String {
        format!("{}/v1/webhooks/{token}", self.public_url.as_str().trim_end_matches('/'))
    }

    /// The OAuth2 redirect URI: `<public-url>/oauth/callback`.
    pub fn callback_url(&self) -> String {
        format!("{}/oauth/callback", self.public_url.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_fills_the_settings_and_refuses_unknown_keys() {
        let file: ConfigFile = toml::from_str("listen = \"0.0.0.0:9000\"\ncall-timeout = 5\n").unwrap();
        let settings = Settings::from_file(&file);
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(settings.call_timeout, Duration::from_secs(5));
        assert_eq!(settings.callback_url(), "http://0.0.0.0:9000/oauth/callback");
        let typo = toml::from_str::<ConfigFile>("listne = \"0.0.0.0:9000\"\n").unwrap_err();
        assert!(typo.to_string().contains("unknown field `listne`"), "{typo}");
    }

    #[test]
    fn replicas_and_rate_limits_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.toml");
        std::fs::write(
            &path,
            "database = \"postgres://patchbay@db/patchbay\"\nredis = \"redis://cache\"\nreplicas = 3\n\
             [rate-limits.\"shop/woocommerce\"]\nrequests-per-second = 9.5\nburst = 5\n",
        )
        .unwrap();
        let file = ConfigFile::read(&path).unwrap();
        assert_eq!(file.database.as_deref(), Some("postgres://patchbay@db/patchbay"));
        assert_eq!((file.redis.as_deref(), file.replicas), (Some("redis://cache"), Some(3)));
        let limit = file.rate_limits.unwrap()["shop/woocommerce"];
        assert_eq!((limit.requests_per_second, limit.burst), (9.5, 5));
        std::fs::write(&path, "[rate-limits.\"shop/woocommerce\"]\nrequests-per-second = 0\n").unwrap();
        let error = ConfigFile::read(&path).unwrap_err().to_string();
        assert!(error.contains("rate-limits.\"shop/woocommerce\""), "{error}");
    }
}
