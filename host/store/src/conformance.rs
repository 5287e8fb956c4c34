//! The conformance suites: what every backend of the store traits must do.
//! A backend crate runs each suite that fits it against a fresh store:
//!
//! ```ignore
//! #[tokio::test]
//! async fn kv() {
//!     patchbay_store::conformance::kv(&MyStore::new()).await;
//! }
//! ```
//!
//! Each suite panics, naming the broken promise, when the backend breaks it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{
    AUTH_FAILURE, AuthorizationStore, CircuitRecord, CircuitStore, ConnectionRecord, ConnectionStore, KvLimits,
    KvStore, PendingAuthorization, RateQuota, RateStore, Reservation, SealedSlot, StoreError, VaultMeta, VaultStore,
    unix_now,
};

/// A connection record to insert, with recognisable sealed bytes.
pub fn record(tenant: &str, id: &str) -> ConnectionRecord {
    ConnectionRecord {
        id: id.to_string(),
        tenant: tenant.to_string(),
        provider: "shop/test".to_string(),
        display_name: format!("{id} of {tenant}"),
        settings: BTreeMap::from([("domain".to_string(), "https://shop.example.com".to_string())]),
        credentials: format!("sealed-credentials-{id}").into_bytes(),
        tokens: None,
        enabled: true,
        connected: true,
        auth_failures: 0,
        circuit_disabled: false,
        last_failure: None,
        last_failure_at: None,
        created_at: 0,
        updated_at: 0,
    }
}

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
}

/// [`CircuitStore`], alone and on stored connections' rows.
pub async fn circuits<S: CircuitStore + ConnectionStore>(store: &S) {
    let record = CircuitRecord {
        fingerprint: "f1".into(),
        auth_failures: 2,
        disabled: false,
    };
    assert_eq!(store.load_circuit("adhoc").await.unwrap(), None);
    store.save_circuit("adhoc", &record).await.unwrap();
    assert_eq!(
        store.load_circuit("adhoc").await.unwrap(),
        Some(record.clone()),
        "records round-trip"
    );
    let disabled = CircuitRecord {
        disabled: true,
        auth_failures: 3,
        ..record.clone()
    };
    store.save_circuit("adhoc", &disabled).await.unwrap();
    assert_eq!(
        store.load_circuit("adhoc").await.unwrap(),
        Some(disabled.clone()),
        "a save replaces"
    );
    store.clear_circuit("adhoc").await.unwrap();
    assert_eq!(store.load_circuit("adhoc").await.unwrap(), None, "clearing forgets");

    store.insert_connection(record_of("acme", "stored")).await.unwrap();
    store.save_circuit("stored", &disabled).await.unwrap();
    assert_eq!(store.load_circuit("stored").await.unwrap(), Some(disabled.clone()));
    let row = store.connection("acme", "stored").await.unwrap().unwrap();
    assert_eq!(
        (row.auth_failures, row.circuit_disabled),
        (3, true),
        "a stored connection shows its breaker"
    );
    assert_eq!(row.last_failure.as_deref(), Some(AUTH_FAILURE));
    assert!(row.last_failure_at.is_some());
    store.set_enabled("acme", "stored", true).await.unwrap();
    let row = store.connection("acme", "stored").await.unwrap().unwrap();
    assert_eq!(
        (row.auth_failures, row.circuit_disabled),
        (0, false),
        "enabling clears the verdict"
    );
    store.save_circuit("stored", &disabled).await.unwrap();
    store.set_credentials("acme", "stored", b"new".to_vec()).await.unwrap();
    let row = store.connection("acme", "stored").await.unwrap().unwrap();
    assert_eq!(
        (row.auth_failures, row.circuit_disabled),
        (0, false),
        "new credentials start over"
    );
    store.save_circuit("stored", &disabled).await.unwrap();
    store.clear_circuit("stored").await.unwrap();
    let row = store.connection("acme", "stored").await.unwrap().unwrap();
    assert_eq!(
        (row.auth_failures, row.circuit_disabled),
        (0, false),
        "clearing a stored breaker"
    );
    assert_eq!(store.load_circuit("stored").await.unwrap(), None);
}

