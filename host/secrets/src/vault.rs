//! The vault key and the cipher that seals secrets at rest.
//!
//! Secrets (connection credentials, OAuth tokens, PKCE verifiers) are
//! sealed with XChaCha20-Poly1305 under a 256-bit key before they reach the
//! database. Every sealed value is bound to where it lives (the connection
//! id and the column, and the row's tenant, provider and settings; see
//! [`SealContext`]) through the associated data, so a value copied into
//! another row, or a row moved or pointed elsewhere, does not open. The key
//! comes from `PATCHBAY_VAULT_KEY` (base64) or a key file, generated on
//! first use with permissions 0600 (an existing one must be private).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// The environment variable that holds the vault key, base64-encoded.
pub const KEY_ENV: &str = "PATCHBAY_VAULT_KEY";

/// Format byte in front of every sealed value.
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// Why the vault cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No key is configured for a database that needs one.
    #[error(
        "no vault key is configured: set {KEY_ENV} or give the host a key file (HostBuilder::vault_key, `--vault-key-file`)"
    )]
    NoKey,
    /// The key text is not a key.
    #[error("invalid vault key {origin}: {reason}")]
    InvalidKey {
        /// Where the key came from.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file cannot be read or written.
    #[error("vault key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key is not the one the database was sealed with.
    #[error(
        "the vault key (fingerprint {given}) is not the key this database was encrypted with (fingerprint {expected}); \
         use the right key, or restore the key file"
    )]
    WrongKey {
        /// Fingerprint recorded in the database.
        expected: String,
        /// Fingerprint of the key given.
        given: String,
    },
    /// A sealed value does not open with the right key: it was altered.
    #[error("a sealed value ({what}) is corrupt or was moved from another row")]
    Corrupt {
        /// Which value.
        what: String,
    },
}

/// Where a key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The `PATCHBAY_VAULT_KEY` environment variable.
    Environment,
    /// An existing key file.
    File(PathBuf),
    /// A key file created now.
    Generated(PathBuf),
    /// Given by the embedding program, or generated for an in-memory database.
    Provided,
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment => write!(f, "from {KEY_ENV}"),
            Self::File(path) => write!(f, "from {}", path.display()),
            Self::Generated(path) => write!(f, "generated in {}", path.display()),
            Self::Provided => write!(f, "given by the program"),
        }
    }
}

/// A 256-bit vault key. `Debug` prints only its fingerprint.
#[derive(Clone, PartialEq, Eq)]
pub struct VaultKey {
    bytes: [u8; 32],
    origin: KeyOrigin,
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultKey")
            .field("fingerprint", &self.fingerprint())
            .field("origin", &self.origin)
            .finish()
    }
}

