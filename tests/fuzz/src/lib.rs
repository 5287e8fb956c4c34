//! What the fuzz targets share: turning fuzz bytes into the host's inputs
//! (a plugin manifest, named JSON arguments), and the plugins whose
//! component types the JSON bridge is fuzzed against.
//!
//! Each target in `fuzz_targets/` checks a property, not only the absence
//! of panics; `just fuzz` runs them for a while, `just test` briefly and
//! over the committed seeds and regressions (`seeds/`, `regressions/`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::LazyLock;

use arbitrary::{Result, Unstructured};
use patchbay::fuzzing::FunctionTypes;
use patchbay::types::{
    AuthSpec, AuthStrategy, ClientAuthStyle, CredentialField, Family, Oauth2Config, Oauth2Flow, PluginManifest,
    RateLimitHint, RetryHint, SettingField, SettingType, WebhookSpec,
};
use patchbay::{Interface, Plugin};

/// Field names the generated manifests draw from, so that references
/// between fields (a setting named by a host, a credential named by OAuth2)
/// meet as often as they miss.
const NAMES: &[&str] = &[
    "domain",
    "token",
    "client_id",
    "client_secret",
    "base-url",
    "Bad Name",
    "",
];

/// Host patterns the generated manifests draw from, beside arbitrary text.
const HOSTS: &[&str] = &[
    "https://api.example.com",
    "https://*.example.com",
    "https://api.example.com:8443",
    "{{setting.domain}}",
    "{{setting.base-url}}",
    "https://{{setting.domain}}",
    "http://127.0.0.1",
    "https://*.*.com",
    "*",
];

fn text(u: &mut Unstructured<'_>, choices: &[&str]) -> Result<String> {
    if u.arbitrary()? {
        Ok(u.choose(choices)?.to_string())
    } else {
        u.arbitrary()
    }
}

fn list<T>(u: &mut Unstructured<'_>, mut item: impl FnMut(&mut Unstructured<'_>) -> Result<T>) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=4)?;
    (0..n).map(|_| item(u)).collect()
}

/// A manifest (mostly well-formed, often not), the interfaces its component
/// exports, and the contract version of those exports.
pub fn manifest(u: &mut Unstructured<'_>) -> Result<(PluginManifest, BTreeSet<Interface>, String)> {
    let family = *u.choose(&[
        Family::Shop,
        Family::Courier,
        Family::Payment,
        Family::Messaging,
        Family::Storage,
        Family::Llm,
        Family::Feed,
        Family::Other,
    ])?;
    let credentials = list(u, |u| {
        Ok(CredentialField {
            name: text(u, NAMES)?,
            label: u.arbitrary()?,
            secret: u.arbitrary()?,
            required: u.arbitrary()?,
            default: u.arbitrary()?,
            choices: u.arbitrary()?,
            help: u.arbitrary()?,
        })
    })?;
    let settings = list(u, |u| {
        Ok(SettingField {
            name: text(u, NAMES)?,
            label: u.arbitrary()?,
            type_: *u.choose(&[
                SettingType::Text,
                SettingType::Number,
                SettingType::Boolean,
                SettingType::Url,
                SettingType::Choice,
            ])?,
            required: u.arbitrary()?,
            default: u.arbitrary()?,
            choices: u.arbitrary()?,
            help: u.arbitrary()?,
        })
    })?;
    let oauth2 = if u.arbitrary()? {
        Some(Oauth2Config {
            authorize_url: u.arbitrary()?,
            token_url: text(
                u,
                &[
                    "https://{{setting.domain}}/oauth/token",
                    "https://auth.example.com/token",
                ],
            )?,
            scopes: u.arbitrary()?,
            pkce: u.arbitrary()?,
            client_auth: *u.choose(&[ClientAuthStyle::Basic, ClientAuthStyle::Body])?,
            flows: list(u, |u| {
                Ok(*u.choose(&[Oauth2Flow::AuthorizationCode, Oauth2Flow::ClientCredentials])?)
            })?,
            client_id_field: text(u, NAMES)?,
            client_secret_field: text(u, NAMES)?,
        })
    } else {
        None
    };
    let manifest = PluginManifest {
        name: text(u, &["woocommerce", "a", "-", "UPPER"])?,
        family,
        display_name: u.arbitrary()?,
        description: u.arbitrary()?,
        version: text(u, &["1.0.0", "0.1.0-beta.1"])?,
        contract_version: text(u, &["0.1.0", "0.2.0"])?,
        credentials,
        settings,
        auth: AuthSpec {
            strategy: *u.choose(&[
                AuthStrategy::None,
                AuthStrategy::Basic,
                AuthStrategy::Bearer,
                AuthStrategy::ApiKey,
                AuthStrategy::Oauth2,
                AuthStrategy::TokenExchange,
                AuthStrategy::Signature,
                AuthStrategy::Custom,
            ])?,
            oauth2,
        },
        allowed_hosts: list(u, |u| text(u, HOSTS))?,
        rate_limit: if u.arbitrary()? {
            Some(RateLimitHint {
                requests_per_second: u.arbitrary()?,
                burst: u.arbitrary()?,
            })
        } else {
            None
        },
        retry: if u.arbitrary()? {
            Some(RetryHint {
                max_retries: u.arbitrary()?,
                retryable_statuses: u.arbitrary()?,
            })
        } else {
            None
        },
        webhooks: if u.arbitrary()? {
            Some(WebhookSpec {
                signature_scheme: u.arbitrary()?,
                signature_header: u.arbitrary()?,
                events: u.arbitrary()?,
            })
        } else {
            None
        },
    };
    let mut exported: BTreeSet<Interface> = list(u, |u| Ok(*u.choose(Interface::ALL)?))?.into_iter().collect();
    if u.arbitrary()? {
        exported.insert(Interface::port_of(family));
    }
    let version = text(u, &["0.1.0"])?;
    Ok((manifest, exported, version))
}

