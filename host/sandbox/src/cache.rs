//! The on-disk cache of compiled components.
//!
//! Compiling a large component (a 12 MB JavaScript or 19 MB Python plugin)
//! takes tens of seconds; loading its precompiled artifact takes
//! milliseconds. Artifacts are keyed by the SHA-256 of the component and by
//! the engine's compatibility hash (wasmtime version, target, settings), so
//! a new wasmtime or a changed configuration never loads a stale artifact.
//! Each artifact is stored with its own SHA-256; a corrupt or truncated
//! entry is detected, removed and rebuilt.
//!
//! The cache directory must be as trusted as the host binary: what it holds
//! is native code.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// What the cache did for one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded a precompiled artifact.
    Hit,
    /// Compiled and stored a new artifact.
    Miss,
    /// Found a corrupt artifact, compiled and replaced it.
    Rebuilt,
}

/// A directory of precompiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

fn engine_key(engine: &Engine) -> String {
    // SipHash with fixed keys: stable across runs of the same host build.
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

impl CompileCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where the cache lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn paths(&self, engine: &Engine, sha256: &str) -> (PathBuf, PathBuf) {
        let key = format!("{sha256}-{}", engine_key(engine));
        (
            self.dir.join(format!("{key}.cwasm")),
            self.dir.join(format!("{key}.sha256")),
        )
    }

    /// The compiled component for `bytes` (whose SHA-256, hex, is
    /// `sha256`), from the cache when possible.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let (artifact, digest) = self.paths(engine, sha256);
        let mut outcome = CacheOutcome::Miss;
        if artifact.exists() {
            match Self::load(engine, &artifact, &digest) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(reason) => {
                    tracing::warn!(artifact = %artifact.display(), %reason, "discarding a corrupt compile-cache entry");
                    let _ = std::fs::remove_file(&artifact);
                    let _ = std::fs::remove_file(&digest);
                    outcome = CacheOutcome::Rebuilt;
                }
            }
        }
        let component = Component::from_binary(engine, bytes)?;
        if let Err(error) = self.store(&component, &artifact, &digest) {
            tracing::warn!(dir = %self.dir.display(), %error, "cannot write the compile cache; continuing without it");
        }
        Ok((component, outcome))
    }

    fn load(engine: &Engine, artifact: &Path, digest: &Path) -> Result<Component, String> {
        let bytes = std::fs::read(artifact).map_err(|e| format!("unreadable: {e}"))?;
        let expected = std::fs::read_to_string(digest).map_err(|e| format!("no digest: {e}"))?;
        if hex::encode(Sha256::digest(&bytes)) != expected.trim() {
            return Err("its SHA-256 does not match the digest written with it".into());
        }
        // SAFETY: the artifact was produced by `Component::serialize` of an
        // engine with the same compatibility hash (it is part of the file
        // name), and its bytes match the digest stored beside it, so it is
        // exactly what this host wrote. The directory is trusted like the
        // host binary (see the module documentation).
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, &bytes) };
        component.map_err(|e| format!("rejected by wasmtime: {e}"))
    }

    fn store(&self, component: &Component, artifact: &Path, digest: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        let write_atomically = |path: &Path, data: &[u8]| -> std::io::Result<()> {
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            std::fs::write(&tmp, data)?;
            std::fs::rename(&tmp, path)
        };
        write_atomically(digest, hex::encode(Sha256::digest(&bytes)).as_bytes())?;
        write_atomically(artifact, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPONENT: &str = r#"(component (core module (func (export "f"))))"#;

    #[test]
    fn hits_after_a_miss_and_rebuilds_corrupt_entries() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CompileCache::new(dir.path());
        let bytes = wat::parse_str(COMPONENT).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Miss
        );
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Hit
        );
        let (artifact, _) = cache.paths(&engine, &sha);
        let mut corrupt = std::fs::read(&artifact).unwrap();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0xff;
        std::fs::write(&artifact, corrupt).unwrap();
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Rebuilt
        );
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Hit
        );
        std::fs::write(&artifact, b"truncated").unwrap();
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Rebuilt
        );
    }

    #[test]
    fn another_engine_configuration_gets_its_own_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path());
        let bytes = wat::parse_str(COMPONENT).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        let plain = Engine::default();
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = Engine::new(&config).unwrap();
        assert_eq!(
            cache.load_or_compile(&plain, &bytes, &sha).unwrap().1,
            CacheOutcome::Miss
        );
        assert_eq!(
            cache.load_or_compile(&other, &bytes, &sha).unwrap().1,
            CacheOutcome::Miss
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }
}
