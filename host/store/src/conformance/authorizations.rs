//! The suite of [`AuthorizationStore`].

use super::record;
use crate::*;

/// [`AuthorizationStore`]: single use, expiry, tied to a connection.
pub async fn authorizations<S: AuthorizationStore + ConnectionStore>(store: &S) {
    store.insert_connection(record("acme", "crm")).await.unwrap();
    let pending = PendingAuthorization {
        tenant: "acme".into(),
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
