//! `patchbay compile DIR`: warm the compile cache, with a progress bar.

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use patchbay::{CacheOutcome, Host};

use super::{Failure, default_cache};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The plugins directory.
    #[arg(env = "PATCHBAY_PLUGINS")]
    plugins: PathBuf,
    /// The cache directory (default: $PATCHBAY_CACHE or ~/.cache/patchbay/compiled).
    #[arg(long)]
    cache: Option<PathBuf>,
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    let cache = args.cache.unwrap_or_else(default_cache);
    let host = Host::builder()
        .pooling(false)
        .compile_cache(&cache)
        .build()
        .await
        .map_err(|e| Failure::fault(e.to_string()))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.plugins)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", args.plugins.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    files.sort();
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let mut failed = 0;
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bar.set_message(format!("compiling {name}"));
        match host.load_file(file).await {
            Ok(plugin) => {
                let what = match plugin.cache_outcome() {
                    Some(CacheOutcome::Hit) => "cached",
                    Some(CacheOutcome::Miss) => "compiled",
                    Some(CacheOutcome::Rebuilt) => "recompiled (the cached artifact was corrupt)",
                    None => "compiled",
                };
                let line = format!(
                    "{:<28} {what} in {} ms",
                    plugin.key(),
                    plugin.compile_time().as_millis()
                );
                bar.suspend(|| println!("{line}"));
            }
            Err(error) => {
                failed += 1;
                bar.suspend(|| eprintln!("skipped: {error}"));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "{} plugins in {} ms, cache {}",
        files.len() - failed,
        started.elapsed().as_millis(),
        cache.display()
    );
    if failed > 0 {
        return Err(Failure::fault(format!(
            "{failed} of {} files could not be loaded",
            files.len()
        )));
    }
    Ok(())
}
