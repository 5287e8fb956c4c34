//! The suite of [`CircuitStore`], alone and on stored connections' rows.

use super::record as connection;
use crate::*;

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

    store.insert_connection(connection("acme", "stored")).await.unwrap();
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
