//! The plugins of a directory, by provider key (`family/name`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::LoadError;
use crate::plugin::Plugin;

/// Loaded plugins, and the files that could not be loaded with the reason.
#[derive(Debug, Default)]
pub struct PluginRegistry {
    plugins: BTreeMap<String, Arc<Plugin>>,
    failures: Vec<LoadError>,
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

    /// Adds a loaded plugin, or records why a file was skipped.
    pub(crate) fn record(&mut self, path: &Path, outcome: Result<Plugin, LoadError>) {
        match outcome {
            Ok(plugin) => {
                if let Some(existing) = self.plugins.get(plugin.key()) {
                    let error = LoadError::Duplicate {
                        path: path.to_path_buf(),
                        provider: plugin.key().to_string(),
                        existing: existing.path().to_path_buf(),
                    };
                    tracing::warn!(%error, "plugin skipped");
                    self.failures.push(error);
                } else {
                    tracing::info!(provider = plugin.key(), file = %path.display(), "plugin loaded");
                    self.plugins.insert(plugin.key().to_string(), Arc::new(plugin));
                }
            }
            Err(error) => {
                tracing::warn!(%error, "plugin skipped");
                self.failures.push(error);
            }
        }
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
    pub fn failures(&self) -> &[LoadError] {
        &self.failures
    }
}
