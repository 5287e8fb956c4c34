//! The compile-time half of `patchbay-sdk`: [`manifest!`] reads the plugin's
//! `patchbay.toml` and builds its `PluginManifest`. Use it through
//! `patchbay_sdk::export!`, which calls it; a mistake in the file is a
//! compile error naming the file and the key.

mod manifest;

use std::fmt::Write as _;
use std::path::PathBuf;

use proc_macro::TokenStream;

use manifest::Manifest;

/// The plugin's manifest from `patchbay.toml` beside its `Cargo.toml`, as a
/// `PluginManifest` expression. Takes no arguments.
#[proc_macro]
pub fn manifest(input: TokenStream) -> TokenStream {
    if !input.is_empty() {
        return compile_error("patchbay_sdk::manifest!() takes no arguments: it reads patchbay.toml");
    }
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return compile_error("patchbay_sdk::manifest!() needs CARGO_MANIFEST_DIR: build the plugin with cargo");
    };
    let path = PathBuf::from(dir).join("patchbay.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            return compile_error(&format!(
                "{}: cannot read the plugin's manifest ({e}); every plugin has a patchbay.toml beside its Cargo.toml",
                path.display()
            ));
        }
    };
    match manifest::parse(&text) {
        Ok(manifest) => expression(&manifest, &path.display().to_string())
            .parse()
            .expect("the generated manifest is valid Rust"),
        Err(m) => compile_error(&format!("{}: {}: {}", path.display(), m.key, m.problem)),
    }
}

fn compile_error(message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?})")
        .parse()
        .expect("a compile_error! invocation")
}

fn string(s: &str) -> String {
    format!("::std::string::String::from({s:?})")
}

fn option(value: Option<&str>) -> String {
    match value {
        Some(s) => format!("::core::option::Option::Some({})", string(s)),
        None => "::core::option::Option::None".into(),
    }
}

fn strings(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("::std::vec![{}]", items.join(", "))
}

/// `api-key` → `ApiKey`.
fn variant(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn expression(m: &Manifest, path: &str) -> String {
    const T: &str = "::patchbay_sdk::types";
    let mut credentials = String::new();
    for c in &m.credentials {
        let _ = write!(
            credentials,
            "{T}::CredentialField {{ name: {}, label: {}, secret: {}, required: {}, default: {}, choices: {}, help: {} }},",
            string(&c.name),
            string(&c.label),
            c.secret,
            c.required,
            option(c.default.as_deref()),
            strings(&c.choices),
            string(&c.help),
        );
    }
    let mut settings = String::new();
    for s in &m.settings {
        let _ = write!(
            settings,
            "{T}::SettingField {{ name: {}, label: {}, type_: {T}::SettingType::{}, required: {}, default: {}, choices: {}, help: {} }},",
            string(&s.name),
            string(&s.label),
            variant(&s.kind),
            s.required,
            option(s.default.as_deref()),
            strings(&s.choices),
            string(&s.help),
        );
    }
    let oauth2 = match &m.oauth2 {
        None => "::core::option::Option::None".to_string(),
        Some(o) => {
            let flows: Vec<String> = o
                .flows
                .iter()
                .map(|f| format!("{T}::Oauth2Flow::{}", variant(f)))
                .collect();
            format!(
                "::core::option::Option::Some({T}::Oauth2Config {{ authorize_url: {}, token_url: {}, scopes: {}, pkce: {}, client_auth: {T}::ClientAuthStyle::{}, flows: ::std::vec![{}], client_id_field: {}, client_secret_field: {} }})",
                option(o.authorize_url.as_deref()),
                string(&o.token_url),
                strings(&o.scopes),
                o.pkce,
                variant(&o.client_auth),
                flows.join(", "),
                string(&o.client_id_field),
                string(&o.client_secret_field),
            )
        }
    };
    let rate_limit = match m.rate_limit {
        None => "::core::option::Option::None".to_string(),
        Some((per_second, burst)) => format!(
            "::core::option::Option::Some({T}::RateLimitHint {{ requests_per_second: {per_second:?}f64, burst: {burst} }})"
        ),
    };
    let statuses: Vec<String> = m.retry.1.iter().map(u16::to_string).collect();
    let webhooks = match &m.webhooks {
        None => "::core::option::Option::None".to_string(),
        Some(w) => format!(
            "::core::option::Option::Some({T}::WebhookSpec {{ signature_scheme: {}, signature_header: {}, events: {} }})",
            string(&w.signature_scheme),
            string(&w.signature_header),
            strings(&w.events),
        ),
    };
    let version = match &m.version {
        Some(v) => string(v),
        None => "::std::string::String::from(::core::env!(\"CARGO_PKG_VERSION\"))".into(),
    };
    format!(
        "{{
            // Rebuild when the file changes.
            const _: &[u8] = ::core::include_bytes!({path:?});
            {T}::PluginManifest {{
                name: {name},
                family: {T}::Family::{family},
                display_name: {display},
                description: {description},
                version: {version},
                contract_version: ::std::string::String::from(::patchbay_sdk::CONTRACT_VERSION),
                credentials: ::std::vec![{credentials}],
                settings: ::std::vec![{settings}],
                auth: {T}::AuthSpec {{ strategy: {T}::AuthStrategy::{strategy}, oauth2: {oauth2} }},
                allowed_hosts: {hosts},
                rate_limit: {rate_limit},
                retry: ::core::option::Option::Some({T}::RetryHint {{ max_retries: {max_retries}, retryable_statuses: ::std::vec![{statuses}] }}),
                webhooks: {webhooks},
            }}
        }}",
        name = string(&m.name),
        family = variant(&m.family),
        display = string(&m.display_name),
        description = string(&m.description),
        strategy = variant(&m.strategy),
        hosts = strings(&m.allowed_hosts),
        max_retries = m.retry.0,
        statuses = statuses.join(", "),
    )
}

#[cfg(test)]
mod tests;