/// Settings for resolving `{{setting.NAME}}` host patterns.
pub fn settings(u: &mut Unstructured<'_>) -> Result<std::collections::BTreeMap<String, String>> {
    let mut settings = std::collections::BTreeMap::new();
    for _ in 0..u.int_in_range(0..=3)? {
        settings.insert(
            text(u, NAMES)?,
            text(
                u,
                &[
                    "shop.example.com",
                    "https://shop.example.com/wp",
                    "http://[::1]:8080",
                    "a b",
                ],
            )?,
        );
    }
    Ok(settings)
}

/// The workspace's root, from this crate's manifest directory.
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Components larger than this are left out: the TypeScript and Python
/// plugins (12-19 MB) take minutes to compile in an instrumented build, and
/// their ports' types are the contract's, as in the others.
const MAX_PLUGIN_BYTES: u64 = 4 * 1024 * 1024;

/// The plugins whose component types the JSON bridge is fuzzed against:
/// the bundled ones (`target/plugins`, built by `just build-plugins`) up to
/// [`MAX_PLUGIN_BYTES`] and the test guests that export the capabilities
/// (`target/test-plugins`), loaded once per process, through the compile
/// cache.
pub static PLUGINS: LazyLock<Vec<std::sync::Arc<Plugin>>> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let chosen = workspace().join("target/fuzz-plugins");
    let _ = std::fs::remove_dir_all(&chosen);
    std::fs::create_dir_all(&chosen).unwrap();
    for dir in ["target/plugins", "target/test-plugins"] {
        let dir = workspace().join(dir);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): run `just build-plugins` first (`just fuzz` does)",
                dir.display()
            )
        });
        for entry in entries.flatten() {
            let small = entry.metadata().is_ok_and(|m| m.len() <= MAX_PLUGIN_BYTES);
            if small && entry.path().extension().is_some_and(|e| e == "wasm") {
                std::fs::copy(entry.path(), chosen.join(entry.file_name())).unwrap();
            }
        }
    }
    let host = runtime
        .block_on(
            patchbay::Host::builder()
                .plugins_dir(&chosen)
                .compile_cache(workspace().join("target/fuzz-compile-cache"))
                .build(),
        )
        .expect("the plugins load");
    let plugins = host.providers();
    assert!(!plugins.is_empty(), "no plugin loaded");
    plugins
});

/// Every exported function of every plugin, with its types.
pub static FUNCTIONS: LazyLock<Vec<FunctionTypes>> = LazyLock::new(|| {
    PLUGINS
        .iter()
        .flat_map(|plugin| patchbay::fuzzing::function_types(plugin))
        .collect()
});

/// An arbitrary JSON value, shaped like what the bridge takes: objects
/// keyed by parameter and field names, case names, base64 strings.
pub fn json(u: &mut Unstructured<'_>, depth: u32) -> Result<serde_json::Value> {
    use serde_json::Value;
    const KEYS: &[&str] = &[
        "query", "since", "items", "order-id", "ok", "err", "case", "status", "name", "id", "limit",
    ];
    let kind = if depth == 0 {
        u.int_in_range(0..=4)?
    } else {
        u.int_in_range(0..=6)?
    };
    Ok(match kind {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => match u.int_in_range(0..=3)? {
            0 => serde_json::json!(u.arbitrary::<i64>()?),
            1 => serde_json::json!(u.arbitrary::<u64>()?),
            2 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
            _ => serde_json::json!(u.int_in_range(0..=300)?),
        },
        3 | 4 => Value::String(text(
            u,
            &[
                "processing",
                "completed",
                "2026-01-01T00:00:00Z",
                "aGVsbG8=",
                "18446744073709551616",
                "-1",
                "shop",
            ],
        )?),
        5 => Value::Array(list(u, |u| json(u, depth - 1))?),
        _ => {
            let mut object = serde_json::Map::new();
            for _ in 0..u.int_in_range(0..=4)? {
                object.insert(text(u, KEYS)?, json(u, depth - 1)?);
            }
            Value::Object(object)
        }
    })
}