fn record_of(tenant: &str, id: &str) -> ConnectionRecord {
    record(tenant, id)
}

/// [`ConnectionStore`]: tenants, switches, credentials, tokens, removal.
pub async fn connections<S: ConnectionStore + KvStore + CircuitStore + AuthorizationStore>(store: &S) {
    store.insert_connection(record("acme", "shop-1")).await.unwrap();
    store.insert_connection(record("acme", "shop-2")).await.unwrap();
    store.insert_connection(record("globex", "crm")).await.unwrap();
    assert!(
        matches!(
            store.insert_connection(record("globex", "shop-1")).await,
            Err(StoreError::Conflict(_))
        ),
        "ids are unique across tenants"
    );

    let row = store.connection("acme", "shop-1").await.unwrap().expect("stored");
    let expected = record("acme", "shop-1");
    assert_eq!(
        (
            &row.provider,
            &row.display_name,
            &row.settings,
            &row.credentials,
            &row.tokens
        ),
        (
            &expected.provider,
            &expected.display_name,
            &expected.settings,
            &expected.credentials,
            &None
        ),
        "records round-trip"
    );
    assert!(row.enabled && row.connected);
    assert!(
        row.created_at > 0 && row.created_at <= unix_now() && row.updated_at >= row.created_at,
        "times are set"
    );
    assert_eq!(
        store.connection("globex", "shop-1").await.unwrap(),
        None,
        "another tenant's row is invisible"
    );
    let ids: Vec<String> = store
        .connections("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["shop-1", "shop-2"], "a tenant's rows, oldest first");
    assert_eq!(store.connections("nobody").await.unwrap(), Vec::new());

    assert!(store.set_enabled("acme", "shop-1", false).await.unwrap());
    assert!(!store.connection("acme", "shop-1").await.unwrap().unwrap().enabled);
    assert!(
        !store.set_enabled("globex", "shop-1", true).await.unwrap(),
        "switches are per tenant"
    );
    assert!(!store.connection("acme", "shop-1").await.unwrap().unwrap().enabled);
    assert!(store.set_enabled("acme", "shop-1", true).await.unwrap());
    assert!(!store.set_enabled("acme", "missing", true).await.unwrap());

    assert!(
        store
            .set_credentials("acme", "shop-2", b"resealed".to_vec())
            .await
            .unwrap()
    );
    assert_eq!(
        store.connection("acme", "shop-2").await.unwrap().unwrap().credentials,
        b"resealed"
    );
    assert!(
        !store.set_credentials("globex", "shop-2", b"x".to_vec()).await.unwrap(),
        "credentials are per tenant"
    );

    assert_eq!(store.tokens("shop-1").await.unwrap(), None);
    store
        .set_tokens("shop-1", Some(b"sealed-tokens".to_vec()), true, None)
        .await
        .unwrap();
    assert_eq!(
        store.tokens("shop-1").await.unwrap().as_deref(),
        Some(&b"sealed-tokens"[..])
    );
    store
        .set_tokens("shop-1", None, false, Some("the provider revoked it".into()))
        .await
        .unwrap();
    let row = store.connection("acme", "shop-1").await.unwrap().unwrap();
    assert_eq!(
        (row.tokens, row.connected),
        (None, false),
        "tokens cleared, disconnected"
    );
    assert_eq!(row.last_failure.as_deref(), Some("the provider revoked it"));
    store
        .set_tokens("shop-1", Some(b"again".to_vec()), true, None)
        .await
        .unwrap();
    let row = store.connection("acme", "shop-1").await.unwrap().unwrap();
    assert!(row.connected);
    assert_eq!(
        row.last_failure.as_deref(),
        Some("the provider revoked it"),
        "a success keeps the last failure"
    );

    let limits = KvLimits::default();
    store
        .set("tenant:acme:conn:shop-1", "cursor", b"42", None, &limits)
        .await
        .unwrap();
    store
        .set("tenant:acme:conn:shop-2", "cursor", b"7", None, &limits)
        .await
        .unwrap();
    store
        .save_circuit(
            "shop-1",
            &CircuitRecord {
                fingerprint: "f".into(),
                auth_failures: 1,
                disabled: false,
            },
        )
        .await
        .unwrap();
    store
        .insert_pending(
            "state-1",
            PendingAuthorization {
                connection_id: "shop-1".into(),
                secret: b"s".to_vec(),
                expires_at: unix_now() + 600,
            },
        )
        .await
        .unwrap();
    assert!(
        !store
            .delete_connection("globex", "shop-1", "tenant:globex:conn:shop-1")
            .await
            .unwrap()
    );
    assert!(
        store.connection("acme", "shop-1").await.unwrap().is_some(),
        "removal is per tenant"
    );
    assert!(
        store
            .delete_connection("acme", "shop-1", "tenant:acme:conn:shop-1")
            .await
            .unwrap()
    );
    assert_eq!(store.connection("acme", "shop-1").await.unwrap(), None);
    assert!(
        !store
            .delete_connection("acme", "shop-1", "tenant:acme:conn:shop-1")
            .await
            .unwrap()
    );
    assert_eq!(
        store.get("tenant:acme:conn:shop-1", "cursor").await.unwrap(),
        None,
        "its kv data goes with it"
    );
    assert_eq!(
        store.get("tenant:acme:conn:shop-2", "cursor").await.unwrap().as_deref(),
        Some(&b"7"[..])
    );
    assert_eq!(
        store.load_circuit("shop-1").await.unwrap(),
        None,
        "its breaker goes with it"
    );
    assert_eq!(
        store.take_pending("state-1").await.unwrap(),
        None,
        "its pending authorizations go with it"
    );
    store
        .insert_connection(record("globex", "shop-1"))
        .await
        .expect("a removed id can be used again");
}

/// [`AuthorizationStore`]: single use, expiry, tied to a connection.
pub async fn authorizations<S: AuthorizationStore + ConnectionStore>(store: &S) {
    store.insert_connection(record("acme", "crm")).await.unwrap();
    let pending = PendingAuthorization {
        connection_id: "crm".into(),
        secret: b"sealed-verifier".to_vec(),
        expires_at: unix_now() + 600,
    };
    store.insert_pending("s1", pending.clone()).await.unwrap();
    assert_eq!(
        store.take_pending("s1").await.unwrap(),
        Some(pending.clone()),
        "taken once"
    );
    assert_eq!(store.take_pending("s1").await.unwrap(), None, "and only once");
    assert_eq!(store.take_pending("never").await.unwrap(), None);
    assert!(
        store
            .insert_pending(
                "s2",
                PendingAuthorization {
                    connection_id: "missing".into(),
                    ..pending.clone()
                }
            )
            .await
            .is_err(),
        "a pending authorization needs its connection"
    );
    let expired = PendingAuthorization {
        expires_at: unix_now() - 1,
        ..pending.clone()
    };
    store.insert_pending("old", expired).await.unwrap();
    store.insert_pending("s3", pending.clone()).await.unwrap();
    assert_eq!(
        store.take_pending("old").await.unwrap(),
        None,
        "expired ones are forgotten on insert"
    );
    assert_eq!(store.take_pending("s3").await.unwrap(), Some(pending));
}

/// [`VaultStore`]: metadata, and all-or-nothing re-sealing.
pub async fn vault<S: VaultStore + ConnectionStore + AuthorizationStore>(store: &S) {
    assert_eq!(store.vault_meta().await.unwrap(), None);
    let first = VaultMeta {
        fingerprint: "aaaa".into(),
        check: b"check-1".to_vec(),
    };
    store.set_vault_meta(first.clone()).await.unwrap();
    assert_eq!(store.vault_meta().await.unwrap(), Some(first.clone()));

    store.insert_connection(record("acme", "a")).await.unwrap();
    store.insert_connection(record("globex", "b")).await.unwrap();
    store
        .set_tokens("b", Some(b"tokens-b".to_vec()), true, None)
        .await
        .unwrap();
    store
        .insert_pending(
            "st",
            PendingAuthorization {
                connection_id: "a".into(),
                secret: b"pending-st".to_vec(),
                expires_at: unix_now() + 600,
            },
        )
        .await
        .unwrap();

    let second = VaultMeta {
        fingerprint: "bbbb".into(),
        check: b"check-2".to_vec(),
    };
    let failing = store
        .reseal_all(
            Box::new(|slot, _| match slot {
                SealedSlot::Pending(_) => Err("cannot open".into()),
                _ => Ok(b"changed".to_vec()),
            }),
            second.clone(),
        )
        .await;
    assert!(failing.is_err(), "a value that cannot be re-sealed fails the rotation");
    assert_eq!(store.vault_meta().await.unwrap(), Some(first), "and changes nothing");
    assert_eq!(
        store.connection("acme", "a").await.unwrap().unwrap().credentials,
        b"sealed-credentials-a"
    );

    let count = store
        .reseal_all(
            Box::new(|slot, sealed| {
                let tag = match slot {
                    SealedSlot::Credentials(id) => format!("c:{id}"),
                    SealedSlot::Tokens(id) => format!("t:{id}"),
                    SealedSlot::Pending(state) => format!("p:{state}"),
                };
                Ok([tag.as_bytes(), b"|", sealed].concat())
            }),
            second.clone(),
        )
        .await
        .unwrap();
    assert_eq!(count, 2, "every connection of every tenant");
    assert_eq!(store.vault_meta().await.unwrap(), Some(second));
    assert_eq!(
        store.connection("acme", "a").await.unwrap().unwrap().credentials,
        b"c:a|sealed-credentials-a"
    );
    assert_eq!(
        store
            .connection("globex", "b")
            .await
            .unwrap()
            .unwrap()
            .tokens
            .as_deref(),
        Some(&b"t:b|tokens-b"[..])
    );
    assert_eq!(
        store.take_pending("st").await.unwrap().unwrap().secret,
        b"p:st|pending-st"
    );
}

/// [`RateStore`]: bursts, spacing, pauses, refusals that reserve nothing.
pub async fn rates(store: &dyn RateStore) {
    let quota = RateQuota {
        per_second: 10.0,
        burst: 2,
    };
    let second = Duration::from_secs(1);
    assert_eq!(
        store.reserve("k", quota, second).await.unwrap(),
        Reservation::Granted(Duration::ZERO)
    );
    assert_eq!(
        store.reserve("k", quota, second).await.unwrap(),
        Reservation::Granted(Duration::ZERO)
    );
    match store.reserve("k", quota, second).await.unwrap() {
        Reservation::Granted(wait) => assert!(
            wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
            "after the burst, one interval (100 ms): {wait:?}"
        ),
        other => panic!("the third request waits for its slot: {other:?}"),
    }
    assert!(
        matches!(store.reserve("k", quota, Duration::ZERO).await.unwrap(), Reservation::Refused(w) if w > Duration::ZERO),
        "no slot without waiting"
    );
    assert_eq!(
        store.reserve("other", quota, Duration::ZERO).await.unwrap(),
        Reservation::Granted(Duration::ZERO),
        "budgets are per key"
    );

    store.pause("p", Duration::from_secs(30)).await.unwrap();
    match store.reserve("p", quota, second).await.unwrap() {
        Reservation::Refused(wait) => assert!(wait > Duration::from_secs(29), "{wait:?}"),
        other => panic!("a pause refuses what cannot wait it out: {other:?}"),
    }
    store.pause("p", Duration::from_secs(1)).await.unwrap();
    assert!(
        matches!(store.reserve("p", quota, second).await.unwrap(), Reservation::Refused(w) if w > Duration::from_secs(29)),
        "a shorter pause does not shorten a longer one"
    );
    match store.reserve("p", quota, Duration::from_secs(31)).await.unwrap() {
        Reservation::Granted(wait) => assert!(wait > Duration::from_secs(29), "{wait:?}"),
        other => panic!("a caller that can wait gets the slot after the pause: {other:?}"),
    }

    let unlimited = RateQuota {
        per_second: f64::INFINITY,
        burst: 1,
    };
    for _ in 0..3 {
        assert_eq!(
            store.reserve("u", unlimited, Duration::ZERO).await.unwrap(),
            Reservation::Granted(Duration::ZERO)
        );
    }
    store
        .pause("huge", Duration::MAX)
        .await
        .expect("a huge pause is stored, not a panic");
    assert!(matches!(
        store.reserve("huge", quota, second).await.unwrap(),
        Reservation::Refused(_)
    ));
}
