//! The host: the loaded plugins, connections to them, stored connections,
//! and the host's metrics.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::collections::BTreeSet;

use patchbay_sandbox::{CompileCache, FileStamp, KnownFile};
use patchbay_secrets::{Credentials, Settings, VaultKey};
use patchbay_store::StoreError;
use sha2::Digest as _;

use crate::api_keys::ApiKeys;
use crate::connect::Connector;
use crate::connection::{ConnectOptions, Connection};
use crate::connections::{ConnectionInfo, Connections, ConnectionsError, StoredParts};
use crate::error::{ConnectError, HostError, LoadError};
use crate::metrics::Metrics;
use crate::plugin::Plugin;
use crate::registry::{PluginRegistry, ReloadReport};

pub(crate) struct HostInner {
    pub connector: Arc<Connector>,
    pub stored: Arc<StoredParts>,
    pub cache: Option<CompileCache>,
    /// The providers this host loads, when not all
    /// ([`HostBuilder::only_providers`](crate::HostBuilder::only_providers)).
    pub only_providers: Option<BTreeSet<String>>,
    pub metrics: Metrics,
}

/// A plugin file read for loading.
struct PluginFile {
    bytes: Vec<u8>,
    /// SHA-256 (hex) of `bytes`: change detection, the plugin's identity and
    /// the compile cache's key.
    sha256: String,
    /// The file as stamped before it was read, to remember what it holds.
    stamp: Option<FileStamp>,
    /// What the compile cache already knew of it, when that still holds.
    known: Option<KnownFile>,
}

