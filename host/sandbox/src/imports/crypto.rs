//! `crypto`: HMAC and comparisons keyed by secrets the guest cannot read.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use patchbay_contract::bindings::patchbay::connector::crypto::{self as wit, CryptoError, HashAlgorithm};
use wasmtime::component::HasData;

use crate::grant::CallGrant;

/// What `crypto` sees of a call: the connection's grant (none while a
/// manifest is read).
pub(crate) struct CryptoView<'a> {
    pub grant: Option<&'a CallGrant>,
    /// Largest input accepted, in bytes.
    pub max_input: usize,
    /// CPU the host spent on the guest's behalf (counted against its CPU time).
    pub host_cpu: &'a mut std::time::Duration,
}

/// Links `crypto` to a [`CryptoView`].
pub(crate) struct Crypto;

impl HasData for Crypto {
    type Data<'a> = CryptoView<'a>;
}

impl CryptoView<'_> {
    /// Refuses an input over the limit: a broken limit ends the call.
    fn bounded(&self, operation: &str, len: usize) -> wasmtime::Result<()> {
        if len > self.max_input {
            return Err(wasmtime::Error::msg(format!(
                "the plugin passed {len} bytes to crypto.{operation}, over the limit of {} bytes",
                self.max_input
            )));
        }
        Ok(())
    }

    /// Runs `work`, counting its CPU time against the call.
    fn timed<T>(&mut self, work: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = work();
        *self.host_cpu += started.elapsed();
        out
    }

    /// The value of a signing field. A field the operator did not designate
    /// for signing is as unknown to `crypto` as an unset one.
    fn secret(&self, field: &str) -> Result<Vec<u8>, CryptoError> {
        self.grant
            .filter(|c| c.signing_fields.contains(field))
            .and_then(|c| c.credentials.get(field))
            .filter(|v| !v.is_empty())
            .map(|v| v.as_bytes().to_vec())
            .ok_or_else(|| CryptoError::UnknownSecret(field.to_string()))
    }
}

fn hmac(algorithm: HashAlgorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    match algorithm {
        HashAlgorithm::Sha1 => {
            let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        HashAlgorithm::Sha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        HashAlgorithm::Sha512 => {
            let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
    }
}

impl wit::Host for CryptoView<'_> {
    async fn hmac(
        &mut self,
        algorithm: HashAlgorithm,
        secret_field: String,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, CryptoError>> {
        self.bounded("hmac", message.len())?;
        let key = match self.secret(&secret_field) {
            Ok(key) => key,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.timed(|| hmac(algorithm, &key, &message))))
    }

    async fn verify_hmac(
        &mut self,
        algorithm: HashAlgorithm,
        secret_field: String,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, CryptoError>> {
        self.bounded("verify-hmac", message.len())?;
        let key = match self.secret(&secret_field) {
            Ok(key) => key,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.timed(|| equal(&hmac(algorithm, &key, &message), &signature))))
    }

    async fn verify_secret(
        &mut self,
        secret_field: String,
        candidate: String,
    ) -> wasmtime::Result<Result<bool, CryptoError>> {
        self.bounded("verify-secret", candidate.len())?;
        let secret = match self.secret(&secret_field) {
            Ok(secret) => secret,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.timed(|| equal(&secret, candidate.as_bytes()))))
    }

    async fn digest(&mut self, algorithm: HashAlgorithm, data: Vec<u8>) -> wasmtime::Result<Vec<u8>> {
        self.bounded("digest", data.len())?;
        Ok(self.timed(|| match algorithm {
            HashAlgorithm::Sha1 => Sha1::digest(&data).to_vec(),
            HashAlgorithm::Sha256 => Sha256::digest(&data).to_vec(),
            HashAlgorithm::Sha512 => Sha512::digest(&data).to_vec(),
        }))
    }

    async fn verify_ed25519(
        &mut self,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<bool> {
        self.bounded("verify-ed25519", message.len())?;
        Ok(self.timed(|| verify_ed25519(&public_key, &message, &signature)))
    }
}

/// Checks an Ed25519 signature; a key or signature of the wrong length is
/// simply not valid.
fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use ring::signature::{ED25519, UnparsedPublicKey};
    public_key.len() == 32
        && signature.len() == 64
        && UnparsedPublicKey::new(&ED25519, public_key)
            .verify(message, signature)
            .is_ok()
}

/// Compares in constant time without revealing the lengths: both sides are
/// hashed first, so the comparison is always of 32 bytes.
fn equal(a: &[u8], b: &[u8]) -> bool {
    bool::from(Sha256::digest(a).ct_eq(&Sha256::digest(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac(HashAlgorithm::Sha256, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn ed25519_matches_rfc_8032_test_1_and_refuses_anything_else() {
        let key = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
        let signature = hex::decode(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        )
        .unwrap();
        assert!(verify_ed25519(&key, b"", &signature));
        assert!(!verify_ed25519(&key, b"x", &signature), "another message");
        let mut tampered = signature.clone();
        tampered[0] ^= 1;
        assert!(!verify_ed25519(&key, b"", &tampered), "a flipped bit");
        assert!(!verify_ed25519(&key[..31], b"", &signature), "a short key");
        assert!(!verify_ed25519(&key, b"", &signature[..63]), "a short signature");
        assert!(!verify_ed25519(&[], b"", &[]), "nothing at all");
    }
}
