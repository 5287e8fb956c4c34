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
}

/// Links `crypto` to a [`CryptoView`].
pub(crate) struct Crypto;

impl HasData for Crypto {
    type Data<'a> = CryptoView<'a>;
}

impl CryptoView<'_> {
    fn secret(&self, field: &str) -> Result<Vec<u8>, CryptoError> {
        self.grant
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
        Ok(self.secret(&secret_field).map(|key| hmac(algorithm, &key, &message)))
    }

    async fn verify_hmac(
        &mut self,
        algorithm: HashAlgorithm,
        secret_field: String,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, CryptoError>> {
        Ok(self
            .secret(&secret_field)
            .map(|key| bool::from(hmac(algorithm, &key, &message).as_slice().ct_eq(signature.as_slice()))))
    }

    async fn verify_secret(
        &mut self,
        secret_field: String,
        candidate: String,
    ) -> wasmtime::Result<Result<bool, CryptoError>> {
        Ok(self
            .secret(&secret_field)
            .map(|secret| bool::from(secret.as_slice().ct_eq(candidate.as_bytes()))))
    }

    async fn digest(&mut self, algorithm: HashAlgorithm, data: Vec<u8>) -> wasmtime::Result<Vec<u8>> {
        Ok(match algorithm {
            HashAlgorithm::Sha1 => Sha1::digest(&data).to_vec(),
            HashAlgorithm::Sha256 => Sha256::digest(&data).to_vec(),
            HashAlgorithm::Sha512 => Sha512::digest(&data).to_vec(),
        })
    }
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
}
