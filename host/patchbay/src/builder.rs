//! Configuring a host: where state lives, which plugins load, the limits
//! and policies every call runs under.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use patchbay_outbound::{CircuitConfig, HostPattern, HttpLimits, OutboundPolicy, Pipeline, RateQuota};
use patchbay_sandbox::{CompileCache, EngineOptions, Limits, Sandbox, Services};
use patchbay_secrets::VaultKey;
use patchbay_store::{KvLimits, MemoryStore, QuotaShare, RateStore, Stores};
use patchbay_store_postgres::{PostgresConfig, PostgresStore};
use patchbay_store_redis::{RedisConfig, RedisRates};
use patchbay_store_sqlite::SqliteStore;

use crate::connect::{Connector, ProviderOverrides};
use crate::connections::StoredParts;
use crate::error::HostError;
use crate::host::{Host, HostInner};
use crate::metrics::Metrics;
use crate::oauth::TokenHttp;
use crate::registry::PluginRegistry;
use crate::vault_key::{KeyHolder, verify_key};

enum Database {
    Memory,
    File(PathBuf),
    Postgres(String),
    Stores(Stores),
}

/// Where rate budgets are kept, when not in process.
enum SharedRates {
    Store(Arc<dyn RateStore>),
    Redis(String),
}

/// Configures a [`Host`].
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use std::time::Duration;
/// use patchbay::{Host, Limits};
///
/// let host = Host::builder()
///     .plugins_dir("plugins")                      // every *.wasm; bad files are reported, not fatal
///     .database("state/patchbay.db")               // SQLite; `.postgres(url)` for replicas
///     .compile_cache("cache/compiled")             // large plugins load in milliseconds
///     .restrict_hosts("shop/woocommerce", ["https://shop.example.com"])
///     .rate_limit("shop/woocommerce", 5.0, 10)
///     .limits(Limits { call_timeout: Duration::from_secs(20), ..Limits::default() })
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
pub struct HostBuilder {
    plugins_dir: Option<PathBuf>,
    only_providers: Option<std::collections::BTreeSet<String>>,
    database: Database,
    limits: Limits,
    http_limits: HttpLimits,
    kv_limits: KvLimits,
    operator_hosts: BTreeMap<String, Vec<String>>,
    rates: BTreeMap<String, RateQuota>,
    circuit: CircuitConfig,
    outbound: Option<Arc<dyn OutboundPolicy>>,
    engine: EngineOptions,
    cache: Option<PathBuf>,
    plugin_limits: BTreeMap<String, Limits>,
    vault_key: Option<VaultKey>,
    rate_store: Option<SharedRates>,
    replicas: u32,
    sigv4: BTreeMap<String, Arc<[String]>>,
    all_hosts: Option<Vec<String>>,
    blob_dir: Option<PathBuf>,
}

/// The key of the hashes that identify credentials: derived from the vault
/// key, so that nothing in the database lets anyone test guessed
/// credentials. Without a vault key, a random key kept in the store's own
/// namespace keeps the hashes stable across restarts (and protects them only
/// as far as the database is protected).
async fn hash_key(stores: &Stores, vault_key: Option<&VaultKey>) -> Result<[u8; 32], HostError> {
    const PURPOSE: &str = "connection hashes";
    if let Some(key) = vault_key {
        return Ok(key.derive(PURPOSE));
    }
    let kept = stores.kv.get(HOST_NAMESPACE, "hash-key").await?;
    if let Some(key) = kept
        .as_deref()
        .and_then(|k| VaultKey::from_base64(std::str::from_utf8(k).ok()?).ok())
    {
        return Ok(key.derive(PURPOSE));
    }
    let key = VaultKey::generate();
    stores
        .kv
        .set(
            HOST_NAMESPACE,
            "hash-key",
            key.to_base64().as_bytes(),
            None,
            &KvLimits::default(),
        )
        .await?;
    Ok(key.derive(PURPOSE))
}

/// The host's own `kv` namespace (connections' are `conn:` and `tenant:`).
const HOST_NAMESPACE: &str = "host";

impl Host {
    /// Starts configuring a host: in-memory state, no plugins, default limits.
    pub fn builder() -> HostBuilder {
        HostBuilder::new()
    }
}

