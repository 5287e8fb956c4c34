//! Making connections: credentials and settings checked against the
//! plugin's manifest, then the grant its calls share, and its OAuth session
//! when the plugin uses OAuth2. Stored connections and ad-hoc ones are made
//! here alike.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use patchbay_contract::Interface;
use patchbay_contract::types::{AuthStrategy, AuthorizeParams, SettingType, TokenGrant, TokenRequestSpec};
use patchbay_outbound::{HostGrant, HostPattern, RateQuota, Reflections, RetryPolicy, TokenSource};
use patchbay_sandbox::{CallError, CallGrant, Sandbox};
use patchbay_secrets::{Credentials, Redactor, Settings};
use sha2::Sha256;

use crate::connection::{ConnectOptions, Connection};
use crate::error::{ConnectError, Problem};
use crate::oauth::{OAuthEndpoints, OAuthFlow, OAuthPlugin, OAuthSession, TokenHttp, TokenVault};
use crate::plugin::Plugin;
use crate::registry::PluginRegistry;

/// How a plugin's connections get OAuth tokens, if they do: the host runs
/// the manifest's OAuth2 endpoints, or the plugin's `oauth` capability
/// describes a non-standard flow.
///
/// The endpoints must be among the hosts the connection may reach (`hosts`:
/// declared ∩ operator): the host sends the client's credentials there.
pub(crate) fn oauth_flow(
    plugin: &Plugin,
    settings: &Settings,
    hosts: &HostGrant,
    credentials: &Credentials,
) -> Option<OAuthFlow> {
    let auth = &plugin.manifest().auth;
    // A plugin may offer OAuth2 beside another way in (Shopify: an app
    // installed through OAuth, or a custom app's access token): when its
    // OAuth2 client id is an optional credential, a connection without one
    // does not use OAuth2 and needs no authorization.
    let without_oauth = |client_id: &str| {
        let optional = plugin
            .manifest()
            .credentials
            .iter()
            .any(|c| c.name == client_id && !c.required);
        optional && credentials.get(client_id).is_none_or(str::is_empty)
    };
    match (&auth.oauth2, auth.strategy) {
        (Some(config), _) if without_oauth(&config.client_id_field) => None,
        (Some(config), _) => Some(
            match OAuthEndpoints::resolve(config, settings).and_then(|e| e.check(hosts).map(|()| e)) {
                Ok(endpoints) => OAuthFlow::Standard(Box::new(endpoints)),
                Err(why) => OAuthFlow::Unusable(why.to_string()),
            },
        ),
        (None, AuthStrategy::Custom) if plugin.exports(Interface::OAuth) => Some(OAuthFlow::Plugin),
        _ => None,
    }
}

/// Where a connection's `kv` data lives: under its tenant when it is stored.
pub(crate) fn kv_namespace(tenant: Option<&str>, id: &str) -> String {
    match tenant {
        Some(tenant) => format!("tenant:{tenant}:conn:{id}"),
        None => format!("conn:{id}"),
    }
}

/// What ties a connection to its row in the vault.
pub(crate) struct StoredLink {
    /// The tenant owning the row; its `kv` data is kept under it.
    pub tenant: String,
    /// Where its OAuth tokens are kept.
    pub tokens: TokenVault,
}

/// What the operator sets for a provider beyond its manifest.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProviderOverrides {
    /// Narrows the allowed hosts.
    pub hosts: Option<Vec<HostPattern>>,
    /// Replaces the manifest's rate-limit hint.
    pub rate: Option<RateQuota>,
    /// The AWS services its connections may sign for.
    pub sigv4: Option<Arc<[String]>>,
}

/// A [`ConnectError::Invalid`] naming the provider, the field and the problem.
fn invalid(provider: &str, field: Option<&str>, problem: Problem, reason: String) -> ConnectError {
    ConnectError::Invalid {
        provider: provider.to_string(),
        field: field.map(str::to_string),
        problem,
        reason,
    }
}