/// Reads a plugin file; its SHA-256 comes from the compile cache when the
/// cache saw this very file before (same inode, size and times), else it is
/// computed.
fn read_plugin_file(
    path: &Path,
    cache: Option<&CompileCache>,
    known: Option<KnownFile>,
) -> std::io::Result<PluginFile> {
    let stamp = cache.and_then(|_| CompileCache::stamp_file(path));
    let bytes = std::fs::read(path)?;
    let known = known.filter(|known| stamp.as_ref() == Some(&known.stamp) && CompileCache::stamp_file(path) == stamp);
    let sha256 = match &known {
        Some(known) => known.sha256.clone(),
        None => hex::encode(sha2::Sha256::digest(&bytes)),
    };
    Ok(PluginFile {
        bytes,
        sha256,
        stamp,
        known,
    })
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
    pub(crate) inner: Arc<HostInner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

impl Host {
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
        let cache = self.inner.cache.as_ref();
        for file in &files {
            let known = cache.and_then(|c| c.known_file(file));
            let unwanted = |key: &str| {
                self.inner
                    .only_providers
                    .as_ref()
                    .is_some_and(|only| !only.contains(key))
            };
            if known.as_ref().and_then(|k| k.provider.as_deref()).is_some_and(unwanted) {
                report.skipped.push(file.clone());
                continue;
            }
            let Ok(read) = read_plugin_file(file, cache, known) else {
                continue;
            };
            let unchanged = self
                .inner
                .connector
                .registry
                .read()
                .expect("registry lock")
                .files
                .get(file)
                .is_some_and(|f| f.sha256 == read.sha256);
            if unchanged {
                continue;
            }
            let outcome = self.load_bytes(file, &read.bytes, read.sha256.clone()).await;
            let provider = outcome.as_ref().ok().map(Plugin::key);
            let already_known = read.known.as_ref().is_some_and(|k| k.provider.as_deref() == provider);
            if let (Some(cache), Some(stamp), false) = (cache, &read.stamp, already_known) {
                cache.remember_file(file, stamp, &read.sha256, provider);
            }
            if outcome.as_ref().is_ok_and(|plugin| unwanted(plugin.key())) {
                continue;
            }
            self.inner.connector.registry.write().expect("registry lock").record(
                file,
                read.sha256,
                outcome,
                &mut report,
            );
        }
        let mut registry = self.inner.connector.registry.write().expect("registry lock");
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

    /// Loads and checks one plugin file without registering it.
    pub async fn load_file(&self, path: &Path) -> Result<Plugin, LoadError> {
        let cache = self.inner.cache.as_ref();
        let known = cache.and_then(|c| c.known_file(path));
        let read = read_plugin_file(path, cache, known).map_err(|e| LoadError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        self.load_bytes(path, &read.bytes, read.sha256).await
    }

    /// Loads a plugin whose file was read (and hashed) already.
    async fn load_bytes(&self, path: &Path, bytes: &[u8], sha256: String) -> Result<Plugin, LoadError> {
        Plugin::load(
            &self.inner.connector.sandbox,
            self.inner.cache.as_ref(),
            path,
            bytes,
            sha256,
        )
        .await
    }

    /// Loaded providers, by key.
    pub fn providers(&self) -> Vec<Arc<Plugin>> {
        self.inner
            .connector
            .registry
            .read()
            .expect("registry lock")
            .providers()
            .cloned()
            .collect()
    }

    /// A loaded provider.
    pub fn provider(&self, key: &str) -> Option<Arc<Plugin>> {
        self.inner.connector.provider(key)
    }

    /// Why files of the plugins directory were skipped.
    pub fn load_failures(&self) -> Vec<String> {
        self.inner
            .connector
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
        self.inner
            .connector
            .connect(provider, credentials, settings, options, None)
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
    ///     ..NewConnection::default()                 // a random id; every credential secret
    /// }).await?;
    /// let orders = shops.open(&info.id).await?.call_json("shop.get-orders", &serde_json::json!({"query": {}})).await?;
    /// # Ok(()) }
    /// ```
    pub fn connections(&self, tenant: impl Into<String>) -> Connections {
        Connections::new(Arc::clone(&self.inner.stored), tenant.into())
    }

    /// Finishes an OAuth2 authorization from the provider's callback, which
    /// carries only `state` and `code`: the state names the tenant and the
    /// connection it was started for.
    pub async fn complete_authorization(&self, state: &str, code: &str) -> Result<ConnectionInfo, ConnectionsError> {
        let params = crate::connections::authorization::callback_params(state, code, &[]);
        self.complete_callback(&params).await
    }

    /// [`complete_authorization`](Self::complete_authorization) from every
    /// query parameter of the provider's callback (`state`, `code` and the
    /// rest): a plugin exporting `oauth-callback` checks them before the code
    /// is exchanged (Shopify signs them).
    pub async fn complete_callback(&self, params: &[(String, String)]) -> Result<ConnectionInfo, ConnectionsError> {
        let (state, code) = crate::connections::authorization::state_and_code(params)?;
        let anyone = self.connections(String::new());
        let pending = anyone.take_pending(state).await?;
        if pending.tenant.is_empty() {
            // Started before tenants were recorded: only its own tenant can finish it.
            return Err(ConnectionsError::UnknownState(state.to_string()));
        }
        let tenant = self.connections(pending.tenant.clone());
        let row = tenant.row(&pending.connection_id).await?;
        tenant.finish(state, code, params, pending, row).await
    }

    /// The API keys of a Patchbay service (`patchbay serve`, `patchbay
    /// keys`): each decides its tenant; only hashes are stored.
    pub fn api_keys(&self) -> ApiKeys {
        ApiKeys::new(Arc::clone(&self.inner.stored.stores.api_keys))
    }

    /// A tenant's webhooks: its connections' ingress tokens, its endpoints.
    pub fn webhooks(&self, tenant: impl Into<String>) -> crate::Webhooks {
        crate::Webhooks::new(Arc::clone(&self.inner.stored), tenant.into())
    }

    /// The connection an ingress token names, if any.
    pub async fn ingress_target(&self, token: &str) -> Result<Option<crate::IngressTarget>, StoreError> {
        crate::webhooks::target(&self.inner.stored, token).await
    }

    /// The store of webhook deliveries, events, endpoints and their jobs,
    /// for the runtime that moves them (`patchbay-jobs`).
    pub fn webhook_store(&self) -> Arc<dyn patchbay_store::WebhookStore> {
        Arc::clone(&self.inner.stored.stores.webhooks)
    }

    /// Whether the store answers: a cheap read, for readiness checks.
    pub async fn store_ready(&self) -> Result<(), StoreError> {
        self.inner.stored.stores.vault.vault_meta().await.map(|_| ())
    }

    /// Re-seals every stored secret under `new_key` in one transaction and
    /// makes it the host's key. Returns how many connections were re-sealed.
    /// Nothing changes if any value fails to open with the current key.
    pub async fn rotate_vault_key(&self, new_key: VaultKey) -> Result<usize, ConnectionsError> {
        let stored = &self.inner.stored;
        Ok(stored.key.rotate(&*stored.stores.vault, new_key).await?)
    }

    /// The host's metrics in the OpenMetrics text format, for a Prometheus
    /// scrape: calls, outbound requests by status, retries, rate-limit
    /// waits, latencies, circuit state.
    pub fn metrics_text(&self) -> String {
        self.inner.metrics.encode()
    }

    /// Re-enables a connection that the circuit breaker disabled after
    /// repeated authentication failures.
    pub async fn reenable(&self, connection_id: &str) -> Result<(), StoreError> {
        self.inner.stored.circuits.reenable(connection_id).await
    }
}
