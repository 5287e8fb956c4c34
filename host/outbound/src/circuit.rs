//! The circuit breaker per connection.
//!
//! - Consecutive authentication failures (401/403; default 3) disable the
//!   connection until its credentials change or it is re-enabled. That state
//!   is kept in the store, so a restart does not forget it.
//! - Consecutive transient failures (5xx, timeouts, connection errors;
//!   default 5) open the circuit for a cool-down; then one probe request is
//!   let through, and its outcome closes or re-opens the circuit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchbay_store::{CircuitRecord, CircuitStore, StoreError};

/// Thresholds of the breaker.
#[derive(Debug, Clone)]
pub struct CircuitConfig {
    /// Consecutive auth failures that disable a connection.
    pub auth_failure_threshold: u32,
    /// Consecutive transient failures that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit refuses requests before a probe.
    pub cooldown: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            auth_failure_threshold: 3,
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// What a finished attempt means for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 401 or 403.
    AuthFailure,
    /// 5xx, timeout or connection failure.
    Failure,
    /// Anything else.
    Success,
}

#[derive(Debug, Default)]
struct Live {
    persisted: Option<CircuitRecord>,
    loaded: bool,
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// Breakers of every connection.
#[derive(Clone)]
pub struct CircuitBreaker {
    store: Arc<dyn CircuitStore>,
    config: CircuitConfig,
    live: Arc<Mutex<HashMap<String, Live>>>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A breaker keeping its durable state in `store`.
    pub fn new(store: Arc<dyn CircuitStore>, config: CircuitConfig) -> Self {
        Self {
            store,
            config,
            live: Arc::default(),
        }
    }

    async fn ensure_loaded(&self, connection: &str, fingerprint: &str) {
        let loaded = self
            .live
            .lock()
            .expect("circuit lock")
            .get(connection)
            .is_some_and(|l| l.loaded);
        if loaded {
            return;
        }
        let record = match self.store.load_circuit(connection).await {
            Ok(record) => record,
            Err(error) => {
                tracing::error!(%error, connection, "cannot read the circuit state");
                None
            }
        };
        let mut live = self.live.lock().expect("circuit lock");
        let entry = live.entry(connection.to_string()).or_default();
        if !entry.loaded {
            // New credentials start a clean slate.
            entry.persisted = record.filter(|r| r.fingerprint == fingerprint);
            entry.loaded = true;
        }
    }

