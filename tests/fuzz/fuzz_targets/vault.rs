//! The vault's sealed values and key text: arbitrary bytes never open
//! (nor panic), a sealed value opens only in its own context, and any
//! change to it is refused.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use patchbay_secrets::{SealContext, VaultKey};

static KEY: LazyLock<VaultKey> = LazyLock::new(VaultKey::generate);

fuzz_target!(|data: &[u8]| {
    let context = SealContext::Credentials {
        connection: "c-1".into(),
        binding: Some("acme|shop/woocommerce|{}".into()),
    };
    assert!(KEY.open(data, &context).is_err(), "arbitrary bytes do not open");
    assert!(!KEY.opens_key_check(data));
    let _ = VaultKey::from_base64(&String::from_utf8_lossy(data));
    let sealed = KEY.seal(data, &context);
    assert_eq!(KEY.open(&sealed, &context).unwrap(), data);
    let elsewhere = SealContext::Credentials {
        connection: "c-2".into(),
        binding: Some("acme|shop/woocommerce|{}".into()),
    };
    assert!(KEY.open(&sealed, &elsewhere).is_err(), "bound to its context");
    let mut tampered = sealed.clone();
    let at = data.first().map_or(0, |b| usize::from(*b)) % tampered.len();
    tampered[at] ^= 1;
    assert!(KEY.open(&tampered, &context).is_err(), "a changed byte is refused");
});
