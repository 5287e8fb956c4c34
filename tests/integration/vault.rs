//! Stored connections and the vault, through the library API: sealed at
//! rest, a wrong key refused, key rotation, tenants apart, the circuit
//! breaker's state on the connection row.

use std::path::{Path, PathBuf};

use patchbay::vault::{VaultError, VaultKey};
use patchbay::{ConnectionsError, Credentials, Host, HostError, NewConnection};
use patchbay_tests::woocommerce::{MockShop, ShopConfig};
use serde_json::json;

use crate::support::{builder, plugins_dir, shop_credentials, shop_settings};

async fn host_on(db: &Path, key: VaultKey) -> Result<Host, HostError> {
    builder()
        .plugins_dir(plugins_dir())
        .database(db)
        .vault_key(key)
        .build()
        .await
}

fn shop_connection(shop: &MockShop, credentials: Credentials) -> NewConnection {
    NewConnection {
        provider: "shop/woocommerce".into(),
        display_name: "Mock shop".into(),
        credentials,
        settings: shop_settings(shop),
        id: None,
        public_fields: vec![],
        signing_fields: vec![],
    }
}

/// Every file SQLite wrote for the database (the WAL too).
fn database_bytes(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("state.db"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn orders_count(host: &Host, tenant: &str, id: &str) -> usize {
    let connection = host.connections(tenant).open(id).await.unwrap();
    let page = connection
        .call_json("shop.get-orders", &json!({"query": {"limit": 5}}))
        .await
        .unwrap();
    page["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn stored_connections_work_and_the_database_holds_no_secret() {
    let shop = MockShop::start(
        ShopConfig {
            consumer_key: "ck_live_7f3a9c2e11d04b8a".into(),
            consumer_secret: "cs_live_e41b0d9a77c3f2aa".into(),
            ..ShopConfig::default()
        },
        0,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let host = host_on(&db, VaultKey::generate()).await.unwrap();
    let info = host
        .connections("acme")
        .add(shop_connection(&shop, shop_credentials(&shop)))
        .await
        .unwrap();
    assert_eq!(info.tenant, "acme");
    assert_eq!(info.credential_fields, ["consumer_key", "consumer_secret"]);
    assert!(info.enabled && info.connected && !info.circuit_disabled);
    assert_eq!(orders_count(&host, "acme", &info.id).await, 5);
    // The plugin's kv data (the store currency) is written too.
    drop(host);

    let files = database_bytes(&db);
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        for secret in ["ck_live_7f3a9c2e11d04b8a", "cs_live_e41b0d9a77c3f2aa"] {
            assert!(
                !contains(bytes, secret),
                "{} holds {secret} in plaintext",
                path.display()
            );
        }
    }
    assert!(
        files.iter().any(|(_, bytes)| contains(bytes, &shop.url())),
        "settings are not secret and stay readable"
    );
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_both_fingerprints() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let right = VaultKey::generate();
    let host = host_on(&db, right.clone()).await.unwrap();
    host.connections("t")
        .add(shop_connection(&shop, shop_credentials(&shop)))
        .await
        .unwrap();
    drop(host);

    let wrong = VaultKey::generate();
    let error = host_on(&db, wrong.clone()).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, HostError::Vault(VaultError::WrongKey { .. })),
        "{message}"
    );
    assert!(
        message.contains(&right.fingerprint()) && message.contains(&wrong.fingerprint()),
        "{message}"
    );
    // The right key still opens everything.
    let host = host_on(&db, right).await.unwrap();
    assert_eq!(host.connections("t").list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn rotating_the_key_reseals_every_connection() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let old = VaultKey::generate();
    let host = host_on(&db, old.clone()).await.unwrap();
    let mut ids = Vec::new();
    for tenant in ["a", "b"] {
        let info = host
            .connections(tenant)
            .add(shop_connection(&shop, shop_credentials(&shop)))
            .await
            .unwrap();
        ids.push((tenant, info.id));
    }
    let new = VaultKey::generate();
    assert_eq!(host.rotate_vault_key(new.clone()).await.unwrap(), 2);
    // The running host uses the new key at once.
    assert_eq!(orders_count(&host, ids[0].0, &ids[0].1).await, 5);
    drop(host);

    assert!(matches!(
        host_on(&db, old).await.unwrap_err(),
        HostError::Vault(VaultError::WrongKey { .. })
    ));
    let host = host_on(&db, new).await.unwrap();
    for (tenant, id) in &ids {
        assert_eq!(orders_count(&host, tenant, id).await, 5);
    }
}

#[tokio::test]
async fn tenants_see_only_their_own_connections() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = crate::support::host().await;
    let (acme, globex) = (host.connections("acme"), host.connections("globex"));
    let mut new = shop_connection(&shop, shop_credentials(&shop));
    new.id = Some("shop-1".into());
    acme.add(new.clone()).await.unwrap();

    assert!(globex.list().await.unwrap().is_empty());
    for outcome in [
        globex.get("shop-1").await.err(),
        globex.open("shop-1").await.err(),
        globex.disable("shop-1").await.err(),
        globex.remove("shop-1").await.err(),
    ] {
        assert!(
            matches!(outcome, Some(ConnectionsError::NotFound { ref tenant, .. }) if tenant == "globex"),
            "{outcome:?}"
        );
    }
    // Ids are global, so no tenant can shadow another's connection (and its kv namespace).
    let clash = globex.add(new).await.unwrap_err();
    assert!(clash.to_string().contains("exists"), "{clash}");
    assert!(acme.get("shop-1").await.unwrap().enabled);
    assert_eq!(orders_count(&host, "acme", "shop-1").await, 5);
}

#[tokio::test]
async fn disabled_connections_refuse_calls_until_enabled_and_removal_forgets_them() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = crate::support::host().await;
    let connections = host.connections("t");
    let id = connections
        .add(shop_connection(&shop, shop_credentials(&shop)))
        .await
        .unwrap()
        .id;
    assert!(!connections.disable(&id).await.unwrap().enabled);
    let refused = connections.open(&id).await.unwrap_err();
    assert!(matches!(refused, ConnectionsError::Disabled(_)), "{refused}");
    assert!(connections.enable(&id).await.unwrap().enabled);
    assert_eq!(orders_count(&host, "t", &id).await, 5);
    connections.remove(&id).await.unwrap();
    assert!(matches!(
        connections.get(&id).await,
        Err(ConnectionsError::NotFound { .. })
    ));
}

