//! The suite of [`KvStore`].

use crate::*;

/// [`KvStore`]: namespaces, TTLs, quotas, prefixes.
pub async fn kv(store: &dyn KvStore) {
    let limits = KvLimits::default();
    store.set("conn-a", "token", b"one", None, &limits).await.unwrap();
    store.set("conn-b", "token", b"two", None, &limits).await.unwrap();
    assert_eq!(
        store.get("conn-a", "token").await.unwrap().as_deref(),
        Some(&b"one"[..]),
        "values round-trip"
    );
    assert_eq!(
        store.get("conn-b", "token").await.unwrap().as_deref(),
        Some(&b"two"[..]),
        "namespaces are isolated"
    );
    store.set("conn-a", "token", b"three", None, &limits).await.unwrap();
    assert_eq!(
        store.get("conn-a", "token").await.unwrap().as_deref(),
        Some(&b"three"[..]),
        "a set replaces"
    );
    assert!(
        store.delete("conn-a", "token").await.unwrap(),
        "deleting a live key says so"
    );
    assert!(
        !store.delete("conn-a", "token").await.unwrap(),
        "deleting twice says it was gone"
    );
    assert_eq!(store.get("conn-a", "token").await.unwrap(), None);
    assert_eq!(
        store.get("conn-b", "token").await.unwrap().as_deref(),
        Some(&b"two"[..])
    );

    store.set("ttl", "k", b"v", Some(0), &limits).await.unwrap();
    assert_eq!(store.get("ttl", "k").await.unwrap(), None, "an expired value is gone");
    assert!(
        store.list_keys("ttl", "").await.unwrap().is_empty(),
        "an expired key is not listed"
    );
    assert!(!store.delete("ttl", "k").await.unwrap(), "an expired key was not live");
    store.set("ttl", "later", b"v", Some(3600), &limits).await.unwrap();
    assert_eq!(store.get("ttl", "later").await.unwrap().as_deref(), Some(&b"v"[..]));

    for key in ["b/2", "a/1", "b/1", "c"] {
        store.set("list", key, b"x", None, &limits).await.unwrap();
    }
    store.set("list-other", "b/3", b"x", None, &limits).await.unwrap();
    assert_eq!(
        store.list_keys("list", "b/").await.unwrap(),
        ["b/1", "b/2"],
        "prefix listing, in order"
    );
    assert_eq!(store.list_keys("list", "").await.unwrap(), ["a/1", "b/1", "b/2", "c"]);
    assert_eq!(
        store.list_keys("list", "%").await.unwrap(),
        Vec::<String>::new(),
        "no pattern matching"
    );

    let small = KvLimits {
        max_key_bytes: 8,
        max_value_bytes: 4,
        max_keys: 2,
        ..KvLimits::default()
    };
    assert!(matches!(
        store.set("q", "", b"v", None, &small).await,
        Err(StoreError::InvalidKey(_))
    ));
    assert!(matches!(
        store.set("q", "123456789", b"v", None, &small).await,
        Err(StoreError::InvalidKey(_))
    ));
    assert!(matches!(
        store.set("q", "k", b"12345", None, &small).await,
        Err(StoreError::Quota(_))
    ));
    store.set("q", "one", b"1", None, &small).await.unwrap();
    store.set("q", "two", b"2", None, &small).await.unwrap();
    assert!(
        matches!(
            store.set("q", "three", b"3", None, &small).await,
            Err(StoreError::Quota(_))
        ),
        "key count quota"
    );
    store
        .set("q", "two", b"22", None, &small)
        .await
        .expect("replacing a key needs no new room");
    store
        .set("q2", "three", b"3", None, &small)
        .await
        .expect("quotas are per namespace");
    store
        .set("q", "gone", b"x", Some(0), &KvLimits::default())
        .await
        .unwrap();
    store.delete("q", "one").await.unwrap();
    store
        .set("q", "three", b"3", None, &small)
        .await
        .expect("deleted and expired keys free room");

    let bytes = KvLimits {
        max_bytes: 10,
        ..KvLimits::default()
    };
    store.set("b", "one", b"123456", None, &bytes).await.unwrap();
    assert!(
        matches!(
            store.set("b", "two", b"12345", None, &bytes).await,
            Err(StoreError::Quota(_))
        ),
        "the bytes of a namespace are bounded, not only its keys"
    );
    store
        .set("b", "one", b"1234567890", None, &bytes)
        .await
        .expect("a replaced value frees its bytes");
    store
        .set("b2", "two", b"12345", None, &bytes)
        .await
        .expect("bytes are per namespace");
}