impl HostBuilder {
    fn new() -> Self {
        Self {
            plugins_dir: None,
            only_providers: None,
            database: Database::Memory,
            limits: Limits::default(),
            http_limits: HttpLimits::default(),
            kv_limits: KvLimits::default(),
            operator_hosts: BTreeMap::new(),
            rates: BTreeMap::new(),
            circuit: CircuitConfig::default(),
            outbound: None,
            engine: EngineOptions::default(),
            cache: None,
            plugin_limits: BTreeMap::new(),
            vault_key: None,
            rate_store: None,
            replicas: 1,
            sigv4: BTreeMap::new(),
            all_hosts: None,
            blob_dir: None,
        }
    }

    /// Spools blobs in a directory of the host's own inside `dir`: the
    /// answers plugins write into blobs and the streams
    /// [`Connection::blob_from_reader`](crate::Connection::blob_from_reader)
    /// takes, each in a temporary file deleted with its last handle.
    /// Default: the system's temporary directory. It needs room for the
    /// largest file in flight (see
    /// [`HttpLimits::max_blob_bytes`](crate::outbound::HttpLimits)). The
    /// host's directory is locked while it lives; building a host deletes
    /// the spools in `dir` that no living host holds — the files of a
    /// process that crashed or was killed mid-transfer
    /// ([`Spool`](crate::outbound::Spool)).
    pub fn blob_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.blob_dir = Some(dir.into());
        self
    }

    /// Keeps every kind of state in these stores (a backend of your choice;
    /// [`database`](Self::database) is the SQLite shorthand). A host needs
    /// a vault key for stored connections: see [`vault_key`](Self::vault_key).
    pub fn stores(mut self, stores: Stores) -> Self {
        self.database = Database::Stores(stores);
        self
    }

    /// Keeps rate budgets in `store` (in process by default; a shared store
    /// makes replicas share budgets and pauses).
    pub fn rate_store(mut self, store: Arc<dyn RateStore>) -> Self {
        self.rate_store = Some(SharedRates::Store(store));
        self
    }

    /// Keeps rate budgets in the Redis server at `url`
    /// (`redis://[user:password@]host:port[/db]`), shared by every replica
    /// using it, with their providers' `Retry-After` pauses. While Redis
    /// cannot be reached, each replica keeps its share of every quota in
    /// process (see [`replicas`](Self::replicas); it logs when that starts
    /// and ends); a call never waits on Redis for more than half a second.
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.rate_store = Some(SharedRates::Redis(url.into()));
        self
    }

    /// How many replicas serve the same connections (1 by default). A
    /// replica whose rate budgets are not shared — no Redis, or Redis
    /// away — keeps `1/replicas` of every quota, so that together they
    /// stay within the provider's limit.
    pub fn replicas(mut self, replicas: u32) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    /// Seals stored credentials and tokens with this key. A database that
    /// was sealed with another key refuses it when the host is built. An
    /// in-memory database without a key gets a random one; a database file
    /// without a key cannot store connections.
    pub fn vault_key(mut self, key: VaultKey) -> Self {
        self.vault_key = Some(key);
        self
    }

    /// Lets plugins reach private, loopback and link-local addresses (off by
    /// default; tests and local demos against mock servers need it).
    pub fn allow_private_network(mut self, allow: bool) -> Self {
        self.http_limits.allow_private_network = allow;
        self
    }

    /// Trusts a certificate authority (PEM) for the SMTP and FTPS doors
    /// besides the public roots: the CA of a private mail relay or file
    /// server.
    pub fn door_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.http_limits.door_root_certificates.push(pem.into());
        self
    }

    /// Overrides a provider's rate limit (its manifest hint by default).
    pub fn rate_limit(mut self, provider: impl Into<String>, per_second: f64, burst: u32) -> Self {
        self.rates.insert(provider.into(), RateQuota { per_second, burst });
        self
    }

    /// Pins the AWS services a provider's requests may be signed for
    /// (SigV4). Without a pin, any service but those that hand out or change
    /// credentials (`sts`, `iam`, `sso`, `signin`) is signed.
    pub fn sigv4_services<I, S>(mut self, provider: impl Into<String>, services: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.sigv4.insert(
            provider.into(),
            services.into_iter().map(Into::into).collect::<Vec<String>>().into(),
        );
        self
    }

    /// Thresholds of the circuit breaker.
    pub fn circuit(mut self, config: CircuitConfig) -> Self {
        self.circuit = config;
        self
    }

    /// Loads every `*.wasm` of `dir` at build time.
    pub fn plugins_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugins_dir = Some(dir.into());
        self
    }

    /// Loads only these providers (`family/name`) from the plugins
    /// directory, for a host that serves one call: with a
    /// [compile cache](Self::compile_cache), a file the cache knows holds
    /// another provider (and has not changed since) is not even read; a file
    /// it does not know is loaded to find out what it holds.
    pub fn only_providers(mut self, keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.only_providers = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Keeps state in this SQLite file (created when missing).
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.database = Database::File(path.into());
        self
    }

    /// Keeps state in the PostgreSQL database at `url`
    /// (`postgres://user:password@host:port/database`), which several
    /// replicas share: connections, vault, kv, tokens (refreshed one
    /// replica at a time), the webhook inbox and its jobs. The schema is
    /// created or migrated when the host is built.
    pub fn postgres(mut self, url: impl Into<String>) -> Self {
        self.database = Database::Postgres(url.into());
        self
    }

    /// Keeps state in memory only (the default).
    pub fn in_memory_database(mut self) -> Self {
        self.database = Database::Memory;
        self
    }

    /// Per-call limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Limits of the outbound HTTP pipeline.
    pub fn http_limits(mut self, limits: HttpLimits) -> Self {
        self.http_limits = limits;
        self
    }

    /// Quotas of the per-connection key-value store.
    pub fn kv_limits(mut self, limits: KvLimits) -> Self {
        self.kv_limits = limits;
        self
    }

    /// Narrows the hosts a provider may reach to these patterns (the grant
    /// is what the plugin declares ∩ what is allowed here).
    pub fn restrict_hosts<I, S>(mut self, provider: impl Into<String>, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.operator_hosts
            .insert(provider.into(), patterns.into_iter().map(Into::into).collect());
        self
    }

    /// Narrows the hosts of every provider that has no narrowing of its own
    /// ([`restrict_hosts`](Self::restrict_hosts)) to these patterns.
    pub fn restrict_all_hosts<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.all_hosts = Some(patterns.into_iter().map(Into::into).collect());
        self
    }

    /// Replaces the outbound policy (the standard [`Pipeline`] by default).
    pub fn outbound_policy(mut self, policy: Arc<dyn OutboundPolicy>) -> Self {
        self.outbound = Some(policy);
        self
    }

    /// Limits for one provider's calls, replacing the host-wide ones. The
    /// instance pool is sized from the host-wide limits, so a plugin's
    /// memory limit can only be lower than the host's.
    pub fn plugin_limits(mut self, provider: impl Into<String>, limits: Limits) -> Self {
        self.plugin_limits.insert(provider.into(), limits);
        self
    }

    /// Keeps compiled components in `dir`, keyed by content hash and engine
    /// configuration, so that large plugins load in milliseconds.
    pub fn compile_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(dir.into());
        self
    }

    /// Uses the pooling instance allocator (default) or allocates on demand.
    pub fn pooling(mut self, enabled: bool) -> Self {
        self.engine.pooling = enabled;
        self
    }

    /// Names every compiled plugin function in `/tmp/perf-PID.map`, so that
    /// `perf record` attributes samples of guest code to the plugin's own
    /// functions (off by default; for profiling).
    pub fn perf_map(mut self, enabled: bool) -> Self {
        self.engine.perf_map = enabled;
        self
    }

    /// Builds the host and loads the plugins directory. A bad plugin file is
    /// reported in [`Host::load_failures`] and skipped, never fatal.
    pub async fn build(self) -> Result<Host, HostError> {
        let (stores, vault_key) = match self.database {
            Database::Memory => (
                Stores::all_in(SqliteStore::in_memory()?),
                Some(self.vault_key.unwrap_or_else(VaultKey::generate)),
            ),
            Database::File(path) => (Stores::all_in(SqliteStore::open(path)?), self.vault_key),
            Database::Postgres(url) => (
                Stores::all_in(PostgresStore::connect(&url, PostgresConfig::default()).await?),
                self.vault_key,
            ),
            Database::Stores(stores) => (stores, self.vault_key),
        };
        // Rate budgets are written on every request: in process unless they
        // are shared.
        let rates: Arc<dyn RateStore> = match self.rate_store {
            Some(SharedRates::Store(store)) => store,
            Some(SharedRates::Redis(url)) => Arc::new(RedisRates::new(
                &url,
                RedisConfig {
                    replicas: self.replicas,
                    ..RedisConfig::default()
                },
            )?),
            None if self.replicas > 1 => Arc::new(QuotaShare::new(MemoryStore::new(), self.replicas)),
            None => Arc::new(MemoryStore::new()),
        };
        let stores = stores.with_rates(rates);
        if let Some(key) = &vault_key {
            verify_key(&*stores.vault, key).await?;
        }
        // The cache holds native code: its directory is checked before use.
        let cache = self.cache.map(CompileCache::open).transpose()?;
        let oauth_http = TokenHttp::new(&self.http_limits).map_err(|e| HostError::Http(e.to_string()))?;
        let metrics = Metrics::new();
        let pipeline = Arc::new(
            Pipeline::new(
                self.http_limits,
                self.circuit,
                Arc::clone(&stores.circuits),
                Arc::clone(&stores.rates),
                Arc::clone(&metrics.outbound),
            )
            .map_err(|e| HostError::Http(e.to_string()))?,
        );
        let outbound: Arc<dyn OutboundPolicy> = match self.outbound {
            Some(policy) => policy,
            None => pipeline.clone(),
        };
        let mut overrides: BTreeMap<String, ProviderOverrides> = BTreeMap::new();
        for (provider, patterns) in self.operator_hosts {
            let parsed = patterns
                .iter()
                .map(|p| HostPattern::parse(p))
                .collect::<Result<Vec<_>, _>>()?;
            overrides.entry(provider).or_default().hosts = Some(parsed);
        }
        for (provider, quota) in self.rates {
            if !crate::manifest::RATE_RANGE.contains(&quota.per_second) {
                return Err(HostError::RateLimit {
                    provider,
                    per_second: quota.per_second,
                });
            }
            overrides.entry(provider).or_default().rate = Some(quota);
        }
        let all_hosts = self
            .all_hosts
            .map(|patterns| {
                patterns
                    .iter()
                    .map(|p| HostPattern::parse(p))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        for (provider, services) in self.sigv4 {
            overrides.entry(provider).or_default().sigv4 = Some(services);
        }
        let global_memory = self.limits.max_memory_bytes;
        let plugin_limits = self
            .plugin_limits
            .into_iter()
            .map(|(provider, limits)| {
                let max_memory_bytes = limits.max_memory_bytes.min(global_memory);
                (
                    provider,
                    Limits {
                        max_memory_bytes,
                        ..limits
                    },
                )
            })
            .collect();
        let spool_parent = self.blob_dir.unwrap_or_else(std::env::temp_dir);
        let (spool, swept) =
            patchbay_outbound::Spool::open(&spool_parent).map_err(|e| HostError::Spool(e.to_string()))?;
        if swept.spools > 0 {
            tracing::info!(
                dir = %spool_parent.display(),
                spools = swept.spools,
                files = swept.files,
                bytes = swept.bytes,
                "deleted the blob spools of hosts that are gone (crashed or killed mid-transfer)"
            );
        }
        let services = Services {
            kv: Arc::clone(&stores.kv),
            kv_limits: self.kv_limits,
            outbound,
            limits: self.limits,
            plugin_limits,
            metrics: Arc::clone(&metrics.calls),
            spool,
        };
        let sandbox = Arc::new(Sandbox::new(services, self.engine).map_err(|e| HostError::Engine(format!("{e:#}")))?);
        let hash_key = hash_key(&stores, vault_key.as_ref()).await?;
        let connector = Arc::new(Connector {
            sandbox,
            registry: RwLock::new(PluginRegistry::default()),
            overrides,
            all_hosts,
            oauth_http,
            hash_key,
        });
        let stored = Arc::new(StoredParts {
            connector: Arc::clone(&connector),
            stores,
            key: Arc::new(KeyHolder::new(vault_key)),
            circuits: pipeline.circuit().clone(),
            ingress: Default::default(),
        });
        let host = Host {
            inner: Arc::new(HostInner {
                connector,
                stored,
                cache,
                only_providers: self.only_providers,
                metrics,
            }),
        };
        if let Some(dir) = &self.plugins_dir {
            host.reload_dir(dir).await?;
        }
        Ok(host)
    }
}
