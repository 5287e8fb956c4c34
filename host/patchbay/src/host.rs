//! The host: engine, plugins, state, and the outbound policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::anomaly::CallSpikes;
use crate::cache::CompileCache;
use crate::connection::{ConnectOptions, Connection, ProviderOverrides, StoredLink};
use crate::connections::Connections;
use crate::credentials::{Credentials, Settings};
use crate::error::{ConnectError, LoadError};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::outbound::guarded_client;
use crate::outbound::{CircuitConfig, HostPattern, HttpLimits, OutboundPolicy, PatternError, Pipeline, RateQuota};
use crate::plugin::Plugin;
use crate::registry::{PluginRegistry, ReloadReport};
use crate::runtime::{self, CallState, EpochTicker};
use crate::services::Services;
use crate::store::{KvLimits, KvStore, SqliteStore, StoreError};
use crate::vault::{self, VaultError, VaultKey};
use sha2::Digest as _;

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

enum Database {
    Memory,
    File(PathBuf),
}

/// Configures a [`Host`].
pub struct HostBuilder {
    plugins_dir: Option<PathBuf>,
    database: Database,
    limits: Limits,
    http_limits: HttpLimits,
    kv_limits: KvLimits,
    operator_hosts: BTreeMap<String, Vec<String>>,
    rates: BTreeMap<String, RateQuota>,
    circuit: CircuitConfig,
    outbound: Option<Arc<dyn OutboundPolicy>>,
    pooling: bool,
    cache: Option<CompileCache>,
    plugin_limits: BTreeMap<String, Limits>,
    vault_key: Option<VaultKey>,
}

impl HostBuilder {
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

    /// Overrides a provider's rate limit (its manifest hint by default).
    pub fn rate_limit(mut self, provider: impl Into<String>, per_second: f64, burst: u32) -> Self {
        self.rates.insert(provider.into(), RateQuota { per_second, burst });
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

    /// Keeps state in this SQLite file (created when missing).
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.database = Database::File(path.into());
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
        self.cache = Some(CompileCache::new(dir));
        self
    }

    /// Uses the pooling instance allocator (default) or allocates on demand.
    pub fn pooling(mut self, enabled: bool) -> Self {
        self.pooling = enabled;
        self
    }

    /// Builds the host and loads the plugins directory. A bad plugin file is
    /// reported in [`Host::load_failures`] and skipped, never fatal.
    pub async fn build(self) -> Result<Host, HostError> {
        let engine = runtime::engine(&self.limits, self.pooling).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let linker = runtime::linker(&engine).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let (store, vault_key) = match &self.database {
            Database::Memory => (
                SqliteStore::in_memory()?,
                Some(self.vault_key.unwrap_or_else(VaultKey::generate)),
            ),
            Database::File(path) => (SqliteStore::open(path)?, self.vault_key),
        };
        if let Some(key) = &vault_key {
            vault::verify_key(&store, key).await?;
        }
        let oauth_http = guarded_client(&self.http_limits).map_err(|e| HostError::Http(e.to_string()))?;
        let kv: Arc<dyn KvStore> = Arc::new(store.clone());
        let metrics = Arc::new(Metrics::default());
        let pipeline = Arc::new(
            Pipeline::new(
                self.http_limits,
                self.circuit,
                Arc::new(store.clone()),
                Arc::clone(&metrics),
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
            overrides.entry(provider).or_default().rate = Some(quota);
        }
        let spikes = CallSpikes::new(std::time::Duration::from_secs(60), self.limits.call_spike_per_minute);
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
        let services = Arc::new(Services {
            kv,
            kv_limits: self.kv_limits,
            outbound,
            limits: self.limits,
            plugin_limits,
            metrics,
            spikes,
            oauth_http,
        });
        let ticker = EpochTicker::start(&engine);
        let host = Host {
            inner: Arc::new(HostInner {
                engine,
                linker,
                services,
                overrides,
                pipeline,
                registry: std::sync::RwLock::new(PluginRegistry::default()),
                cache: self.cache,
                store,
                vault_key: std::sync::RwLock::new(vault_key),
                _ticker: ticker,
            }),
        };
        if let Some(dir) = &self.plugins_dir {
            host.reload_dir(dir).await?;
        }
        Ok(host)
    }
}

struct HostInner {
    engine: Engine,
    linker: Linker<CallState>,
    services: Arc<Services>,
    overrides: BTreeMap<String, ProviderOverrides>,
    pipeline: Arc<Pipeline>,
    registry: std::sync::RwLock<PluginRegistry>,
    cache: Option<CompileCache>,
    store: SqliteStore,
    vault_key: std::sync::RwLock<Option<VaultKey>>,
    _ticker: EpochTicker,
}

/// A plugin file's bytes and their SHA-256 (hex), read and hashed once for
/// change detection, the plugin's identity and the compile cache's key.
fn read_plugin_file(path: &Path) -> std::io::Result<(Vec<u8>, String)> {
    let bytes = std::fs::read(path)?;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    Ok((bytes, sha256))
}

/// Keeps a plugins directory watched; reloading stops when dropped.
pub struct PluginWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PluginWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginWatcher").finish_non_exhaustive()
    }
}

