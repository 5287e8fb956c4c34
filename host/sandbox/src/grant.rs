//! What one connection grants its calls: the policy bundle every call of
//! the connection shares (the embedder API builds it from the manifest,
//! the connection's settings and the operator's configuration).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use patchbay_outbound::{HostGrant, RateQuota, Reflections, RetryPolicy, TokenSource};
use patchbay_secrets::{Credentials, Redactor};

/// The grant of one connection to its calls.
#[derive(Clone)]
pub struct CallGrant {
    /// The connection's id (logs, circuit breaker, rate budget).
    pub id: String,
    /// Where its `kv` data lives.
    pub kv_namespace: String,
    /// Its settings, readable through `config`.
    pub settings: BTreeMap<String, String>,
    /// Its credentials: named by the plugin, never read by it (except fields
    /// not in `secret_fields`, through `config`).
    pub credentials: Arc<Credentials>,
    /// Credential fields `config` refuses to show.
    pub secret_fields: BTreeSet<String>,
    /// Credential fields `crypto` may use as keys; it refuses every other.
    pub signing_fields: BTreeSet<String>,
    /// The hosts it may reach.
    pub hosts: Arc<HostGrant>,
    /// Scrubs its secret values from logs and errors.
    pub redactor: Redactor,
    /// The forms of its secret values, scrubbed from every response an
    /// upstream sends back (an echo must not return a secret).
    pub reflections: Reflections,
    /// How its requests are retried.
    pub retry: Arc<RetryPolicy>,
    /// Its rate budget, when it has one.
    pub rate_quota: Option<RateQuota>,
    /// A fingerprint of its credentials, for the circuit breaker.
    pub fingerprint: String,
    /// Where its OAuth2 access tokens come from, when it uses OAuth2.
    pub oauth: Option<Arc<dyn TokenSource>>,
    /// The AWS services it may sign SigV4 requests for, when the operator
    /// pinned them (see [`patchbay_outbound::SIGV4_SENSITIVE`]).
    pub sigv4_services: Option<Arc<[String]>>,
    /// The forwarding headers its plugin declared (lowercase), which the
    /// pipeline lets it set.
    pub forwarding_headers: Arc<[String]>,
    /// Where its provider reports a cost budget in its answers (the plugin's
    /// `rate-signals`), which the pipeline paces it by.
    pub cost_budget: Option<Arc<patchbay_outbound::CostBudget>>,
}

impl std::fmt::Debug for CallGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallGrant")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
