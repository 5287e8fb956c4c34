//! The suite of [`VaultStore`].

use super::record;
use crate::*;

/// [`VaultStore`]: metadata, and all-or-nothing re-sealing of every sealed
/// value (webhook ingress tokens and endpoint secrets included).
pub async fn vault<S: VaultStore + ConnectionStore + AuthorizationStore + WebhookStore>(store: &S) {
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
        .set_tokens("globex", "b", Some(b"tokens-b".to_vec()), true, None)
        .await
        .unwrap();
    store
        .insert_pending(
            "st",
            PendingAuthorization {
                tenant: "acme".into(),
                connection_id: "a".into(),
                secret: b"pending-st".to_vec(),
                expires_at: unix_now() + 600,
            },
        )
        .await
        .unwrap();

    store
        .set_ingress(webhooks::IngressRecord {
            token_hash: b"hash".to_vec(),
            sealed_token: b"token-a".to_vec(),
            tenant: "acme".into(),
            connection_id: "a".into(),
        })
        .await
        .unwrap();
    store
        .insert_endpoint(webhooks::Endpoint {
            id: "e1".into(),
            tenant: "globex".into(),
            url: "https://hooks.example.com".into(),
            event_types: vec![],
            sealed_secret: b"secret-e1".to_vec(),
            created_at_ms: 1,
        })
        .await
        .unwrap();

    let second = VaultMeta {
        fingerprint: "bbbb".into(),
        check: b"check-2".to_vec(),
    };
    let failing = store
        .reseal_all(
            Box::new(|slot, _| match slot {
                SealedSlot::EndpointSecret { .. } => Err("cannot open".into()),
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
                    SealedSlot::Credentials(row) => format!("c:{}:{}:{}", row.id, row.tenant, row.provider),
                    SealedSlot::Tokens(row) => format!("t:{}:{}", row.id, row.tenant),
                    SealedSlot::Pending { state, connection } => format!("p:{state}:{connection}"),
                    SealedSlot::IngressToken { tenant, connection } => format!("i:{tenant}:{connection}"),
                    SealedSlot::EndpointSecret { tenant, endpoint } => format!("e:{tenant}:{endpoint}"),
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
        b"c:a:acme:shop/test|sealed-credentials-a"
    );
    assert_eq!(
        store
            .connection("globex", "b")
            .await
            .unwrap()
            .unwrap()
            .tokens
            .as_deref(),
        Some(&b"t:b:globex|tokens-b"[..])
    );
    assert_eq!(
        store.take_pending("st").await.unwrap().unwrap().secret,
        b"p:st:a|pending-st"
    );
    assert_eq!(
        store.ingress(b"hash").await.unwrap().unwrap().sealed_token,
        b"i:acme:a|token-a"
    );
    assert_eq!(
        store.endpoint("globex", "e1").await.unwrap().unwrap().sealed_secret,
        b"e:globex:e1|secret-e1"
    );
}
