//! Watching a plugins directory: files dropped in, replaced or removed are
//! (re)loaded without a restart.

use std::path::Path;
use std::sync::Arc;

use crate::error::HostError;
use crate::host::Host;
use crate::registry::ReloadReport;

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

impl Host {
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
}
