//! Cold load: compiling a component vs loading it from the on-disk cache.

use std::path::PathBuf;
use std::time::Instant;

use patchbay::Host;

use crate::stats::{Stats, ratio};
use crate::{Report, plugin_path, test_plugin_path};

const RUNS: usize = 3;

async fn load_once(cache: &std::path::Path, file: &std::path::Path) -> std::time::Duration {
    let host = Host::builder().compile_cache(cache).build().await.unwrap();
    let started = Instant::now();
    host.load_file(file).await.unwrap();
    started.elapsed()
}

pub async fn cold_load(report: &mut Report) {
    let mut plugins: Vec<(String, PathBuf)> = crate::calls::LANGUAGES
        .iter()
        .map(|(language, file, _)| (format!("{file} ({language})"), plugin_path(file)))
        .collect();
    plugins.push(("probe (Rust test guest)".into(), test_plugin_path("probe")));
    let mut rows = Vec::new();
    for (name, file) in plugins {
        let size = std::fs::metadata(&file).unwrap().len();
        let mut compiled = Vec::new();
        for _ in 0..RUNS {
            let fresh = tempfile::tempdir().unwrap();
            compiled.push(load_once(fresh.path(), &file).await);
        }
        let warm = tempfile::tempdir().unwrap();
        load_once(warm.path(), &file).await;
        let mut cached = Vec::new();
        for _ in 0..RUNS * 2 {
            cached.push(load_once(warm.path(), &file).await);
        }
        let (compiled, cached) = (Stats::of(compiled), Stats::of(cached));
        rows.push(vec![
            name,
            format!("{:.0} KiB", size as f64 / 1024.0),
            compiled.cell(),
            cached.cell(),
            ratio(compiled.median(), cached.median()),
        ]);
    }
    report.section("3. Cold load: compile vs on-disk cache");
    report.para(&format!(
        "`Host::load_file` (read, validate, compile or load the artifact, check imports and \
         exports, read the manifest) with an empty cache directory ({RUNS} runs) and with a warm \
         one ({} runs). The cache is keyed by the component's SHA-256 and the engine's \
         configuration; a hit checks the artifact file's stamp (an 80-byte MAC, not a hash of \
         the artifact) and maps it rather than reading it (target for the JavaScript and \
         Python components: ≤ 40 ms; it was 190 ms and 126 ms when the whole ~37 MB artifact \
         was read, MACed and copied). The JavaScript (~12 MB) and Python (~19 MB) components \
         are why the cache exists; `patchbay compile DIR` prints the same comparison per file.",
        RUNS * 2
    ));
    report.table(&["plugin", "size", "compile", "from cache", "compile / cached"], rows);
}
