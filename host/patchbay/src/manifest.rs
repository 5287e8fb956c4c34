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

/// Checks the manifest against the component and itself.
pub(crate) fn validate_manifest(
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
    Ok(())
}
