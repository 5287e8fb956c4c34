//! Checks of a plugin's manifest against its component and itself, at load
//! time: a bad manifest is a load error naming what is wrong.

use std::collections::BTreeSet;

use patchbay_contract::types::PluginManifest;
use patchbay_contract::{Interface, family_name};
use patchbay_outbound::HostPattern;
use patchbay_secrets::template;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Rates a manifest may ask for, in requests per second.
pub(crate) const RATE_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e6;

/// Checks the manifest against the component (the interfaces it exports,
/// the contract version of its exports) and itself.
pub fn validate_manifest(
    manifest: &PluginManifest,
    exported: &BTreeSet<Interface>,
    contract_version: &str,
) -> Result<(), String> {
    if !valid_name(&manifest.name) {
        return Err(format!(
            "name {:?} must be 1-64 characters of a-z, 0-9, '-' or '_'",
            manifest.name
        ));
    }
    let port = Interface::port_of(manifest.family);
    if !exported.contains(&port) {
        return Err(format!(
            "family `{}` needs the `{port}` port, which the component does not export",
            family_name(manifest.family)
        ));
    }
    if manifest.contract_version != contract_version {
        return Err(format!(
            "declares contract version {:?} but exports the contract at {contract_version}",
            manifest.contract_version
        ));
    }
    let mut seen = BTreeSet::new();
    for name in manifest
        .credentials
        .iter()
        .map(|c| &c.name)
        .chain(manifest.settings.iter().map(|s| &s.name))
    {
        if !valid_name(name) {
            return Err(format!("field name {name:?} must be of a-z, 0-9, '-' or '_'"));
        }
        if !seen.insert(name.as_str()) {
            return Err(format!("field {name:?} is declared twice"));
        }
    }
    for pattern in &manifest.allowed_hosts {
        let text = pattern.trim();
        if let Some(setting) = template::whole(text, "setting") {
            if !manifest.settings.iter().any(|s| s.name == setting) {
                return Err(format!(
                    "allowed host {pattern:?} names a setting the manifest does not declare"
                ));
            }
        } else {
            HostPattern::parse(text).map_err(|e| e.to_string())?;
        }
    }
    if let Some(hint) = &manifest.rate_limit
        && !(hint.requests_per_second.is_finite() && hint.requests_per_second > 0.0)
    {
        return Err(format!(
            "rate limit of {} requests per second is not a positive number",
            hint.requests_per_second
        ));
    }
    if let Some(hint) = &manifest.rate_limit
        && !RATE_RANGE.contains(&hint.requests_per_second)
    {
        return Err(format!(
            "rate limit of {} requests per second is outside {} to {}",
            hint.requests_per_second,
            RATE_RANGE.start(),
            RATE_RANGE.end()
        ));
    }
    if let Some(oauth2) = &manifest.auth.oauth2 {
        // The host sends these fields to the token endpoint: they must be the
        // connection's own credentials, declared as such.
        for (what, field) in [
            ("client-id-field", &oauth2.client_id_field),
            ("client-secret-field", &oauth2.client_secret_field),
        ] {
            if !manifest.credentials.iter().any(|c| &c.name == field) {
                return Err(format!(
                    "auth.oauth2.{what} names {field:?}, which is not a declared credential field"
                ));
            }
        }
    }
    Ok(())
}

/// Checks the forwarding headers a plugin declared (`manifest-extension`):
/// each must be one of the pipeline's forwarding headers, named once. They
/// come back lowercase and sorted.
pub(crate) fn forwarding_headers(declared: Vec<String>) -> Result<Vec<String>, String> {
    use patchbay_outbound::headers::FORWARDING_HEADERS;
    let mut headers = Vec::with_capacity(declared.len());
    for name in declared {
        let lower = name.trim().to_ascii_lowercase();
        if !FORWARDING_HEADERS.contains(&lower.as_str()) {
            return Err(format!(
                "manifest-extension.forwarding-headers names {name:?}, which is not a forwarding header \
                 (one of {}); the host derives or owns every other refused header",
                FORWARDING_HEADERS.join(", ")
            ));
        }
        if headers.contains(&lower) {
            return Err(format!("manifest-extension.forwarding-headers names {name:?} twice"));
        }
        headers.push(lower);
    }
    headers.sort();
    Ok(headers)
}

