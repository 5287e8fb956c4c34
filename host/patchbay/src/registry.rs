//! The plugins of a directory, by provider key (`family/name`), and which
//! file each came from, so that a rescan reloads exactly what changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::LoadError;
use crate::plugin::Plugin;

/// A file of the plugins directory as last seen.
#[derive(Debug, Clone)]
pub(crate) struct SeenFile {
    /// SHA-256 of its content.
    pub sha256: String,
    /// The provider it provides, when it loaded.
    pub key: Option<String>,
}

/// Loaded plugins, and the files that could not be loaded with the reason.
#[derive(Debug, Default)]
pub(crate) struct PluginRegistry {
    plugins: BTreeMap<String, Arc<Plugin>>,
    failures: BTreeMap<PathBuf, LoadError>,
    pub(crate) files: BTreeMap<PathBuf, SeenFile>,
}

/// What a rescan of the plugins directory changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    /// Providers that appeared.
    pub added: Vec<String>,
    /// Providers whose file changed and reloaded.
    pub updated: Vec<String>,
    /// Providers whose file disappeared.
    pub removed: Vec<String>,
    /// Files that failed to load (a provider they replaced keeps serving).
    pub failed: Vec<String>,
    /// Files left unread: the compile cache knows they hold providers this
    /// host does not load
    /// ([`HostBuilder::only_providers`](crate::HostBuilder::only_providers)).
    pub skipped: Vec<PathBuf>,
}

impl PluginRegistry {
    /// The `*.wasm` files of a directory, in name order.
    pub(crate) fn wasm_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm") && path.is_file())
            .collect();
        files.sort();
        Ok(files)
    }

    /// Records the outcome of loading `path` (whose content hashes to
    /// `sha256`): a new or replaced provider, or a failure that leaves any
    /// previous version serving.
    pub(crate) fn record(
        &mut self,
        path: &Path,
        sha256: String,
        outcome: Result<Plugin, LoadError>,
        report: &mut ReloadReport,
    ) {
        let previous = self.files.get(path).and_then(|f| f.key.clone());
        match outcome {
            Ok(plugin) => {
                let key = plugin.key().to_string();
                if let Some(existing) = self.plugins.get(&key).filter(|p| p.path() != path) {
                    let error = LoadError::Duplicate {
                        path: path.to_path_buf(),
                        provider: key.clone(),
                        existing: existing.path().to_path_buf(),
                    };
                    tracing::warn!(%error, "plugin skipped");
                    report.failed.push(error.to_string());
                    self.failures.insert(path.to_path_buf(), error);
                    self.files
                        .insert(path.to_path_buf(), SeenFile { sha256, key: previous });
                    return;
                }
                if let Some(old) = previous.as_ref().filter(|old| **old != key) {
                    self.plugins.remove(old);
                    report.removed.push(old.clone());
                }
                if previous.as_deref() == Some(key.as_str()) {
                    tracing::info!(provider = %key, file = %path.display(), "plugin reloaded");
                    report.updated.push(key.clone());
                } else {
                    tracing::info!(provider = %key, file = %path.display(), "plugin loaded");
                    report.added.push(key.clone());
                }
                self.plugins.insert(key.clone(), Arc::new(plugin));
                self.failures.remove(path);
                self.files
                    .insert(path.to_path_buf(), SeenFile { sha256, key: Some(key) });
            }
            Err(error) => {
                match &previous {
                    Some(key) => {
                        tracing::warn!(%error, provider = %key, "broken replacement; the previous version keeps serving")
                    }
                    None => tracing::warn!(%error, "plugin skipped"),
                }
                report.failed.push(error.to_string());
                self.failures.insert(path.to_path_buf(), error);
                self.files
                    .insert(path.to_path_buf(), SeenFile { sha256, key: previous });
            }
        }
    }

    /// Forgets a file that disappeared, and its provider.
    pub(crate) fn forget(&mut self, path: &Path, report: &mut ReloadReport) {
        if let Some(seen) = self.files.remove(path)
            && let Some(key) = seen.key
        {
            tracing::info!(provider = %key, file = %path.display(), "plugin removed");
            self.plugins.remove(&key);
            report.removed.push(key);
        }
        self.failures.remove(path);
    }

    /// A provider by key.
    pub fn get(&self, key: &str) -> Option<&Arc<Plugin>> {
        self.plugins.get(key)
    }

    /// Every loaded provider, by key.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.values()
    }

    /// Files that were skipped, with the reason.
    pub fn failures(&self) -> impl Iterator<Item = &LoadError> {
        self.failures.values()
    }
}
