//! [`CircuitStore`]: on a stored connection's row, else in `circuit`.

use patchbay_store::{AUTH_FAILURE, CircuitRecord, CircuitStore, StoreError};
use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, backend, now};

#[async_trait::async_trait]
impl CircuitStore for SqliteStore {
    async fn load_circuit(&self, connection: &str) -> Result<Option<CircuitRecord>, StoreError> {
        let connection = connection.to_string();
        let record = |row: &rusqlite::Row<'_>| {
            Ok(CircuitRecord {
                fingerprint: row.get(0)?,
                auth_failures: row.get(1)?,
                disabled: row.get(2)?,
            })
        };
        self.with_db(move |db| {
            // A stored connection keeps its breaker on its own row; others in `circuit`.
            for sql in [
                "SELECT circuit_fingerprint, auth_failures, circuit_disabled FROM connections
                 WHERE id = ?1 AND circuit_fingerprint IS NOT NULL",
                "SELECT fingerprint, auth_failures, disabled FROM circuit WHERE connection_id = ?1",
            ] {
                let found = db
                    .query_row(sql, params![connection], record)
                    .optional()
                    .map_err(backend)?;
                if found.is_some() {
                    return Ok(found);
                }
            }
            Ok(None)
        })
        .await
    }

    async fn save_circuit(&self, connection: &str, record: &CircuitRecord) -> Result<(), StoreError> {
        let (connection, record) = (connection.to_string(), record.clone());
        self.with_db(move |db| {
            // A stored connection keeps its breaker on its own row.
            let failure = (record.auth_failures > 0).then_some(AUTH_FAILURE);
            let updated = db
                .execute(
                    "UPDATE connections SET circuit_fingerprint = ?2, auth_failures = ?3, circuit_disabled = ?4,
                         last_failure = coalesce(?5, last_failure),
                         last_failure_at = CASE WHEN ?5 IS NULL THEN last_failure_at ELSE ?6 END,
                         updated_at = ?6
                     WHERE id = ?1",
                    params![
                        connection,
                        record.fingerprint,
                        record.auth_failures,
                        record.disabled,
                        failure,
                        now()
                    ],
                )
                .map_err(backend)?;
            if updated > 0 {
                return Ok(());
            }
            db.execute(
                "INSERT INTO circuit (connection_id, fingerprint, auth_failures, disabled, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (connection_id) DO UPDATE SET fingerprint = excluded.fingerprint,
                     auth_failures = excluded.auth_failures, disabled = excluded.disabled, updated_at = excluded.updated_at",
                params![connection, record.fingerprint, record.auth_failures, record.disabled, now()],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn clear_circuit(&self, connection: &str) -> Result<(), StoreError> {
        let connection = connection.to_string();
        self.with_db(move |db| {
            db.execute(
                "UPDATE connections SET circuit_fingerprint = NULL, auth_failures = 0, circuit_disabled = 0
                 WHERE id = ?1",
                params![connection],
            )
            .map_err(backend)?;
            db.execute("DELETE FROM circuit WHERE connection_id = ?1", params![connection])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }
}
