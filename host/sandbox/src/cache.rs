//! The on-disk cache of compiled components.
//!
//! Compiling a large component (a 12 MB JavaScript or 19 MB Python plugin)
//! takes tens of seconds; loading its precompiled artifact takes
//! milliseconds. Artifacts are keyed by the SHA-256 of the component and by
//! the engine's compatibility hash (wasmtime version, target, settings), so
//! a new wasmtime or a changed configuration never loads a stale artifact.
//!
//! What the cache holds is native code, so the directory is checked before
//! it is used and every artifact is authenticated:
//! - the directory is created private (0700); an existing one must belong
//!   to the user running the host and be writable by no one else;
//! - a random key in the directory (`cache.key`, 0600, same checks) MACs
//!   every artifact file together with the component's hash and the
//!   engine's (HMAC-SHA256), so an artifact planted or swapped by anyone who
//!   cannot read the key does not load; a corrupt entry is removed and
//!   rebuilt;
//! - files are written to fresh temporary names (never following a link)
//!   and renamed into place.
//!
//! The MAC covers the artifact *file* as written — its device, inode, size
//! and modification and change times — rather than its bytes: loading a
//! 37 MB artifact then costs a `stat` and a MAC of 80 bytes instead of
//! reading and hashing it all, and the file is mapped, not copied
//! ([`Component::deserialize_file`]). Any change to the file after the
//! cache wrote it (a write, a truncation, a rename or copy over it, a
//! `touch`) moves its change time, which no process can set back, so the
//! MAC no longer matches and the entry is rebuilt. A cache directory copied
//! elsewhere recompiles, as it should.

use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;

/// What the cache did for one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded a precompiled artifact.
    Hit,
    /// Compiled and stored a new artifact.
    Miss,
    /// Found a corrupt (or unauthenticated) artifact, compiled and replaced it.
    Rebuilt,
}

/// Why a cache directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("compile cache {dir}: {reason}")]
pub struct CacheError {
    /// The directory.
    pub dir: PathBuf,
    /// Why.
    pub reason: String,
}

/// A directory of precompiled components, checked and keyed.
#[derive(Clone)]
pub struct CompileCache {
    dir: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for CompileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompileCache")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn engine_key(engine: &Engine) -> String {
    // SipHash with fixed keys: stable across runs of the same host build.
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// A fresh file for writing, never an existing one or a link: `0600`.
fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes `data` to `path` through a fresh temporary file renamed into place.
fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}-{:016x}", std::process::id(), rand::random::<u64>()));
    let written = create_new(&tmp).and_then(|mut file| {
        file.write_all(data)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&tmp);
            Err(error)
        }
    }
}

