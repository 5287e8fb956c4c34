//! A connection: one plugin with one set of credentials and settings.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::Instrument as _;
use wasmtime::component::{Type, Val};

use crate::bridge::{self, BridgeError};
use crate::call::{Call, conclude, within};
use crate::credentials::{Credentials, Settings};
use crate::error::{CallError, ConnectError};
use crate::interfaces::Interface;
use crate::oauth::{OAuthEndpoints, OAuthFlow, OAuthSession, TokenVault};
use crate::outbound::{HostGrant, HostPattern, RateQuota, RetryPolicy};
use crate::plugin::Plugin;
use crate::redact::Redactor;
use crate::services::Services;
use crate::types::{AuthStrategy, ConnectionTest, ConnectorError, ProviderFailure, SettingType};

/// What calls of a connection share.
pub(crate) struct ConnectionShared {
    pub id: String,
    pub kv_namespace: String,
    pub settings: Settings,
    pub credentials: Arc<Credentials>,
    pub secret_fields: BTreeSet<String>,
    pub grant: Arc<HostGrant>,
    pub redactor: Redactor,
    pub retry: Arc<RetryPolicy>,
    pub rate_quota: Option<RateQuota>,
    pub fingerprint: String,
    pub oauth: Option<Arc<OAuthSession>>,
}

/// A connection that may be gone.
pub(crate) struct WeakConnection {
    plugin: Arc<Plugin>,
    shared: std::sync::Weak<ConnectionShared>,
    services: Arc<Services>,
}

impl WeakConnection {
    pub(crate) fn upgrade(&self) -> Option<Connection> {
        Some(Connection {
            plugin: Arc::clone(&self.plugin),
            shared: self.shared.upgrade()?,
            services: Arc::clone(&self.services),
        })
    }
}

/// How a plugin's connections get OAuth tokens, if they do: the host runs
/// the manifest's OAuth2 endpoints, or the plugin's `oauth` capability
/// describes a non-standard flow.
pub(crate) fn oauth_flow(plugin: &Plugin, settings: &Settings) -> Option<OAuthFlow> {
    let auth = &plugin.manifest().auth;
    match (&auth.oauth2, auth.strategy) {
        (Some(config), _) => Some(match OAuthEndpoints::resolve(config, settings) {
            Ok(endpoints) => OAuthFlow::Standard(Box::new(endpoints)),
            Err(why) => OAuthFlow::Unusable(why.to_string()),
        }),
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
}

/// A connection to a provider, ready for calls. Cheap to clone.
#[derive(Clone)]
pub struct Connection {
    pub(crate) plugin: Arc<Plugin>,
    pub(crate) shared: Arc<ConnectionShared>,
    pub(crate) services: Arc<Services>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("provider", &self.plugin.key())
            .field("id", &self.shared.id)
            .finish()
    }
}

/// Options of a new connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// A stable id; derived from the provider and settings when `None`.
    /// The connection's `kv` data lives under its id.
    pub id: Option<String>,
}