/// Refuses names the manifest does not declare (typos, stale configuration).
fn check_declared<'a>(
    provider: &str,
    what: &str,
    mut given: impl Iterator<Item = &'a str>,
    declared: &[&str],
) -> Result<(), ConnectError> {
    match given.find(|name| !declared.contains(name)) {
        None => Ok(()),
        Some(unknown) => Err(invalid(
            provider,
            Some(unknown),
            Problem::Unknown,
            format!(
                "unknown {what} {unknown:?}; the plugin declares: {}",
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            ),
        )),
    }
}

fn check_setting(
    provider: &str,
    name: &str,
    kind: SettingType,
    choices: &[String],
    value: &str,
) -> Result<(), ConnectError> {
    let wrong_type = |reason: String| invalid(provider, Some(name), Problem::WrongType, reason);
    match kind {
        SettingType::Number if value.trim().parse::<f64>().is_err() => {
            return Err(wrong_type(format!("setting {name:?} must be a number, not {value:?}")));
        }
        SettingType::Boolean if !matches!(value.trim(), "true" | "false") => {
            return Err(wrong_type(format!(
                "setting {name:?} must be true or false, not {value:?}"
            )));
        }
        SettingType::Url => {
            let candidate = if value.contains("://") {
                value.to_string()
            } else {
                format!("https://{value}")
            };
            if url::Url::parse(&candidate)
                .map(|u| u.host_str().is_none())
                .unwrap_or(true)
            {
                return Err(wrong_type(format!(
                    "setting {name:?} must be a URL such as https://example.com, not {value:?}"
                )));
            }
        }
        _ => {}
    }
    if !choices.is_empty() && !choices.iter().any(|c| c == value) {
        return Err(invalid(
            provider,
            Some(name),
            Problem::NotAChoice,
            format!("setting {name:?} must be one of {}, not {value:?}", choices.join(", ")),
        ));
    }
    Ok(())
}

/// Makes connections to the loaded providers.
pub(crate) struct Connector {
    pub sandbox: Arc<Sandbox>,
    pub registry: RwLock<PluginRegistry>,
    pub overrides: BTreeMap<String, ProviderOverrides>,
    /// The operator's narrowing of every provider without its own.
    pub all_hosts: Option<Vec<HostPattern>>,
    /// The client for OAuth2 token requests (same address guard as the pipeline).
    pub oauth_http: TokenHttp,
    /// The key of the hashes that identify credentials (derived from the
    /// vault key when there is one, else random per host).
    pub hash_key: [u8; 32],
}