impl Drop for PluginWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The Patchbay host. Cheap to clone; share it across tasks.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use patchbay::{Credentials, Host, Settings};
/// use patchbay::types::OrderQuery;
///
/// let host = Host::builder().plugins_dir("target/plugins").database("patchbay.db").build().await?;
/// let conn = host.connect(
///     "shop/woocommerce",
///     Credentials::from([("consumer_key", "ck_..."), ("consumer_secret", "cs_...")]),
///     Settings::from([("domain".to_string(), "https://shop.example.com".to_string())]),
/// )?;
/// let page = conn.shop()?.get_orders(&OrderQuery { since: None, cursor: None, limit: Some(50) }).await?;
/// println!("{} orders", page.items.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

impl Host {
    /// Starts configuring a host: in-memory state, no plugins, default limits.
    pub fn builder() -> HostBuilder {
        HostBuilder {
            plugins_dir: None,
            database: Database::Memory,
            limits: Limits::default(),
            http_limits: HttpLimits::default(),
            kv_limits: KvLimits::default(),
            operator_hosts: BTreeMap::new(),
            rates: BTreeMap::new(),
            circuit: CircuitConfig::default(),
            outbound: None,
            pooling: true,
            cache: None,
            plugin_limits: BTreeMap::new(),
            vault_key: None,
        }
    }