    /// Admits a request, or says why the circuit refuses it.
    pub async fn admit(&self, connection: &str, fingerprint: &str) -> Result<(), String> {
        self.ensure_loaded(connection, fingerprint).await;
        let mut live = self.live.lock().expect("circuit lock");
        let entry = live.entry(connection.to_string()).or_default();
        if entry.persisted.as_ref().is_some_and(|r| r.fingerprint != fingerprint) {
            entry.persisted = None;
        }
        if let Some(record) = entry.persisted.as_ref().filter(|r| r.disabled) {
            return Err(format!(
                "the connection is disabled after {} consecutive authentication failures; \
                 update its credentials or re-enable it",
                record.auth_failures
            ));
        }
        let now = Instant::now();
        match entry.open_until {
            Some(until) if until > now => Err(format!(
                "the circuit is open after {} consecutive failures; next try in {} s",
                entry.failures,
                (until - now).as_secs() + 1
            )),
            Some(_) if entry.probing => Err("the circuit is half-open and a probe request is in flight".to_string()),
            Some(_) => {
                entry.probing = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records the outcome of an attempt.
    pub async fn record(&self, connection: &str, fingerprint: &str, outcome: Outcome) {
        let to_persist = {
            let mut live = self.live.lock().expect("circuit lock");
            let entry = live.entry(connection.to_string()).or_default();
            let before = entry.persisted.clone();
            match outcome {
                Outcome::AuthFailure => {
                    let record = entry.persisted.get_or_insert_with(|| CircuitRecord {
                        fingerprint: fingerprint.to_string(),
                        auth_failures: 0,
                        disabled: false,
                    });
                    record.auth_failures += 1;
                    if record.auth_failures >= self.config.auth_failure_threshold && !record.disabled {
                        record.disabled = true;
                        tracing::warn!(
                            connection,
                            failures = record.auth_failures,
                            "burst of authentication failures: connection disabled until its credentials change or it is re-enabled"
                        );
                    }
                    entry.failures = 0;
                    entry.probing = false;
                    entry.open_until = None;
                }
                Outcome::Failure => {
                    entry.failures += 1;
                    if entry.probing || entry.failures >= self.config.failure_threshold {
                        if entry.open_until.is_none() || entry.probing {
                            tracing::warn!(connection, failures = entry.failures, "circuit opened");
                        }
                        entry.open_until = Some(Instant::now() + self.config.cooldown);
                        entry.probing = false;
                    }
                }
                Outcome::Success => {
                    if entry.open_until.is_some() {
                        tracing::info!(connection, "circuit closed");
                    }
                    entry.failures = 0;
                    entry.open_until = None;
                    entry.probing = false;
                    if let Some(record) = entry.persisted.as_mut() {
                        record.auth_failures = 0;
                    }
                }
            }
            (entry.persisted != before).then(|| entry.persisted.clone())
        };
        if let Some(record) = to_persist {
            let result = match record {
                Some(record) => self.store.save_circuit(connection, &record).await,
                None => self.store.clear_circuit(connection).await,
            };
            if let Err(error) = result {
                tracing::error!(%error, connection, "cannot save the circuit state");
            }
        }
    }

    /// Whether the circuit currently refuses requests of a connection.
    pub fn blocks(&self, connection: &str) -> bool {
        let live = self.live.lock().expect("circuit lock");
        live.get(connection).is_some_and(|entry| {
            entry.persisted.as_ref().is_some_and(|r| r.disabled) || entry.open_until.is_some_and(|u| u > Instant::now())
        })
    }

    /// Re-enables a connection disabled by auth failures and closes its circuit.
    pub async fn reenable(&self, connection: &str) -> Result<(), StoreError> {
        self.live.lock().expect("circuit lock").remove(connection);
        self.store.clear_circuit(connection).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_store::MemoryStore;

    fn breaker(store: &MemoryStore) -> CircuitBreaker {
        CircuitBreaker::new(
            Arc::new(store.clone()),
            CircuitConfig {
                auth_failure_threshold: 3,
                failure_threshold: 2,
                cooldown: Duration::from_millis(50),
            },
        )
    }

    #[tokio::test]
    async fn auth_failures_disable_until_credentials_change_and_survive_restarts() {
        let store = MemoryStore::new();
        let cb = breaker(&store);
        for _ in 0..3 {
            cb.admit("c", "fp1").await.unwrap();
            cb.record("c", "fp1", Outcome::AuthFailure).await;
        }
        let refused = cb.admit("c", "fp1").await.unwrap_err();
        assert!(
            refused.contains("disabled after 3 consecutive authentication failures"),
            "{refused}"
        );
        let restarted = breaker(&store);
        assert!(restarted.admit("c", "fp1").await.is_err(), "the state is in the store");
        assert!(restarted.admit("c", "fp2").await.is_ok(), "new credentials start clean");
        let again = breaker(&store);
        again.reenable("c").await.unwrap();
        assert!(again.admit("c", "fp1").await.is_ok());
    }

    #[tokio::test]
    async fn failures_open_the_circuit_then_one_probe_decides() {
        let store = MemoryStore::new();
        let cb = breaker(&store);
        cb.record("c", "f", Outcome::Failure).await;
        assert!(cb.admit("c", "f").await.is_ok());
        cb.record("c", "f", Outcome::Failure).await;
        assert!(cb.admit("c", "f").await.unwrap_err().contains("circuit is open"));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(cb.admit("c", "f").await.is_ok(), "one probe after the cool-down");
        assert!(cb.admit("c", "f").await.unwrap_err().contains("probe"), "only one");
        cb.record("c", "f", Outcome::Failure).await;
        assert!(
            cb.admit("c", "f").await.unwrap_err().contains("circuit is open"),
            "a failed probe re-opens"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        cb.admit("c", "f").await.unwrap();
        cb.record("c", "f", Outcome::Success).await;
        assert!(
            cb.admit("c", "f").await.is_ok() && cb.admit("c", "f").await.is_ok(),
            "a good probe closes it"
        );
    }
}
