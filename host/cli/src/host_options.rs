//! Options every command that opens the state database shares, and the
//! vault key they need.

use std::path::PathBuf;

use patchbay::vault::{KeyOrigin, VaultKey};
use patchbay::{Host, HostBuilder};

use super::{Failure, default_database};

#[derive(clap::Args, Clone)]
pub(crate) struct HostOptions {
    /// The plugins directory.
    #[arg(long, global = true, env = "PATCHBAY_PLUGINS")]
    pub plugins: Option<PathBuf>,
    /// Where state lives: a SQLite file, or a PostgreSQL URL
    /// (postgres://user:password@host:port/db) that several replicas share
    /// (default: $PATCHBAY_DATABASE or ~/.local/share/patchbay/patchbay.db).
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_DATABASE_URL",
        hide_env_values = true,
        value_name = "FILE|URL"
    )]
    pub database: Option<String>,
    /// A Redis server (redis://[user:password@]host:port) that keeps the
    /// rate budgets every replica shares.
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_REDIS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub redis: Option<String>,
    /// How many replicas serve the same connections: when their rate
    /// budgets are not shared (no Redis, or Redis away) each keeps 1/N of
    /// every quota (default 1).
    #[arg(long, global = true, env = "PATCHBAY_REPLICAS", value_name = "N")]
    pub replicas: Option<u32>,
    /// The vault key file, created with a new key when missing
    /// (default: $PATCHBAY_VAULT_KEY_FILE or ~/.config/patchbay/vault.key).
    /// $PATCHBAY_VAULT_KEY, a base64 key, takes precedence.
    #[arg(long, global = true, value_name = "FILE")]
    pub vault_key_file: Option<PathBuf>,
    /// Let plugins (and OAuth2 token requests) reach private, loopback and
    /// link-local addresses (needed for local mock servers; off by default).
    #[arg(long, global = true)]
    pub allow_private_network: bool,
    /// Only allow these hosts (narrows what the plugin declares; repeatable).
    /// Applies to every command that calls a plugin or a token endpoint.
    #[arg(long = "allow-host", global = true, value_name = "PATTERN")]
    pub allow_hosts: Vec<String>,
    /// Name every compiled plugin function in /tmp/perf-PID.map, so that
    /// `perf record -g -p PID` shows where a plugin spends its time.
    #[arg(long, global = true, env = "PATCHBAY_PERF_MAP")]
    pub perf_map: bool,
}

/// Whether `--database` names a PostgreSQL server rather than a file.
pub(crate) fn is_postgres_url(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// Where the vault key is kept when no option says otherwise.
pub(crate) fn default_key_file() -> PathBuf {
    super::user_path("PATCHBAY_VAULT_KEY_FILE", "XDG_CONFIG_HOME", ".config", "vault.key")
}

impl HostOptions {
    pub(crate) fn key_file(&self) -> PathBuf {
        self.vault_key_file.clone().unwrap_or_else(default_key_file)
    }

    /// The vault key, created (and announced) on first use.
    pub(crate) fn vault_key(&self) -> Result<VaultKey, Failure> {
        let key = VaultKey::load_or_create(&self.key_file()).map_err(|e| Failure::usage(e.to_string()))?;
        if let KeyOrigin::Generated(path) = key.origin() {
            eprintln!(
                "created a new vault key in {} (permissions 0600); keep it safe and back it up: \
                 stored credentials cannot be read without it",
                path.display()
            );
        }
        Ok(key)
    }

    /// A host builder over the database and plugins, for a short-lived
    /// command (no instance pool, the on-disk compile cache).
    pub(crate) fn builder(&self) -> HostBuilder {
        let mut builder = Host::builder()
            .pooling(false)
            .compile_cache(super::default_cache())
            .allow_private_network(self.allow_private_network)
            .perf_map(self.perf_map);
        builder = match self.database.as_deref() {
            Some(url) if is_postgres_url(url) => builder.postgres(url),
            Some(path) => builder.database(path),
            None => builder.database(default_database()),
        };
        if let Some(url) = &self.redis {
            builder = builder.redis(url);
        }
        builder = builder.replicas(self.replicas.unwrap_or(1));
        if !self.allow_hosts.is_empty() {
            builder = builder.restrict_all_hosts(self.allow_hosts.clone());
        }
        match &self.plugins {
            Some(dir) => builder.plugins_dir(dir),
            None => builder,
        }
    }

    /// A host over the database and plugins, with the vault key.
    pub(crate) async fn host(&self) -> Result<Host, Failure> {
        self.host_with(self.vault_key()?).await
    }

    /// A host with a key read already. When the key does not fit the
    /// database and a staged key from an interrupted rotation does, says so.
    pub(crate) async fn host_with(&self, key: VaultKey) -> Result<Host, Failure> {
        match self.builder().vault_key(key).build().await {
            Ok(host) => Ok(host),
            Err(error @ patchbay::HostError::Vault(patchbay::vault::VaultError::WrongKey { .. })) => {
                let staged = staged_key_file(&self.key_file());
                let hint = if staged.is_file() {
                    format!(
                        "; a key rotation was interrupted after the database was re-encrypted: \
                         the new key is in {}, move it to {}",
                        staged.display(),
                        self.key_file().display()
                    )
                } else {
                    String::new()
                };
                Err(Failure::of(error.kind(), format!("{error}{hint}")))
            }
            Err(error) => Err(Failure::of(error.kind(), error.to_string())),
        }
    }
}

/// Where a rotation stages the new key before the database changes.
pub(crate) fn staged_key_file(key_file: &std::path::Path) -> PathBuf {
    key_file.with_extension("key-new")
}

/// Builds a host; a failure is the operator's configuration.
pub(crate) async fn build(builder: HostBuilder) -> Result<Host, Failure> {
    builder.build().await.map_err(|e| Failure::of(e.kind(), e.to_string()))
}
