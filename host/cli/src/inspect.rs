//! `patchbay inspect FILE.wasm [--json]`

use std::path::PathBuf;

use patchbay::{Host, Interface, Plugin};
use serde_json::{Value, json};

use super::{Failure, print_json};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The component file.
    file: PathBuf,
    /// Print a JSON document (manifest, interfaces, imports, function schemas).
    #[arg(long)]
    json: bool,
}

/// The JSON description of a plugin shared by `inspect` and `providers`.
pub(crate) fn describe(plugin: &Plugin, with_functions: bool) -> Value {
    let manifest = plugin.manifest();
    let mut doc = json!({
        "provider": plugin.key(),
        "file": plugin.path().display().to_string(),
        "size": plugin.size(),
        "sha256": plugin.sha256(),
        "contract-version": plugin.contract_version(),
        "family": patchbay::family_name(manifest.family),
        "port": plugin.port().name(),
        "capabilities": plugin.capabilities().iter().map(|c| c.name()).collect::<Vec<_>>(),
        "allowed-hosts": manifest.allowed_hosts,
        "forwarding-headers": plugin.forwarding_headers(),
        "cost-budget": plugin.cost_budget().map(|b| json!({
            "available": b.available,
            "restore-rate": b.restore_rate,
            "cost": b.cost,
            "refusal": b.refusal.as_ref().map(|r| json!({"items": r.items, "code": r.code, "value": r.value})),
        })),
        "imports": plugin.imports(),
        "manifest": plugin.manifest_json(),
    });
    if with_functions {
        let mut functions = serde_json::Map::new();
        for interface in Interface::ALL.iter().copied().filter(|i| plugin.exports(*i)) {
            for function in plugin.functions(interface) {
                functions.insert(
                    format!("{interface}.{}", function.name),
                    json!({ "params": function.params, "result": function.result }),
                );
            }
        }
        doc["functions"] = Value::Object(functions);
    }
    doc
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    // The compile cache: a 12 MB JavaScript or 19 MB Python component takes
    // seconds to compile and milliseconds to load once compiled.
    let host = Host::builder()
        .pooling(false)
        .compile_cache(super::default_cache())
        .build()
        .await
        .map_err(|e| Failure::of(e.kind(), e.to_string()))?;
    let plugin = host
        .load_file(&args.file)
        .await
        .map_err(|e| Failure::of(e.kind(), e.to_string()))?;
    if args.json {
        print_json(&describe(&plugin, true));
        return Ok(());
    }
    let m = plugin.manifest();
    let p = |text: &str| super::printable(text).into_owned();
    println!("{}  {} {}", plugin.key(), p(&m.display_name), p(&m.version));
    println!("  {}", p(&m.description));
    println!(
        "  file           {} ({} bytes, sha256 {})",
        plugin.path().display(),
        plugin.size(),
        &plugin.sha256()[..16]
    );
    println!("  contract       patchbay:connector@{}", plugin.contract_version());
    println!("  port           {}", plugin.port());
    let capabilities = plugin.capabilities();
    println!(
        "  capabilities   {}",
        if capabilities.is_empty() {
            "none".to_string()
        } else {
            capabilities.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
        }
    );
    println!("  allowed hosts  {}", p(&m.allowed_hosts.join(", ")));
    // Headers the host otherwise refuses: what the operator agrees to.
    if !plugin.forwarding_headers().is_empty() {
        println!("  forwards       {}", plugin.forwarding_headers().join(", "));
    }
    // How the host paces it beyond the request rate.
    if let Some(budget) = plugin.cost_budget() {
        println!(
            "  cost budget    {} available, {} per second, {} per request{}",
            budget.available,
            budget.restore_rate,
            budget.cost,
            budget
                .refusal
                .as_ref()
                .map(|r| format!("; refused when an item of {} has {} = {}", r.items, r.code, r.value))
                .unwrap_or_default()
        );
    }
    // Where the host will send the OAuth client's credentials (and users).
    if let Some(oauth2) = &m.auth.oauth2 {
        println!("  oauth2 token   {}", p(&oauth2.token_url));
        if let Some(authorize) = &oauth2.authorize_url {
            println!("  oauth2 login   {}", p(authorize));
        }
        println!(
            "  oauth2 client  {} / {}",
            p(&oauth2.client_id_field),
            p(&oauth2.client_secret_field)
        );
    }
    for field in &m.credentials {
        let flags = [field.secret.then_some("secret"), field.required.then_some("required")];
        let flags: Vec<&str> = flags.into_iter().flatten().collect();
        println!(
            "  credential     {} ({}) {}",
            p(&field.name),
            p(&field.label),
            flags.join(", ")
        );
    }
    for field in &m.settings {
        println!(
            "  setting        {} ({}){}",
            p(&field.name),
            p(&field.label),
            if field.required { " required" } else { "" }
        );
    }
    for interface in Interface::ALL.iter().copied().filter(|i| plugin.exports(*i)) {
        let names: Vec<String> = plugin.functions(interface).into_iter().map(|f| f.name).collect();
        println!("  exports        {interface}: {}", names.join(", "));
    }
    println!("  imports        {}", plugin.imports().join(", "));
    Ok(())
}
