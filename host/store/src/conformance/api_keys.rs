//! The suite of [`ApiKeyStore`].

use crate::*;

fn key(id: &str, tenant: &str, admin: bool, created_at: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        tenant: tenant.into(),
        admin,
        hash: format!("hash-of-{id}").into_bytes(),
        label: format!("{id} for {tenant}"),
        created_at,
    }
}

/// [`ApiKeyStore`]: found by id, unique ids, listed oldest first, revoked.
pub async fn api_keys<S: ApiKeyStore>(store: &S) {
    assert_eq!(store.api_key("k1").await.unwrap(), None);
    store.insert_api_key(key("k2", "acme", false, 20)).await.unwrap();
    store.insert_api_key(key("k1", "globex", true, 10)).await.unwrap();
    assert_eq!(store.api_key("k1").await.unwrap(), Some(key("k1", "globex", true, 10)));
    assert!(
        matches!(
            store.insert_api_key(key("k1", "acme", false, 30)).await,
            Err(StoreError::Conflict(_))
        ),
        "an id is unique"
    );
    assert_eq!(
        store.api_key("k1").await.unwrap().unwrap().tenant,
        "globex",
        "a conflict changes nothing"
    );
    let ids: Vec<String> = store.api_keys().await.unwrap().into_iter().map(|k| k.id).collect();
    assert_eq!(ids, ["k1", "k2"], "oldest first");
    assert!(store.delete_api_key("k1").await.unwrap());
    assert!(!store.delete_api_key("k1").await.unwrap(), "revoked once");
    assert_eq!(store.api_key("k1").await.unwrap(), None);
    assert_eq!(store.api_keys().await.unwrap().len(), 1);
}