impl Connector {
    /// HMAC-SHA256 under the host's hash key of a purpose, settings and
    /// credentials, each name and value delimited.
    fn keyed_hash(&self, purpose: &str, settings: &Settings, credentials: &Credentials) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.hash_key).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        let settings = settings.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let credentials = credentials.names().map(|n| (n, credentials.get(n).unwrap_or_default()));
        for (tag, (name, value)) in settings.map(|p| (b"s", p)).chain(credentials.map(|p| (b"c", p))) {
            for part in [&tag[..], name.as_bytes(), value.as_bytes()] {
                mac.update(&(part.len() as u64).to_le_bytes());
                mac.update(part);
            }
        }
        mac.finalize().into_bytes().into()
    }

    /// A loaded provider.
    pub fn provider(&self, key: &str) -> Option<Arc<Plugin>> {
        self.registry.read().expect("registry lock").get(key).cloned()
    }

    /// Connects to `provider`: credentials and settings are checked against
    /// its manifest first.
    pub fn connect(
        &self,
        provider: &str,
        credentials: Credentials,
        settings: Settings,
        options: ConnectOptions,
        stored: Option<StoredLink>,
    ) -> Result<Connection, ConnectError> {
        let plugin = self.provider(provider).ok_or_else(|| {
            let registry = self.registry.read().expect("registry lock");
            let available = registry.providers().map(|p| p.key().to_string()).collect::<Vec<_>>();
            ConnectError::UnknownProvider {
                provider: provider.to_string(),
                available: if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                },
            }
        })?;
        let mut overrides = self.overrides.get(provider).cloned().unwrap_or_default();
        if overrides.hosts.is_none() {
            overrides.hosts = self.all_hosts.clone();
        }
        self.connect_plugin(plugin, credentials, settings, &overrides, options, stored)
    }

    fn connect_plugin(
        &self,
        plugin: Arc<Plugin>,
        mut credentials: Credentials,
        mut settings: Settings,
        overrides: &ProviderOverrides,
        options: ConnectOptions,
        stored: Option<StoredLink>,
    ) -> Result<Connection, ConnectError> {
        let provider = plugin.key().to_string();
        let manifest = plugin.manifest();
        let declared_creds: Vec<&str> = manifest.credentials.iter().map(|c| c.name.as_str()).collect();
        check_declared(&provider, "credential field", credentials.names(), &declared_creds)?;
        let declared_settings: Vec<&str> = manifest.settings.iter().map(|s| s.name.as_str()).collect();
        check_declared(
            &provider,
            "setting",
            settings.keys().map(String::as_str),
            &declared_settings,
        )?;
        for field in &manifest.credentials {
            if let Some(default) = field.default.as_deref().filter(|_| !field.secret) {
                credentials.set_default(&field.name, default);
            }
            let present = credentials.get(&field.name).is_some_and(|v| !v.is_empty());
            if field.required && !present {
                return Err(invalid(
                    &provider,
                    Some(&field.name),
                    Problem::Missing,
                    format!("the credential {:?} ({}) is required", field.name, field.label),
                ));
            }
            if present
                && !field.choices.is_empty()
                && !field
                    .choices
                    .iter()
                    .any(|c| Some(c.as_str()) == credentials.get(&field.name))
            {
                return Err(invalid(
                    &provider,
                    Some(&field.name),
                    Problem::NotAChoice,
                    format!(
                        "credential {:?} must be one of {}",
                        field.name,
                        field.choices.join(", ")
                    ),
                ));
            }
        }
        for field in &manifest.settings {
            if let Some(default) = &field.default {
                settings.entry(field.name.clone()).or_insert_with(|| default.clone());
            }
            match settings.get(&field.name).filter(|v| !v.trim().is_empty()) {
                Some(value) => check_setting(&provider, &field.name, field.type_, &field.choices, value)?,
                None if field.required => {
                    return Err(invalid(
                        &provider,
                        Some(&field.name),
                        Problem::Missing,
                        format!("the setting {:?} ({}) is required", field.name, field.label),
                    ));
                }
                None => {}
            }
        }
        let declared = plugin
            .declared_hosts(&settings)
            .map_err(|reason| invalid(&provider, None, Problem::Hosts, reason))?;
        let hosts = Arc::new(HostGrant::new(declared, overrides.hosts.clone()));
        let mut retry = RetryPolicy::default();
        if let Some(hint) = &manifest.retry {
            retry.max_retries = hint.max_retries.min(10);
            retry.retryable_statuses = hint.retryable_statuses.clone();
        }
        let rate_quota = overrides.rate.or_else(|| {
            manifest.rate_limit.as_ref().map(|hint| RateQuota {
                per_second: hint.requests_per_second,
                burst: hint.burst,
            })
        });
        // Keyed hashes: both end up in clear (the circuit record, the kv
        // namespace), and must not let anyone test guessed credentials.
        let fingerprint = hex::encode(&self.keyed_hash("credentials", &Settings::new(), &credentials)[..16]);
        let id = options.id.unwrap_or_else(|| {
            // Different credentials are different connections: they share no
            // kv data, breaker or rate budget.
            let hash = self.keyed_hash(&provider, &settings, &credentials);
            format!("{}-{}", provider.replace('/', "-"), &hex::encode(hash)[..12])
        });
        // Every credential is secret unless the operator made it public; the
        // manifest's `secret: false` is only a hint for prompts.
        for (what, fields) in [
            ("made public", &options.public_fields),
            ("a signing field", &options.signing_fields),
        ] {
            if let Some(unknown) = fields
                .iter()
                .find(|f| !manifest.credentials.iter().any(|c| &c.name == *f))
            {
                return Err(invalid(
                    &provider,
                    Some(unknown),
                    Problem::Unknown,
                    format!("{unknown:?} is {what} but is not a credential field of the plugin"),
                ));
            }
        }
        let secret_fields: std::collections::BTreeSet<String> = manifest
            .credentials
            .iter()
            .map(|c| c.name.clone())
            .chain(credentials.names().map(str::to_string))
            .filter(|name| !options.public_fields.contains(name))
            .collect();
        let kv_namespace = kv_namespace(stored.as_ref().map(|link| link.tenant.as_str()), &id);
        let credentials = Arc::new(credentials);
        let reflections = Reflections::new(secret_fields.iter().filter_map(|name| credentials.get(name)));
        let grant = CallGrant {
            redactor: Redactor::new(credentials.values()),
            reflections,
            kv_namespace,
            id,
            settings,
            credentials,
            secret_fields,
            hosts,
            retry: Arc::new(retry),
            rate_quota,
            fingerprint,
            oauth: None,
            sigv4_services: overrides.sigv4.clone(),
            forwarding_headers: plugin.forwarding_headers().into(),
            cost_budget: plugin.cost_budget().cloned().map(Arc::new),
            signing_fields: options.signing_fields.iter().cloned().collect(),
        };
        let oauth = oauth_flow(&plugin, &grant.settings, &grant.hosts, &grant.credentials).map(|flow| {
            // A plugin-described flow asks the plugin for its token requests,
            // in calls that hold no token source themselves.
            let described = matches!(flow, OAuthFlow::Plugin).then(|| {
                Arc::new(PluginOAuth {
                    plugin: Arc::clone(&plugin),
                    grant: Arc::new(grant.clone()),
                    sandbox: Arc::clone(&self.sandbox),
                }) as Arc<dyn OAuthPlugin>
            });
            Arc::new(OAuthSession::new(
                flow,
                Arc::clone(&grant.credentials),
                self.oauth_http.clone(),
                stored.map(|link| link.tokens),
                described,
            ))
        });
        let grant = CallGrant {
            oauth: oauth.clone().map(|session| session as Arc<dyn TokenSource>),
            ..grant
        };
        Ok(Connection {
            plugin,
            grant: Arc::new(grant),
            oauth,
            sandbox: Arc::clone(&self.sandbox),
        })
    }
}

/// The plugin's `oauth` capability, called with the connection's grant
/// (without a token source of its own).
struct PluginOAuth {
    plugin: Arc<Plugin>,
    grant: Arc<CallGrant>,
    sandbox: Arc<Sandbox>,
}

impl PluginOAuth {
    fn connection(&self) -> Connection {
        Connection {
            plugin: Arc::clone(&self.plugin),
            grant: Arc::clone(&self.grant),
            oauth: None,
            sandbox: Arc::clone(&self.sandbox),
        }
    }
}

#[async_trait]
impl OAuthPlugin for PluginOAuth {
    async fn authorize_url(&self, params: &AuthorizeParams) -> Result<String, CallError> {
        self.connection().oauth()?.authorize_url(params).await
    }

    async fn token_request(&self, grant: &TokenGrant, redirect_uri: &str) -> Result<TokenRequestSpec, CallError> {
        self.connection().oauth()?.token_request(grant, redirect_uri).await
    }

    fn hosts(&self) -> &HostGrant {
        &self.grant.hosts
    }

    fn credentials(&self) -> &Credentials {
        &self.grant.credentials
    }
}
