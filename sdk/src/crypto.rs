//! Signing and verification with secrets the plugin cannot read.

use crate::bindings::imports::patchbay::connector::crypto as wit;
use crate::{Error, Result};

pub use wit::HashAlgorithm;

fn from_crypto_error(error: wit::CryptoError) -> Error {
    match error {
        wit::CryptoError::UnknownSecret(field) => Error::Config(format!("the secret credential {field:?} is not set")),
    }
}

/// HMAC of `message` keyed by the credential `secret_field`.
pub fn hmac(algorithm: HashAlgorithm, secret_field: &str, message: &[u8]) -> Result<Vec<u8>> {
    wit::hmac(algorithm, secret_field, message).map_err(from_crypto_error)
}

/// Checks in constant time that `signature` is the HMAC of `message`
/// keyed by `secret_field`.
pub fn verify_hmac(algorithm: HashAlgorithm, secret_field: &str, message: &[u8], signature: &[u8]) -> Result<bool> {
    wit::verify_hmac(algorithm, secret_field, message, signature).map_err(from_crypto_error)
}

/// Checks a webhook delivery signed the WooCommerce and Shopify way: the
/// header `header` holds the base64 HMAC of the raw body keyed by the
/// credential `secret_field`. Each refusal is a `webhook-verification`
/// error naming the header: missing, not base64, or not matching.
pub fn verify_base64_hmac(
    headers: &[crate::types::Header],
    header: &str,
    algorithm: HashAlgorithm,
    secret_field: &str,
    body: &[u8],
) -> Result<()> {
    use base64::Engine as _;
    let signature = crate::http::header_value(headers, header)
        .ok_or_else(|| Error::WebhookVerification(format!("no {header} header")))?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| Error::WebhookVerification(format!("{header} is not base64")))?;
    if verify_hmac(algorithm, secret_field, body, &signature)? {
        Ok(())
    } else {
        Err(Error::WebhookVerification(format!("{header} does not match the body")))
    }
}

/// Checks in constant time that `candidate` equals the credential `secret_field`.
pub fn verify_secret(secret_field: &str, candidate: &str) -> Result<bool> {
    wit::verify_secret(secret_field, candidate).map_err(from_crypto_error)
}

/// Bytes of a hexadecimal text (either case), as providers write signatures;
/// `None` when it is not one.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Bytes of a standard base64 text (with or without padding), as providers
/// return generated files inline; `None` when it is not one.
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let text = text.trim();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .ok()
}

/// A digest of `data`.
pub fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    wit::digest(algorithm, data)
}

/// Checks an Ed25519 signature of `message` by a provider's published
/// `public_key` (32 bytes), as Discord signs its interactions. A key or a
/// signature of the wrong length is not valid.
pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    wit::verify_ed25519(public_key, message, signature)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_reads_both_cases_and_refuses_the_rest() {
        assert_eq!(super::from_hex("0aFF"), Some(vec![10, 255]));
        assert_eq!(super::from_hex(""), Some(vec![]));
        assert_eq!(super::from_hex("0"), None);
        assert_eq!(super::from_hex("0g"), None);
        assert_eq!(super::from_hex("é0"), None);
    }
}
