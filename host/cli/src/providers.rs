//! `patchbay providers --plugins DIR [--json]`

use std::path::PathBuf;

use patchbay::Host;
use serde_json::json;

use super::inspect::describe;
use super::{Failure, print_json};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The plugins directory.
    #[arg(long, env = "PATCHBAY_PLUGINS")]
    plugins: PathBuf,
    /// Print JSON: {"providers": [...], "skipped": [...]}.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    let host = Host::builder()
        .pooling(false)
        .compile_cache(super::default_cache())
        .plugins_dir(&args.plugins)
        .build()
        .await
        .map_err(|e| Failure::of(e.kind(), e.to_string()))?;
    let providers = host.providers();
    let skipped = host.load_failures();
    if args.json {
        let providers: Vec<_> = providers.iter().map(|p| describe(p, false)).collect();
        print_json(&json!({ "providers": providers, "skipped": skipped }));
        return Ok(());
    }
    if providers.is_empty() {
        println!("no providers in {}", args.plugins.display());
    }
    for plugin in &providers {
        let capabilities = plugin.capabilities();
        println!(
            "{:<28} {:<24} {:<8} {}",
            plugin.key(),
            plugin.manifest().display_name,
            plugin.manifest().version,
            if capabilities.is_empty() {
                String::new()
            } else {
                format!(
                    "+{}",
                    capabilities.iter().map(|c| c.name()).collect::<Vec<_>>().join(" +")
                )
            }
        );
    }
    for reason in &skipped {
        eprintln!("skipped: {reason}");
    }
    Ok(())
}