/// Checks that the manifest shown (the JSON of a second `manifest()` call)
/// is the one enforced, in what matters for security: a plugin that
/// answers differently the second time is refused.
pub(crate) fn same_manifest(manifest: &PluginManifest, shown: &serde_json::Value) -> Result<(), String> {
    use serde_json::{Value, json};
    let oauth2 = manifest.auth.oauth2.as_ref().map(|o| {
        json!({
            "authorize-url": o.authorize_url,
            "token-url": o.token_url,
            "client-id-field": o.client_id_field,
            "client-secret-field": o.client_secret_field,
            "scopes": o.scopes,
        })
    });
    let shown_oauth2 = match &shown["auth"]["oauth2"] {
        Value::Null => None,
        o => Some(json!({
            "authorize-url": o["authorize-url"],
            "token-url": o["token-url"],
            "client-id-field": o["client-id-field"],
            "client-secret-field": o["client-secret-field"],
            "scopes": o["scopes"],
        })),
    };
    let credentials: Vec<Value> = manifest
        .credentials
        .iter()
        .map(|c| json!({ "name": c.name, "secret": c.secret }))
        .collect();
    let shown_credentials: Vec<Value> = shown["credentials"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| json!({ "name": c["name"], "secret": c["secret"] }))
                .collect()
        })
        .unwrap_or_default();
    let same = shown["name"] == json!(manifest.name)
        && shown["allowed-hosts"] == json!(manifest.allowed_hosts)
        && shown_oauth2 == oauth2
        && shown_credentials == credentials;
    if same {
        Ok(())
    } else {
        Err("manifest() answered differently when called twice: the plugin is refused".into())
    }
}

#[cfg(test)]
mod tests {
    use patchbay_contract::types::{
        AuthSpec, AuthStrategy, ClientAuthStyle, CredentialField, Family, Oauth2Config, Oauth2Flow, RateLimitHint,
    };

    use super::*;

    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "probe".into(),
            family: Family::Other,
            display_name: "Probe".into(),
            description: String::new(),
            version: "1.0.0".into(),
            contract_version: "0.1.0".into(),
            credentials: vec![CredentialField {
                name: "api_key".into(),
                label: "API key".into(),
                secret: true,
                required: true,
                default: None,
                choices: vec![],
                help: String::new(),
            }],
            settings: vec![],
            auth: AuthSpec {
                strategy: AuthStrategy::None,
                oauth2: None,
            },
            allowed_hosts: vec!["https://api.example.com".into()],
            rate_limit: None,
            retry: None,
            webhooks: None,
        }
    }

    fn check(manifest: &PluginManifest) -> Result<(), String> {
        validate_manifest(
            manifest,
            &BTreeSet::from([Interface::Connector, Interface::Actions]),
            "0.1.0",
        )
    }

    /// F6: a rate no limiter can honour is refused at load, not a panic later.
    #[test]
    fn rates_outside_the_sane_range_are_refused() {
        for per_second in [1e-300, 1e-4, 1e7, f64::MAX] {
            let mut m = manifest();
            m.rate_limit = Some(RateLimitHint {
                requests_per_second: per_second,
                burst: 1,
            });
            assert!(check(&m).is_err(), "{per_second} was accepted");
        }
        let mut m = manifest();
        m.rate_limit = Some(RateLimitHint {
            requests_per_second: 2.0,
            burst: 40,
        });
        check(&m).unwrap();
    }

    /// F22: the manifest shown must be the manifest enforced.
    #[test]
    fn a_second_answer_that_differs_is_refused() {
        let m = manifest();
        let shown = serde_json::json!({
            "name": "probe",
            "allowed-hosts": ["https://api.example.com"],
            "auth": { "strategy": "none", "oauth2": null },
            "credentials": [{ "name": "api_key", "secret": true }],
        });
        same_manifest(&m, &shown).unwrap();
        let mut benign = shown.clone();
        benign["allowed-hosts"] = serde_json::json!([]);
        assert!(same_manifest(&m, &benign).is_err());
        let mut downgraded = shown;
        downgraded["credentials"][0]["secret"] = serde_json::json!(false);
        assert!(same_manifest(&m, &downgraded).is_err());
    }

    /// F1: the OAuth2 client id and secret are fields the connection declares.
    #[test]
    fn oauth_client_fields_must_be_declared_credentials() {
        let mut m = manifest();
        m.auth.oauth2 = Some(Oauth2Config {
            authorize_url: None,
            token_url: "https://api.example.com/token".into(),
            scopes: vec![],
            pkce: false,
            client_auth: ClientAuthStyle::Basic,
            flows: vec![Oauth2Flow::ClientCredentials],
            client_id_field: "api_key".into(),
            client_secret_field: "password".into(),
        });
        let refused = check(&m).unwrap_err();
        assert!(refused.contains("client-secret-field names \"password\""), "{refused}");
    }

    /// `manifest-extension`: only forwarding headers may be declared, each
    /// once; they are kept lowercase.
    #[test]
    fn only_forwarding_headers_may_be_declared() {
        let declared = super::forwarding_headers(vec!["X-Forwarded-For".into(), "via".into()]).unwrap();
        assert_eq!(declared, ["via", "x-forwarded-for"]);
        for name in ["Host", "Content-Length", "Proxy-Authorization", "Authorization"] {
            let refused = super::forwarding_headers(vec![name.into()]).unwrap_err();
            assert!(
                refused.contains(&format!("{name:?}")) && refused.contains("not a forwarding header"),
                "{refused}"
            );
        }
        let twice = super::forwarding_headers(vec!["Via".into(), "VIA".into()]).unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
    }
}