    /// Scans `dir` and brings the registry in line with it: new and changed
    /// files are (re)loaded, removed files unregistered. A file that fails to
    /// load is reported and, if it replaced a working version, that version
    /// keeps serving. Calls in flight keep the version they started with.
    pub async fn reload_dir(&self, dir: &Path) -> Result<ReloadReport, HostError> {
        let files = PluginRegistry::wasm_files(dir).map_err(|e| HostError::PluginsDir {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let mut report = ReloadReport::default();
        for file in &files {
            let Ok((bytes, sha256)) = read_plugin_file(file) else {
                continue;
            };
            let unchanged = self
                .inner
                .registry
                .read()
                .expect("registry lock")
                .files
                .get(file)
                .is_some_and(|f| f.sha256 == sha256);
            if unchanged {
                continue;
            }
            let outcome = self.load_bytes(file, &bytes, sha256.clone()).await;
            self.inner
                .registry
                .write()
                .expect("registry lock")
                .record(file, sha256, outcome, &mut report);
        }
        let mut registry = self.inner.registry.write().expect("registry lock");
        let gone: Vec<PathBuf> = registry
            .files
            .keys()
            .filter(|p| p.parent() == Some(dir) && !files.contains(p))
            .cloned()
            .collect();
        for path in gone {
            registry.forget(&path, &mut report);
        }
        Ok(report)
    }

    /// Watches `dir` and reloads it when files change, until the returned
    /// watcher is dropped.
    pub fn watch(&self, dir: &Path) -> Result<PluginWatcher, HostError> {
        use notify::Watcher as _;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok() {
                let _ = tx.send(());
            }
        })
        .map_err(|e| HostError::PluginsDir {
            path: dir.to_path_buf(),
            reason: format!("cannot watch: {e}"),
        })?;
        watcher
            .watch(dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| HostError::PluginsDir {
                path: dir.to_path_buf(),
                reason: format!("cannot watch: {e}"),
            })?;
        let host = Arc::downgrade(&self.inner);
        let dir = dir.to_path_buf();
        let task = tokio::spawn(async move {
            while rx.recv().await.is_some() {
                // Let a burst of events (a copy in progress) settle.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                while rx.try_recv().is_ok() {}
                let Some(inner) = host.upgrade() else { break };
                let host = Host { inner };
                match host.reload_dir(&dir).await {
                    Ok(report) if report != ReloadReport::default() => {
                        tracing::info!(?report, "plugins directory reloaded")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot reload the plugins directory"),
                }
            }
        });
        Ok(PluginWatcher {
            _watcher: watcher,
            task,
        })
    }

    /// Loads and checks one plugin file without registering it.
    pub async fn load_file(&self, path: &Path) -> Result<Plugin, LoadError> {
        let (bytes, sha256) = read_plugin_file(path).map_err(|e| LoadError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        self.load_bytes(path, &bytes, sha256).await
    }

    /// Loads a plugin whose file was read (and hashed) already.
    async fn load_bytes(&self, path: &Path, bytes: &[u8], sha256: String) -> Result<Plugin, LoadError> {
        let inner = &self.inner;
        Plugin::load(
            &inner.engine,
            &inner.linker,
            &inner.services,
            inner.cache.as_ref(),
            path,
            bytes,
            sha256,
        )
        .await
    }

    /// Loaded providers, by key.
    pub fn providers(&self) -> Vec<Arc<Plugin>> {
        self.inner
            .registry
            .read()
            .expect("registry lock")
            .providers()
            .cloned()
            .collect()
    }

    /// A loaded provider.
    pub fn provider(&self, key: &str) -> Option<Arc<Plugin>> {
        self.inner.registry.read().expect("registry lock").get(key).cloned()
    }

    /// Why files of the plugins directory were skipped.
    pub fn load_failures(&self) -> Vec<String> {
        self.inner
            .registry
            .read()
            .expect("registry lock")
            .failures()
            .map(ToString::to_string)
            .collect()
    }

    /// Connects to a provider with credentials and settings; they are checked
    /// against the plugin's manifest.
    pub fn connect(
        &self,
        provider: &str,
        credentials: Credentials,
        settings: Settings,
    ) -> Result<Connection, ConnectError> {
        self.connect_with(provider, credentials, settings, ConnectOptions::default())
    }

    /// [`connect`](Self::connect) with options.
    pub fn connect_with(
        &self,
        provider: &str,
        credentials: Credentials,
        settings: Settings,
        options: ConnectOptions,
    ) -> Result<Connection, ConnectError> {
        self.connect_inner(provider, credentials, settings, options, None)
    }

    /// A stored connection (see [`Connections::open`]).
    pub(crate) fn connect_stored(
        &self,
        provider: &str,
        credentials: Credentials,
        settings: Settings,
        id: String,
        link: StoredLink,
    ) -> Result<Connection, ConnectError> {
        let options = ConnectOptions { id: Some(id) };
        self.connect_inner(provider, credentials, settings, options, Some(link))
    }

    fn connect_inner(
        &self,
        provider: &str,
        credentials: Credentials,
        settings: Settings,
        options: ConnectOptions,
        stored: Option<StoredLink>,
    ) -> Result<Connection, ConnectError> {
        let plugin = self.provider(provider).ok_or_else(|| {
            let available = self.providers().iter().map(|p| p.key().to_string()).collect::<Vec<_>>();
            ConnectError::UnknownProvider {
                provider: provider.to_string(),
                available: if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                },
            }
        })?;
        let overrides = self.inner.overrides.get(provider).cloned().unwrap_or_default();
        Connection::new(
            plugin,
            credentials,
            settings,
            overrides,
            options,
            stored,
            Arc::clone(&self.inner.services),
        )
    }

    /// The stored connections of `tenant`, sealed in the vault.
    ///
    /// ```no_run
    /// # async fn demo(host: patchbay::Host) -> anyhow::Result<()> {
    /// use patchbay::{Credentials, NewConnection, Settings};
    /// let shops = host.connections("acme");
    /// let info = shops.add(NewConnection {
    ///     provider: "shop/woocommerce".into(),
    ///     display_name: "Acme shop".into(),
    ///     credentials: Credentials::from([("consumer_key", "ck_..."), ("consumer_secret", "cs_...")]),
    ///     settings: Settings::from([("domain".to_string(), "https://shop.example.com".to_string())]),
    ///     id: None,
    /// }).await?;
    /// let orders = shops.open(&info.id).await?.call_json("shop.get-orders", &serde_json::json!({"query": {}})).await?;
    /// # Ok(()) }
    /// ```
    pub fn connections(&self, tenant: impl Into<String>) -> Connections {
        Connections::new(self.clone(), tenant.into())
    }

    /// Re-seals every stored secret under `new_key` in one transaction and
    /// makes it the host's key. Returns how many connections were re-sealed.
    /// Nothing changes if any value fails to open with the current key.
    pub async fn rotate_vault_key(&self, new_key: VaultKey) -> Result<usize, VaultError> {
        let old = self.vault_key().ok_or(VaultError::NoKey)?;
        vault::verify_key(&self.inner.store, &old).await?;
        let fresh = new_key.clone();
        let check = new_key.seal(vault::KEY_CHECK, vault::KEY_CHECK_CONTEXT);
        let count = self
            .inner
            .store
            .reseal_all(
                move |context, sealed| {
                    let plain = old.open(sealed, context).map_err(|e| e.to_string())?;
                    Ok(fresh.seal(&plain, context))
                },
                new_key.fingerprint(),
                check,
            )
            .await?;
        *self.inner.vault_key.write().expect("vault key lock") = Some(new_key);
        Ok(count)
    }

    pub(crate) fn store(&self) -> &SqliteStore {
        &self.inner.store
    }

    pub(crate) fn vault_key(&self) -> Option<VaultKey> {
        self.inner.vault_key.read().expect("vault key lock").clone()
    }

    pub(crate) fn oauth_http(&self) -> &reqwest::Client {
        &self.inner.services.oauth_http
    }

    /// The host's metrics in the OpenMetrics text format, for a Prometheus
    /// scrape: calls, outbound requests by status, retries, rate-limit
    /// waits, latencies, circuit state.
    pub fn metrics_text(&self) -> String {
        self.inner.services.metrics.encode()
    }

    /// Re-enables a connection that the circuit breaker disabled after
    /// repeated authentication failures.
    pub async fn reenable(&self, connection_id: &str) -> Result<(), StoreError> {
        self.inner.pipeline.circuit().reenable(connection_id).await
    }

    /// The WebAssembly engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}