impl VaultKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            bytes,
            origin: KeyOrigin::Provided,
        }
    }

    /// A key from its base64 text (32 bytes once decoded).
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        Self::parse(text, KeyOrigin::Provided)
    }

    fn parse(text: &str, origin: KeyOrigin) -> Result<Self, VaultError> {
        let invalid = |reason: String| VaultError::InvalidKey {
            origin: origin.to_string(),
            reason,
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| invalid(format!("not base64 ({e})")))?;
        let bytes: [u8; 32] = decoded
            .try_into()
            .map_err(|d: Vec<u8>| invalid(format!("{} bytes once decoded, a key is 32", d.len())))?;
        Ok(Self { bytes, origin })
    }

    /// The key as base64 text.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.bytes)
    }

    /// Where the key came from.
    pub fn origin(&self) -> &KeyOrigin {
        &self.origin
    }

    /// A short public identifier of the key (not reversible).
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"patchbay vault key fingerprint\0");
        hash.update(self.bytes);
        hex::encode(&hash.finalize()[..6])
    }

    /// A key for `purpose` derived from this one (HMAC-SHA256), for keyed
    /// hashes the host keeps in clear, so that they cannot be recomputed
    /// from guessed secrets without the vault key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac as _;
        let mut mac =
            <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.bytes).expect("HMAC takes any key length");
        mac.update(b"patchbay derived key\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The key from `PATCHBAY_VAULT_KEY` when set, else from `file`, which
    /// is created with a new key (permissions 0600) when missing.
    pub fn load_or_create(file: &Path) -> Result<Self, VaultError> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Self::parse(&text, KeyOrigin::Environment);
        }
        match std::fs::metadata(file) {
            Ok(_) => Self::read_file(file),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut key = Self::generate();
                if !key.write_new_file(file)? {
                    // Another process created it first: use that one.
                    return Self::read_file(file);
                }
                key.origin = KeyOrigin::Generated(file.to_path_buf());
                Ok(key)
            }
            Err(error) => Err(VaultError::KeyFile {
                path: file.to_path_buf(),
                reason: error.to_string(),
            }),
        }
    }

    /// Reads a key file, which must be private: owned by the user running
    /// the host and readable by no one else.
    pub fn read_file(file: &Path) -> Result<Self, VaultError> {
        let failed = |reason: String| VaultError::KeyFile {
            path: file.to_path_buf(),
            reason,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let meta = std::fs::metadata(file).map_err(|e| failed(e.to_string()))?;
            let user = rustix::process::geteuid().as_raw();
            if meta.uid() != user {
                return Err(failed(format!(
                    "it belongs to user {}, not to the user running the host ({user})",
                    meta.uid()
                )));
            }
            if meta.mode() & 0o077 != 0 {
                return Err(failed(format!(
                    "others may read or write it (mode {:o}); make it private: chmod 600",
                    meta.mode() & 0o777
                )));
            }
        }
        let text = std::fs::read_to_string(file).map_err(|e| failed(e.to_string()))?;
        Self::parse(&text, KeyOrigin::File(file.to_path_buf()))
    }

    /// Writes the key to `file` atomically (a temporary file renamed into
    /// place), readable by its owner only.
    pub fn write_file(&self, file: &Path) -> Result<(), VaultError> {
        let temporary = self.write_temporary(file)?;
        std::fs::rename(&temporary, file).map_err(|e| VaultError::KeyFile {
            path: file.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Writes the key to `file` unless it exists; whether it was written.
    /// Two processes starting at once end up with the same key.
    fn write_new_file(&self, file: &Path) -> Result<bool, VaultError> {
        let temporary = self.write_temporary(file)?;
        let linked = std::fs::hard_link(&temporary, file);
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(VaultError::KeyFile {
                path: file.to_path_buf(),
                reason: error.to_string(),
            }),
        }
    }

    /// The key in a private temporary file beside `file`, synced.
    fn write_temporary(&self, file: &Path) -> Result<PathBuf, VaultError> {
        let failed = |reason: String| VaultError::KeyFile {
            path: file.to_path_buf(),
            reason,
        };
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(parent)
                .map_err(|e| failed(format!("cannot create its directory: {e}")))?;
        }
        // A fresh file of an unguessable name: never an existing one or a
        // link planted where the key is about to be written.
        let mut nonce = [0u8; 8];
        rand::rng().fill_bytes(&mut nonce);
        let temporary = file.with_extension(format!("key-tmp-{}-{}", std::process::id(), hex::encode(nonce)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&temporary).map_err(|e| failed(e.to_string()))?;
        writeln!(out, "{}", self.to_base64()).map_err(|e| failed(e.to_string()))?;
        out.sync_all().map_err(|e| failed(e.to_string()))?;
        Ok(temporary)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.bytes).into())
    }

    /// Seals `plaintext`, bound to `context` (where the value is stored).
    pub fn seal(&self, plaintext: &[u8], context: &SealContext) -> Vec<u8> {
        self.seal_aad(plaintext, &context.aad())
    }

    /// Opens a value sealed for `context`. A value sealed before contexts
    /// were bound to tenant, provider and settings opens under the unbound
    /// context (the next re-seal binds it).
    pub fn open(&self, sealed: &[u8], context: &SealContext) -> Result<Vec<u8>, VaultError> {
        match self.open_aad(sealed, &context.aad()) {
            Err(error) => match context.unbound() {
                Some(unbound) => self.open_aad(sealed, &unbound.aad()).map_err(|_| error),
                None => Err(error),
            },
            opened => opened,
        }
    }

    /// The known value this key seals into a database, so that the next
    /// start recognises the key (see [`VaultKey::opens_key_check`]).
    pub fn key_check(&self) -> Vec<u8> {
        self.seal(KEY_CHECK, &SealContext::KeyCheck)
    }

    /// Whether `sealed` is a key check sealed with this key.
    pub fn opens_key_check(&self, sealed: &[u8]) -> bool {
        self.open(sealed, &SealContext::KeyCheck)
            .is_ok_and(|plain| plain == KEY_CHECK)
    }

    fn seal_aad(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any length a database holds");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(SEALED_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    fn open_aad(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, VaultError> {
        let corrupt = || VaultError::Corrupt {
            what: context.to_string(),
        };
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != SEALED_V1 {
            return Err(corrupt());
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| corrupt())
    }
}

/// The known value sealed into the database to recognise its key.
const KEY_CHECK: &[u8] = b"patchbay vault key check";

/// Where a sealed value lives; bound to it through the cipher's associated
/// data, so a value copied into another row, or a row moved to another
/// tenant, provider or settings, does not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealContext {
    /// A connection's credential fields.
    Credentials {
        /// The connection's id.
        connection: String,
        /// Its tenant, provider and settings ([`SealContext::binding`]);
        /// `None` only for values sealed before bindings existed.
        binding: Option<String>,
    },
    /// A connection's OAuth tokens.
    Tokens {
        /// The connection's id.
        connection: String,
        /// As for credentials.
        binding: Option<String>,
    },
    /// A pending authorization's PKCE verifier and redirect URI.
    Pending {
        /// The authorization's state.
        state: String,
        /// The connection it authorizes (`None` for older values).
        connection: Option<String>,
    },
    /// A connection's webhook ingress token.
    IngressToken {
        /// The connection's tenant.
        tenant: String,
        /// The connection.
        connection: String,
    },
    /// The signing secret of a tenant's webhook endpoint.
    EndpointSecret {
        /// The tenant.
        tenant: String,
        /// The endpoint.
        endpoint: String,
    },
    /// The database's key check.
    KeyCheck,
}