#[tokio::test]
async fn bad_credentials_or_settings_are_refused_before_anything_is_stored() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let host = crate::support::host().await;
    let connections = host.connections("t");
    let missing = connections
        .add(shop_connection(&shop, Credentials::from([("consumer_key", "ck")])))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("consumer_secret"), "{missing}");
    let mut typo = shop_connection(&shop, shop_credentials(&shop));
    typo.provider = "shop/woocommerc".into();
    let unknown = connections.add(typo).await.unwrap_err();
    assert!(unknown.to_string().contains("shop/woocommerce"), "{unknown}");
    let mut bad_id = shop_connection(&shop, shop_credentials(&shop));
    bad_id.id = Some("../etc".into());
    assert!(connections.add(bad_id).await.is_err());
    assert!(connections.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_circuit_breaker_verdict_is_kept_on_the_connection_row() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let key = VaultKey::generate();
    let host = host_on(&db, key.clone()).await.unwrap();
    let connections = host.connections("t");
    let wrong = Credentials::from([("consumer_key", "ck_revoked"), ("consumer_secret", "cs_revoked")]);
    let id = connections.add(shop_connection(&shop, wrong)).await.unwrap().id;
    let connection = connections.open(&id).await.unwrap();
    for _ in 0..3 {
        let refused = connection
            .call_json("shop.get-orders", &json!({"query": {}}))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("auth"), "{refused}");
    }
    drop((connection, connections, host));

    // A restart reads the verdict from the row.
    let host = host_on(&db, key).await.unwrap();
    let connections = host.connections("t");
    let info = connections.get(&id).await.unwrap();
    assert!(info.circuit_disabled, "{info:?}");
    assert_eq!(info.auth_failures, 3);
    assert!(
        info.last_failure.as_deref().unwrap_or_default().contains("401/403"),
        "{info:?}"
    );
    assert!(matches!(
        connections.open(&id).await,
        Err(ConnectionsError::CircuitDisabled(_))
    ));
    // New credentials start over.
    let info = connections
        .update_credentials(&id, shop_credentials(&shop))
        .await
        .unwrap();
    assert!(!info.circuit_disabled && info.auth_failures == 0, "{info:?}");
    assert_eq!(orders_count(&host, "t", &id).await, 5);
}

/// Security review F18: a sealed value is bound to its row's tenant,
/// provider and settings, so someone who can write the database but lacks
/// the key can neither move a connection to another tenant nor point its
/// settings (where its credentials go) elsewhere.
#[tokio::test]
async fn a_row_moved_to_another_tenant_or_pointed_elsewhere_does_not_open() {
    let shop = MockShop::start(ShopConfig::default(), 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let key = VaultKey::generate();
    let host = host_on(&db, key.clone()).await.unwrap();
    let id = host
        .connections("acme")
        .add(shop_connection(&shop, shop_credentials(&shop)))
        .await
        .unwrap()
        .id;
    assert_eq!(orders_count(&host, "acme", &id).await, 5);
    drop(host);

    let tamper = |sql: &str| {
        let db = rusqlite::Connection::open(&db).unwrap();
        db.execute(sql, rusqlite::params![id]).unwrap();
    };
    tamper("UPDATE connections SET tenant = 'mallory' WHERE id = ?1");
    let host = host_on(&db, key.clone()).await.unwrap();
    let moved = host.connections("mallory").open(&id).await.unwrap_err();
    assert!(
        matches!(moved, ConnectionsError::Vault(VaultError::Corrupt { .. })),
        "{moved}"
    );
    drop(host);

    tamper("UPDATE connections SET tenant = 'acme', settings = '{\"domain\":\"https://evil.example\"}' WHERE id = ?1");
    let host = host_on(&db, key).await.unwrap();
    let pointed = host.connections("acme").open(&id).await.unwrap_err();
    assert!(
        matches!(pointed, ConnectionsError::Vault(VaultError::Corrupt { .. })),
        "{pointed}"
    );
}