/// Refuses a path that another user owns or others may write.
#[cfg(unix)]
fn check_private(path: &Path, what: &str) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read its {what}: {e}"))?;
    if meta.file_type().is_symlink() {
        return Err(format!("its {what} is a symbolic link"));
    }
    let user = rustix::process::geteuid().as_raw();
    if meta.uid() != user {
        return Err(format!(
            "its {what} belongs to user {}, not to the user running the host ({user})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "its {what} is writable by others (mode {:o}); make it private (chmod 700 for the directory, 600 for the key)",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _what: &str) -> Result<(), String> {
    Ok(())
}

impl CompileCache {
    /// Opens the cache in `dir`: creates it private when missing, checks its
    /// owner and mode, and reads (or creates) its key.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, CacheError> {
        let dir = dir.into();
        let fail = |reason: String| CacheError {
            dir: dir.clone(),
            reason,
        };
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(&dir)
                .map_err(|e| fail(format!("cannot create it: {e}")))?;
        }
        check_private(&dir, "directory").map_err(&fail)?;
        let key_file = dir.join("cache.key");
        let key = match std::fs::read(&key_file) {
            Ok(bytes) => {
                check_private(&key_file, "key file").map_err(&fail)?;
                bytes
                    .try_into()
                    .map_err(|_| fail("its key file is not 32 bytes".into()))?
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                // Written whole to a fresh file, then linked into place
                // without replacing: processes starting at once share one key.
                let key: [u8; 32] = rand::random();
                let tmp = key_file.with_extension(format!("tmp-{}-{:016x}", std::process::id(), rand::random::<u64>()));
                let written = create_new(&tmp).and_then(|mut file| {
                    file.write_all(&key)?;
                    file.sync_all()
                });
                let linked = written.and_then(|()| std::fs::hard_link(&tmp, &key_file));
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => key,
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                        check_private(&key_file, "key file").map_err(&fail)?;
                        std::fs::read(&key_file)
                            .map_err(|e| fail(format!("cannot read its key: {e}")))?
                            .try_into()
                            .map_err(|_| fail("its key file is not 32 bytes".into()))?
                    }
                    Err(error) => return Err(fail(format!("cannot create its key: {error}"))),
                }
            }
            Err(error) => return Err(fail(format!("cannot read its key: {error}"))),
        };
        Ok(Self { dir, key })
    }

    /// Where the cache lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn paths(&self, engine: &Engine, sha256: &str) -> (PathBuf, PathBuf) {
        let key = format!("{sha256}-{}", engine_key(engine));
        (
            self.dir.join(format!("{key}.cwasm")),
            self.dir.join(format!("{key}.mac")),
        )
    }

    /// The keyed MAC of an artifact file, before finalizing: it binds the
    /// file, as the cache wrote it, to the component and the engine it was
    /// compiled for.
    fn keyed(&self, engine: &Engine, sha256: &str, file: &FileStamp) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"patchbay compiled component file\0");
        mac.update(sha256.as_bytes());
        mac.update(b"\0");
        mac.update(engine_key(engine).as_bytes());
        mac.update(b"\0");
        mac.update(&file.0);
        mac
    }

    /// The MAC stored beside an artifact.
    fn mac(&self, engine: &Engine, sha256: &str, file: &FileStamp) -> Vec<u8> {
        self.keyed(engine, sha256, file).finalize().into_bytes().to_vec()
    }

    /// The compiled component for `bytes` (whose SHA-256, hex, is
    /// `sha256`), from the cache when possible.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let (artifact, mac) = self.paths(engine, sha256);
        let mut outcome = CacheOutcome::Miss;
        if artifact.exists() {
            match self.load(engine, sha256, &artifact, &mac) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(reason) => {
                    tracing::warn!(artifact = %artifact.display(), %reason, "discarding a compile-cache entry");
                    let _ = std::fs::remove_file(&artifact);
                    let _ = std::fs::remove_file(&mac);
                    outcome = CacheOutcome::Rebuilt;
                }
            }
        }
        let component = Component::from_binary(engine, bytes)?;
        if let Err(error) = self.store(engine, sha256, &component, &artifact, &mac) {
            tracing::warn!(dir = %self.dir.display(), %error, "cannot write the compile cache; continuing without it");
        }
        Ok((component, outcome))
    }

    /// Where the cache remembers what a plugin file held.
    fn file_entry(&self, path: &Path) -> PathBuf {
        let name = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let digest = <Sha256 as sha2::Digest>::digest(name.as_os_str().as_encoded_bytes());
        self.dir.join("files").join(hex::encode(digest))
    }

    fn file_mac(&self, stamp: &FileStamp, sha256: &str, provider: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"patchbay plugin file\0");
        mac.update(&stamp.0);
        mac.update(sha256.as_bytes());
        mac.update(b"\0");
        mac.update(provider.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// What the plugin file at `path` held when the cache last saw it
    /// unchanged ([`remember_file`](Self::remember_file)): its SHA-256 and
    /// its provider. `None` when the file changed since (any write, rename
    /// or touch), or was never seen. Lets a host skip hashing a plugin it
    /// knows, and skip reading one that holds a provider it does not want.
    pub fn known_file(&self, path: &Path) -> Option<KnownFile> {
        let stamp = FileStamp::of(path).ok()?;
        let text = std::fs::read_to_string(self.file_entry(path)).ok()?;
        let mut fields = text.split('\n');
        let (sha256, provider, mac) = (fields.next()?, fields.next()?, fields.next()?);
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        (valid && self.file_mac(&stamp, sha256, provider) == mac).then(|| KnownFile {
            stamp,
            sha256: sha256.to_string(),
            provider: Some(provider.to_string()).filter(|p| !p.is_empty()),
        })
    }

    /// The stamp of a plugin file before it is read, for
    /// [`remember_file`](Self::remember_file).
    pub fn stamp_file(path: &Path) -> Option<FileStamp> {
        FileStamp::of(path).ok()
    }

    /// Remembers that the plugin file at `path`, as stamped before it was
    /// read, holds content hashing to `sha256` and the provider `provider`
    /// (`None`: it did not load). Nothing is remembered when the file
    /// changed meanwhile; a failure to write is only logged.
    pub fn remember_file(&self, path: &Path, before: &FileStamp, sha256: &str, provider: Option<&str>) {
        if FileStamp::of(path).ok().as_ref() != Some(before) || before.is_recent() {
            return;
        }
        let provider = provider.unwrap_or("");
        let entry = self.file_entry(path);
        let text = format!("{sha256}\n{provider}\n{}", self.file_mac(before, sha256, provider));
        let written = std::fs::create_dir_all(entry.parent().expect("an entry has a directory"))
            .and_then(|()| write_atomically(&entry, text.as_bytes()));
        if let Err(error) = written {
            tracing::debug!(dir = %self.dir.display(), %error, "cannot remember a plugin file");
        }
    }

    fn load(&self, engine: &Engine, sha256: &str, artifact: &Path, mac: &Path) -> Result<Component, String> {
        let expected = std::fs::read(mac).map_err(|e| format!("no MAC: {e}"))?;
        let before = FileStamp::of(artifact)?;
        self.keyed(engine, sha256, &before)
            .verify_slice(&expected)
            .map_err(|_| "its MAC does not match: it was not written by this cache, or was altered".to_string())?;
        // SAFETY: the artifact was produced by `Component::serialize` of an
        // engine with the same compatibility hash, for this very component:
        // its MAC, under the cache's private key, binds the file as written
        // to both, and the file is checked again once mapped. The directory
        // is private (0700, the host's user): only that user could change
        // the file while it is mapped.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize_file(engine, artifact) };
        let component = component.map_err(|e| format!("rejected by wasmtime: {e:#}"))?;
        if FileStamp::of(artifact)? != before {
            return Err("it changed while it was loaded".into());
        }
        Ok(component)
    }

    fn store(
        &self,
        engine: &Engine,
        sha256: &str,
        component: &Component,
        artifact: &Path,
        mac: &Path,
    ) -> std::io::Result<()> {
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        write_atomically(artifact, &bytes)?;
        let written = FileStamp::of(artifact).map_err(std::io::Error::other)?;
        write_atomically(mac, &self.mac(engine, sha256, &written))
    }
}

