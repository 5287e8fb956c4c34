//! The suite of [`ConnectionStore`].

use std::collections::BTreeMap;

use super::record;
use crate::*;

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

    assert_eq!(store.tokens("acme", "shop-1").await.unwrap(), None);
    store
        .set_tokens("acme", "shop-1", Some(b"sealed-tokens".to_vec()), true, None)
        .await
        .unwrap();
    assert_eq!(
        store.tokens("acme", "shop-1").await.unwrap().as_deref(),
        Some(&b"sealed-tokens"[..])
    );
    assert_eq!(
        store.tokens("globex", "shop-1").await.unwrap(),
        None,
        "tokens are per tenant"
    );
    store
        .set_tokens("globex", "shop-1", Some(b"theirs".to_vec()), true, None)
        .await
        .unwrap();
    assert_eq!(
        store.tokens("acme", "shop-1").await.unwrap().as_deref(),
        Some(&b"sealed-tokens"[..]),
        "another tenant cannot write them"
    );
    store
        .set_tokens("acme", "shop-1", None, false, Some("the provider revoked it".into()))
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
        .set_tokens("acme", "shop-1", Some(b"again".to_vec()), true, None)
        .await
        .unwrap();
    let row = store.connection("acme", "shop-1").await.unwrap().unwrap();
    assert!(row.connected);
    assert_eq!(
        row.last_failure.as_deref(),
        Some("the provider revoked it"),
        "a success keeps the last failure"
    );

    let moved = BTreeMap::from([("domain".to_string(), "https://other.example.com".to_string())]);
    assert!(
        !store
            .set_settings("globex", "shop-1", moved.clone(), b"x".to_vec(), true)
            .await
            .unwrap(),
        "settings are per tenant"
    );
    assert!(
        store
            .set_settings("acme", "shop-1", moved.clone(), b"sealed-for-other".to_vec(), false)
            .await
            .unwrap()
    );
    let row = store.connection("acme", "shop-1").await.unwrap().unwrap();
    assert_eq!(row.settings, moved);
    assert_eq!(row.credentials, b"sealed-for-other");
    assert_eq!(
        (row.tokens, row.connected),
        (None, false),
        "tokens of the old settings are dropped"
    );
    assert!(
        !store
            .set_settings("acme", "missing", moved, b"x".to_vec(), true)
            .await
            .unwrap()
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
                tenant: "acme".into(),
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

/// [`ConnectionStore::lease_tokens`]: one lease of a connection's tokens
/// at a time, the next one sees what the last stored; a dropped lease
/// changes nothing and frees the tokens; other connections do not wait.
pub async fn token_leases<S: ConnectionStore>(store: &S) {
    use std::time::Duration;
    store.insert_connection(record("acme", "leased")).await.unwrap();
    store.insert_connection(record("acme", "other")).await.unwrap();
    store
        .set_tokens("acme", "leased", Some(b"sealed-tokens-1".to_vec()), true, None)
        .await
        .unwrap();
    assert!(
        store.lease_tokens("globex", "leased").await.unwrap().is_none(),
        "another tenant's connection cannot be leased"
    );
    assert!(store.lease_tokens("acme", "missing").await.unwrap().is_none());

    let first = store.lease_tokens("acme", "leased").await.unwrap().expect("leased");
    assert_eq!(first.tokens(), Some(&b"sealed-tokens-1"[..]));
    let second = store.lease_tokens("acme", "leased");
    tokio::pin!(second);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut second)
            .await
            .is_err(),
        "a second lease waits while the first is held"
    );
    let other = tokio::time::timeout(Duration::from_secs(5), store.lease_tokens("acme", "other"))
        .await
        .expect("another connection's lease does not wait")
        .unwrap()
        .expect("leased");
    assert_eq!(other.tokens(), None);
    drop(other);
    first
        .store(Some(b"sealed-tokens-2".to_vec()), true, None)
        .await
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("storing ends the lease")
        .unwrap()
        .expect("leased");
    assert_eq!(
        second.tokens(),
        Some(&b"sealed-tokens-2"[..]),
        "the next lease sees the tokens the last one stored"
    );
    drop(second);
    let third = tokio::time::timeout(Duration::from_secs(5), store.lease_tokens("acme", "leased"))
        .await
        .expect("dropping a lease ends it")
        .unwrap()
        .expect("leased");
    assert_eq!(
        third.tokens(),
        Some(&b"sealed-tokens-2"[..]),
        "a dropped lease changes nothing"
    );
    third
        .store(None, false, Some("the provider revoked the grant".into()))
        .await
        .unwrap();
    let row = store.connection("acme", "leased").await.unwrap().expect("stored");
    assert_eq!((row.tokens, row.connected), (None, false));
    assert_eq!(row.last_failure.as_deref(), Some("the provider revoked the grant"));
}