/// Refuses names the manifest does not declare (typos, stale configuration).
fn check_declared<'a>(what: &str, mut given: impl Iterator<Item = &'a str>, declared: &[&str]) -> Result<(), String> {
    match given.find(|name| !declared.contains(name)) {
        None => Ok(()),
        Some(unknown) => Err(format!(
            "unknown {what} {unknown:?}; the plugin declares: {}",
            if declared.is_empty() {
                "none".to_string()
            } else {
                declared.join(", ")
            }
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
    let invalid = |reason: String| ConnectError::Invalid {
        provider: provider.to_string(),
        reason,
    };
    match kind {
        SettingType::Number if value.trim().parse::<f64>().is_err() => {
            return Err(invalid(format!("setting {name:?} must be a number, not {value:?}")));
        }
        SettingType::Boolean if !matches!(value.trim(), "true" | "false") => {
            return Err(invalid(format!(
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
                return Err(invalid(format!(
                    "setting {name:?} must be a URL such as https://example.com, not {value:?}"
                )));
            }
        }
        _ => {}
    }
    if !choices.is_empty() && !choices.iter().any(|c| c == value) {
        return Err(invalid(format!(
            "setting {name:?} must be one of {}, not {value:?}",
            choices.join(", ")
        )));
    }
    Ok(())
}

impl Connection {
    /// Validates credentials and settings against the plugin's manifest.
    pub(crate) fn new(
        plugin: Arc<Plugin>,
        mut credentials: Credentials,
        mut settings: Settings,
        overrides: ProviderOverrides,
        options: ConnectOptions,
        stored: Option<StoredLink>,
        services: Arc<Services>,
    ) -> Result<Self, ConnectError> {
        let provider = plugin.key().to_string();
        let manifest = plugin.manifest();
        let invalid = |reason: String| ConnectError::Invalid {
            provider: provider.clone(),
            reason,
        };
        let declared_creds: Vec<&str> = manifest.credentials.iter().map(|c| c.name.as_str()).collect();
        check_declared("credential field", credentials.names(), &declared_creds).map_err(&invalid)?;
        let declared_settings: Vec<&str> = manifest.settings.iter().map(|s| s.name.as_str()).collect();
        check_declared("setting", settings.keys().map(String::as_str), &declared_settings).map_err(&invalid)?;
        for field in &manifest.credentials {
            if let Some(default) = field.default.as_deref().filter(|_| !field.secret) {
                credentials.set_default(&field.name, default);
            }
            let present = credentials.get(&field.name).is_some_and(|v| !v.is_empty());
            if field.required && !present {
                return Err(invalid(format!(
                    "the credential {:?} ({}) is required",
                    field.name, field.label
                )));
            }
            if present
                && !field.choices.is_empty()
                && !field
                    .choices
                    .iter()
                    .any(|c| Some(c.as_str()) == credentials.get(&field.name))
            {
                return Err(invalid(format!(
                    "credential {:?} must be one of {}",
                    field.name,
                    field.choices.join(", ")
                )));
            }
        }
        for field in &manifest.settings {
            if let Some(default) = &field.default {
                settings.entry(field.name.clone()).or_insert_with(|| default.clone());
            }
            match settings.get(&field.name).filter(|v| !v.trim().is_empty()) {
                Some(value) => check_setting(&provider, &field.name, field.type_, &field.choices, value)?,
                None if field.required => {
                    return Err(invalid(format!(
                        "the setting {:?} ({}) is required",
                        field.name, field.label
                    )));
                }
                None => {}
            }
        }
        let declared = plugin.declared_hosts(&settings).map_err(invalid)?;
        let grant = Arc::new(HostGrant::new(declared, overrides.hosts));
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
        let fingerprint = {
            let mut hash = Sha256::new();
            for name in credentials.names() {
                hash.update(name.as_bytes());
                hash.update([0]);
                hash.update(credentials.get(name).unwrap_or_default().as_bytes());
                hash.update([0]);
            }
            hex::encode(&hash.finalize()[..16])
        };
        let id = options.id.unwrap_or_else(|| {
            let mut hash = Sha256::new();
            hash.update(provider.as_bytes());
            for (name, value) in &settings {
                hash.update([0]);
                hash.update(name.as_bytes());
                hash.update([0]);
                hash.update(value.as_bytes());
            }
            format!("{}-{}", provider.replace('/', "-"), &hex::encode(hash.finalize())[..12])
        });
        let secret_fields = manifest
            .credentials
            .iter()
            .filter(|c| c.secret)
            .map(|c| c.name.clone())
            .collect();
        let redactor = Redactor::new(credentials.values());
        let credentials = Arc::new(credentials);
        let oauth = oauth_flow(&plugin, &settings).map(|flow| {
            Arc::new(OAuthSession::new(
                flow,
                Arc::clone(&credentials),
                services.oauth_http.clone(),
                stored.as_ref().map(|link| link.tokens.clone()),
            ))
        });
        let kv_namespace = kv_namespace(stored.as_ref().map(|link| link.tenant.as_str()), &id);
        let shared = ConnectionShared {
            kv_namespace,
            id,
            settings,
            credentials,
            secret_fields,
            grant,
            redactor,
            retry: Arc::new(retry),
            rate_quota,
            fingerprint,
            oauth,
        };
        let connection = Self {
            plugin,
            shared: Arc::new(shared),
            services,
        };
        if let Some(session) = &connection.shared.oauth {
            session.bind(connection.downgrade());
        }
        Ok(connection)
    }

    /// A handle that does not keep the connection alive (its OAuth session
    /// holds one, to call the plugin for plugin-described token requests).
    pub(crate) fn downgrade(&self) -> WeakConnection {
        WeakConnection {
            plugin: Arc::clone(&self.plugin),
            shared: Arc::downgrade(&self.shared),
            services: Arc::clone(&self.services),
        }
    }

    /// The connection's id.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The plugin behind it.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Whether the plugin exports `interface` (a port or a capability).
    pub fn supports(&self, interface: Interface) -> bool {
        self.plugin.exports(interface)
    }

    /// Starts a call on this connection.
    pub(crate) async fn start(&self) -> Result<Call, CallError> {
        Call::start(&self.plugin, Some(Arc::clone(&self.shared)), &self.services).await
    }

    /// Checks the credentials with the provider (`connector.test-connection`).
    pub async fn test(&self) -> Result<ConnectionTest, CallError> {
        let indices = self
            .plugin
            .guests
            .connector
            .as_ref()
            .expect("every plugin exports connector");
        let mut call = self.start().await?;
        let (timeout, span) = (call.timeout(), call.span());
        let (store, instance) = (&mut call.store, &call.instance);
        let outcome = async {
            let guest = indices
                .load(&mut *store, instance)
                .map_err(|e| CallError::Fault(e.to_string()))?;
            within(timeout, guest.call_test_connection(&mut *store)).await
        }
        .instrument(span)
        .await;
        conclude(call, outcome.and_then(|r| r.map_err(CallError::Connector)))
    }

    /// Calls `interface.function` (e.g. `shop.get-orders`) with JSON
    /// arguments keyed by parameter name, and returns the result as JSON.
    /// A `result` whose error is the plugin's `connector-error` becomes
    /// [`CallError::Connector`].
    pub async fn call_json(&self, target: &str, input: &Value) -> Result<Value, CallError> {
        let (interface, function) = target.split_once('.').ok_or_else(|| {
            CallError::Unsupported(format!(
                "{target:?} is not of the form port.function, e.g. shop.get-orders"
            ))
        })?;
        let interface = Interface::from_name(interface)
            .ok_or_else(|| CallError::Unsupported(format!("{interface:?} is not an interface of the contract")))?;
        if !self.plugin.exports(interface) {
            return Err(CallError::Unsupported(format!(
                "{} does not export `{interface}`",
                self.plugin.key()
            )));
        }
        let index = self.plugin.func_index(interface, function)?;
        let mut call = self.start().await?;
        let (timeout, span) = (call.timeout(), call.span());
        let (store, instance) = (&mut call.store, &call.instance);
        let outcome = async {
            let func = instance
                .get_func(&mut *store, index)
                .ok_or_else(|| CallError::Unsupported(format!("`{interface}.{function}` is not a function")))?;
            let ty = func.ty(&*store);
            let params = arguments(ty.params().map(|(n, t)| (n.to_string(), t)).collect(), input)?;
            let types: Vec<Type> = ty.results().collect();
            let mut results = vec![Val::Bool(false); types.len()];
            within(timeout, func.call_async(&mut *store, &params, &mut results)).await?;
            match (types.first(), results.first()) {
                (None, _) | (_, None) => Ok(Value::Null),
                (Some(Type::Result(result_ty)), Some(Val::Result(outcome))) if is_connector_error(result_ty.err()) => {
                    match outcome {
                        Ok(ok) => Ok(match (result_ty.ok(), ok) {
                            (Some(t), Some(v)) => bridge::from_val(&t, v),
                            _ => Value::Null,
                        }),
                        Err(err) => Err(CallError::Connector(connector_error(err.as_deref()))),
                    }
                }
                (Some(ty), Some(val)) => Ok(bridge::from_val(ty, val)),
            }
        }
        .instrument(span)
        .await;
        conclude(call, outcome)
    }
}

/// Converts a JSON object of named arguments into parameter values.
fn arguments(params: Vec<(String, Type)>, input: &Value) -> Result<Vec<Val>, BridgeError> {
    let empty = serde_json::Map::new();
    let object = match input {
        Value::Object(object) => object,
        Value::Null => &empty,
        other => {
            return Err(BridgeError {
                path: "input".into(),
                message: format!(
                    "expected an object of arguments ({}), found {}",
                    params.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
                    if other.is_array() { "an array" } else { "a scalar" }
                ),
            });
        }
    };
    if let Some(unknown) = object.keys().find(|k| !params.iter().any(|(n, _)| n == *k)) {
        return Err(BridgeError {
            path: unknown.clone(),
            message: format!(
                "is not a parameter; the parameters are {}",
                if params.is_empty() {
                    "none".to_string()
                } else {
                    params.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        });
    }
    params
        .iter()
        .map(|(name, ty)| {
            let value = object.get(name).unwrap_or(&Value::Null);
            if value.is_null() && !matches!(ty, Type::Option(_)) {
                return Err(BridgeError {
                    path: name.clone(),
                    message: "is required".into(),
                });
            }
            bridge::to_val(ty, value, name)
        })
        .collect()
}

fn is_connector_error(ty: Option<Type>) -> bool {
    match ty {
        Some(Type::Variant(v)) => {
            let names: Vec<&str> = v.cases().map(|c| c.name).collect();
            names.contains(&"auth") && names.contains(&"provider") && names.contains(&"not-found")
        }
        _ => false,
    }
}

/// Rebuilds the typed connector error from its component value.
fn connector_error(val: Option<&Val>) -> ConnectorError {
    let text = |v: Option<&Val>| match v {
        Some(Val::String(s)) => s.clone(),
        _ => String::new(),
    };
    let failure = |v: Option<&Val>| {
        let mut failure = ProviderFailure {
            status: None,
            message: String::new(),
        };
        if let Some(Val::Record(fields)) = v {
            for (name, value) in fields {
                match (name.as_str(), value) {
                    ("status", Val::Option(Some(s))) => {
                        if let Val::U16(code) = **s {
                            failure.status = Some(code);
                        }
                    }
                    ("message", Val::String(m)) => failure.message = m.clone(),
                    _ => {}
                }
            }
        }
        failure
    };
    let Some(Val::Variant(case, payload)) = val else {
        return ConnectorError::Provider(ProviderFailure {
            status: None,
            message: "the plugin returned a malformed error".into(),
        });
    };
    let payload = payload.as_deref();
    match case.as_str() {
        "auth" => ConnectorError::Auth(text(payload)),
        "config" => ConnectorError::Config(text(payload)),
        "validation" => ConnectorError::Validation(text(payload)),
        "rate-limited" => ConnectorError::RateLimited(match payload {
            Some(Val::Option(Some(v))) => match **v {
                Val::U32(s) => Some(s),
                _ => None,
            },
            _ => None,
        }),
        "provider" => ConnectorError::Provider(failure(payload)),
        "permanent" => ConnectorError::Permanent(failure(payload)),
        "unsupported" => ConnectorError::Unsupported(text(payload)),
        "webhook-verification" => ConnectorError::WebhookVerification(text(payload)),
        "not-found" => ConnectorError::NotFound(text(payload)),
        other => ConnectorError::Provider(ProviderFailure {
            status: None,
            message: format!("unknown error case {other:?}"),
        }),
    }
}