/// What the cache knows of a plugin file ([`CompileCache::known_file`]).
#[derive(Debug)]
pub struct KnownFile {
    /// The file as stamped when it was remembered (it still is).
    pub stamp: FileStamp,
    /// The SHA-256 (hex) of its content.
    pub sha256: String,
    /// The provider (`family/name`) it holds; `None` when it did not load.
    pub provider: Option<String>,
}

/// What identifies a file as written: device, inode, size, and modification
/// and change times (to the nanosecond). Writing, truncating, replacing or
/// touching the file changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp([u8; 56]);

impl FileStamp {
    /// Whether the file changed less than a second ago: a write in the same
    /// clock tick as the stamp would not move its times (file times are
    /// as coarse as the kernel's clock tick), so a stamp this fresh does not
    /// vouch for the content yet (git's "racily clean" entries).
    fn is_recent(&self) -> bool {
        let ctime = u64::from_le_bytes(self.0[40..48].try_into().expect("8 bytes"));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        cfg!(unix) && now.saturating_sub(ctime) < 2
    }

    fn of(path: &Path) -> Result<Self, String> {
        let meta = std::fs::symlink_metadata(path).map_err(|e| format!("unreadable: {e}"))?;
        if !meta.file_type().is_file() {
            return Err("not a regular file".into());
        }
        let mut stamp = [0u8; 56];
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let fields = [
                meta.dev(),
                meta.ino(),
                meta.size(),
                meta.mtime() as u64,
                meta.mtime_nsec() as u64,
                meta.ctime() as u64,
                meta.ctime_nsec() as u64,
            ];
            for (slot, field) in stamp.chunks_exact_mut(8).zip(fields) {
                slot.copy_from_slice(&field.to_le_bytes());
            }
        }
        #[cfg(not(unix))]
        {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            stamp[..8].copy_from_slice(&meta.len().to_le_bytes());
            stamp[8..24].copy_from_slice(&modified.as_nanos().to_le_bytes());
        }
        Ok(Self(stamp))
    }
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    use super::*;

    const COMPONENT: &str = r#"(component (core module (func (export "f"))))"#;

    #[test]
    fn hits_after_a_miss_and_rebuilds_corrupt_entries() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CompileCache::open(dir.path()).unwrap();
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

    /// Security review F15: an artifact planted by someone without the
    /// cache's key (a consistent artifact and digest, as the old cache
    /// accepted) does not load.
    #[test]
    fn an_artifact_without_the_caches_mac_is_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let bytes = wat::parse_str(COMPONENT).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        let cache = CompileCache::open(dir.path()).unwrap();
        cache.load_or_compile(&engine, &bytes, &sha).unwrap();
        let other = CompileCache::open(tempfile::tempdir().unwrap().path()).unwrap();
        let (artifact, mac) = cache.paths(&engine, &sha);
        let planted = Component::from_binary(&engine, &bytes).unwrap().serialize().unwrap();
        std::fs::write(&artifact, &planted).unwrap();
        std::fs::write(&mac, other.mac(&engine, &sha, &FileStamp::of(&artifact).unwrap())).unwrap();
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Rebuilt,
            "a MAC under another key is refused"
        );
    }

    /// The MAC binds the file as the cache wrote it: the same bytes in
    /// another file (a copy renamed over it), or the file touched, no
    /// longer load.
    #[test]
    fn a_replaced_or_touched_artifact_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CompileCache::open(dir.path()).unwrap();
        let bytes = wat::parse_str(COMPONENT).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        cache.load_or_compile(&engine, &bytes, &sha).unwrap();
        let (artifact, _) = cache.paths(&engine, &sha);
        let copy = dir.path().join("copy");
        std::fs::copy(&artifact, &copy).unwrap();
        std::fs::rename(&copy, &artifact).unwrap();
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Rebuilt,
            "identical bytes in another file"
        );
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Hit
        );
        let file = std::fs::File::options().write(true).open(&artifact).unwrap();
        file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
            .unwrap();
        drop(file);
        assert_eq!(
            cache.load_or_compile(&engine, &bytes, &sha).unwrap().1,
            CacheOutcome::Rebuilt,
            "a touched file"
        );
    }

    /// Processes that open a new cache at once share one whole key.
    #[test]
    fn caches_opened_at_once_share_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        let keys: Vec<[u8; 32]> = std::thread::scope(|scope| {
            let openers: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| CompileCache::open(&path).unwrap().key))
                .collect();
            openers.into_iter().map(|o| o.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "every opener reads the same key");
    }

    /// Security review F15: a directory others may write, or another user's,
    /// is refused; a new one is created private.
    #[cfg(unix)]
    #[test]
    fn a_directory_others_may_write_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let created = dir.path().join("new/cache");
        CompileCache::open(&created).unwrap();
        let mode = std::fs::metadata(&created).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let key_mode = std::fs::metadata(created.join("cache.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(key_mode, 0o600);

        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = CompileCache::open(&shared).unwrap_err();
        assert!(refused.to_string().contains("writable by others"), "{refused}");

        // Another user's directory: root can make one; anyone else has "/".
        let foreign = if rustix::process::geteuid().as_raw() == 0 {
            let foreign = dir.path().join("foreign");
            std::fs::create_dir(&foreign).unwrap();
            std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
            foreign
        } else {
            PathBuf::from("/")
        };
        let refused = CompileCache::open(&foreign).unwrap_err();
        assert!(refused.to_string().contains("belongs to user"), "{refused}");
    }

    #[test]
    fn a_plugin_file_is_known_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::open(dir.path().join("cache")).unwrap();
        let plugin = dir.path().join("p.wasm");
        std::fs::write(&plugin, b"first").unwrap();
        assert!(cache.known_file(&plugin).is_none(), "never seen");
        let stamp = CompileCache::stamp_file(&plugin).unwrap();
        cache.remember_file(&plugin, &stamp, &"a".repeat(64), Some("shop/example"));
        assert!(
            cache.known_file(&plugin).is_none(),
            "a file changed this very second is not vouched for"
        );
        std::thread::sleep(std::time::Duration::from_millis(2100));
        cache.remember_file(&plugin, &stamp, &"a".repeat(64), Some("shop/example"));
        let known = cache.known_file(&plugin).unwrap();
        assert_eq!(
            (known.sha256.as_str(), known.provider.as_deref()),
            (&*"a".repeat(64), Some("shop/example"))
        );
        std::fs::write(&plugin, b"second").unwrap();
        assert!(cache.known_file(&plugin).is_none(), "rewritten");
        std::thread::sleep(std::time::Duration::from_millis(2100));
        // A stamp taken before a change is not remembered after it.
        let stale = stamp;
        cache.remember_file(&plugin, &stale, &"b".repeat(64), None);
        assert!(cache.known_file(&plugin).is_none());
        let stamp = CompileCache::stamp_file(&plugin).unwrap();
        cache.remember_file(&plugin, &stamp, &"b".repeat(64), None);
        assert_eq!(
            cache.known_file(&plugin).unwrap().provider,
            None,
            "a file that did not load"
        );
        // An entry written under another key is not believed.
        let other = CompileCache::open(dir.path().join("other")).unwrap();
        other.remember_file(&plugin, &stamp, &"c".repeat(64), Some("shop/forged"));
        std::fs::copy(other.file_entry(&plugin), cache.file_entry(&plugin)).unwrap();
        assert!(cache.known_file(&plugin).is_none());
    }

    #[test]
    fn another_engine_configuration_gets_its_own_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::open(dir.path()).unwrap();
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
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            5,
            "two artifacts, two MACs, the key"
        );
    }
}