impl SealContext {
    /// What a connection's sealed values are bound to besides their row:
    /// a digest of its tenant, provider and settings (kept in clear).
    pub fn binding(tenant: &str, provider: &str, settings: &std::collections::BTreeMap<String, String>) -> String {
        let mut hash = Sha256::new();
        for part in [tenant, provider]
            .into_iter()
            .chain(settings.iter().flat_map(|(n, v)| [n.as_str(), v.as_str()]))
        {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        hex::encode(&hash.finalize()[..16])
    }

    /// The associated data (stable: changing it makes stored values unreadable).
    fn aad(&self) -> String {
        match self {
            Self::Credentials { connection, binding } => match binding {
                Some(binding) => format!("connection:{connection}:credentials:{binding}"),
                None => format!("connection:{connection}:credentials"),
            },
            Self::Tokens { connection, binding } => match binding {
                Some(binding) => format!("connection:{connection}:tokens:{binding}"),
                None => format!("connection:{connection}:tokens"),
            },
            Self::Pending { state, connection } => match connection {
                Some(connection) => format!("oauth-pending:{state}:{connection}"),
                None => format!("oauth-pending:{state}"),
            },
            Self::IngressToken { tenant, connection } => format!("webhook-ingress:{tenant}:{connection}"),
            Self::EndpointSecret { tenant, endpoint } => format!("webhook-endpoint:{tenant}:{endpoint}"),
            Self::KeyCheck => "vault:key-check".to_string(),
        }
    }

    /// The context a value sealed before bindings existed was sealed for.
    fn unbound(&self) -> Option<Self> {
        match self {
            Self::Credentials {
                connection,
                binding: Some(_),
            } => Some(Self::Credentials {
                connection: connection.clone(),
                binding: None,
            }),
            Self::Tokens {
                connection,
                binding: Some(_),
            } => Some(Self::Tokens {
                connection: connection.clone(),
                binding: None,
            }),
            Self::Pending {
                state,
                connection: Some(_),
            } => Some(Self::Pending {
                state: state.clone(),
                connection: None,
            }),
            _ => None,
        }
    }
}

impl std::fmt::Display for SealContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.aad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_key_and_context() {
        let key = VaultKey::generate();
        let bound = |id: &str, tenant: &str| SealContext::Credentials {
            connection: id.into(),
            binding: Some(SealContext::binding(tenant, "shop/x", &Default::default())),
        };
        let c1 = bound("c1", "acme");
        let c2 = bound("c2", "acme");
        // Security review F18: a row moved to another tenant does not open,
        // and values sealed before bindings still do.
        assert!(key.open(&key.seal(b"v", &c1), &bound("c1", "globex")).is_err());
        let legacy = SealContext::Credentials {
            connection: "c1".into(),
            binding: None,
        };
        assert_eq!(key.open(&key.seal(b"old", &legacy), &c1).unwrap(), b"old");
        let sealed = key.seal(b"cs_secret", &c1);
        assert!(!sealed.windows(9).any(|w| w == b"cs_secret"));
        assert_eq!(key.open(&sealed, &c1).unwrap(), b"cs_secret");
        assert!(matches!(key.open(&sealed, &c2), Err(VaultError::Corrupt { .. })));
        assert!(VaultKey::generate().open(&sealed, &c1).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(key.open(&flipped, &c1).is_err());
        assert!(key.opens_key_check(&key.key_check()));
        assert!(!VaultKey::generate().opens_key_check(&key.key_check()));
    }

    #[test]
    fn keys_parse_from_base64_and_say_what_is_wrong() {
        let key = VaultKey::generate();
        assert_eq!(VaultKey::from_base64(&key.to_base64()).unwrap().bytes, key.bytes);
        let short = VaultKey::from_base64("c2hvcnQ=").unwrap_err().to_string();
        assert!(short.contains("5 bytes once decoded, a key is 32"), "{short}");
        let garbage = VaultKey::from_base64("not base64!").unwrap_err().to_string();
        assert!(garbage.contains("not base64"), "{garbage}");
        assert!(!format!("{key:?}").contains(&key.to_base64()));
    }

    #[test]
    fn key_files_are_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/vault.key");
        let created = VaultKey::load_or_create(&path);
        // The environment may hold a key in a developer's shell; the file
        // logic is what this test is about.
        if std::env::var(KEY_ENV).is_ok() {
            return;
        }
        let created = created.unwrap();
        assert_eq!(created.origin(), &KeyOrigin::Generated(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = VaultKey::load_or_create(&path).unwrap();
        assert_eq!(again.bytes, created.bytes);
        assert_eq!(again.origin(), &KeyOrigin::File(path.clone()));
        // Security review F20: a key file others may read is refused.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let refused = VaultKey::load_or_create(&path).unwrap_err().to_string();
            assert!(refused.contains("chmod 600"), "{refused}");
        }
    }
}
