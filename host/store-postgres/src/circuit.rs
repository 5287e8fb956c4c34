//! [`CircuitStore`]: on a stored connection's row, else in `circuit`.

use patchbay_store::{AUTH_FAILURE, CircuitRecord, CircuitStore, StoreError};

use crate::{PostgresStore, backend, get, now};

#[async_trait::async_trait]
impl CircuitStore for PostgresStore {
    async fn load_circuit(&self, connection: &str) -> Result<Option<CircuitRecord>, StoreError> {
        let client = self.client().await?;
        // A stored connection keeps its breaker on its own row; others in `circuit`.
        for sql in [
            "SELECT circuit_fingerprint, auth_failures, circuit_disabled FROM connections
             WHERE id = $1 AND circuit_fingerprint IS NOT NULL",
            "SELECT fingerprint, auth_failures, disabled FROM circuit WHERE connection_id = $1",
        ] {
            if let Some(row) = client.query_opt(sql, &[&connection]).await.map_err(backend)? {
                return Ok(Some(CircuitRecord {
                    fingerprint: get(&row, 0)?,
                    auth_failures: get::<i64>(&row, 1)?.clamp(0, i64::from(u32::MAX)) as u32,
                    disabled: get(&row, 2)?,
                }));
            }
        }
        Ok(None)
    }

    async fn save_circuit(&self, connection: &str, record: &CircuitRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        let failure = (record.auth_failures > 0).then_some(AUTH_FAILURE);
        let failures = i64::from(record.auth_failures);
        let now = now();
        // A stored connection keeps its breaker on its own row.
        let updated = client
            .execute(
                "UPDATE connections SET circuit_fingerprint = $2, auth_failures = $3, circuit_disabled = $4,
                     last_failure = coalesce($5, last_failure),
                     last_failure_at = CASE WHEN $5::TEXT IS NULL THEN last_failure_at ELSE $6 END,
                     updated_at = $6
                 WHERE id = $1",
                &[
                    &connection,
                    &record.fingerprint,
                    &failures,
                    &record.disabled,
                    &failure,
                    &now,
                ],
            )
            .await
            .map_err(backend)?;
        if updated > 0 {
            return Ok(());
        }
        client
            .execute(
                "INSERT INTO circuit (connection_id, fingerprint, auth_failures, disabled, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (connection_id) DO UPDATE SET fingerprint = excluded.fingerprint,
                     auth_failures = excluded.auth_failures, disabled = excluded.disabled,
                     updated_at = excluded.updated_at",
                &[&connection, &record.fingerprint, &failures, &record.disabled, &now],
            )
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn clear_circuit(&self, connection: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE connections SET circuit_fingerprint = NULL, auth_failures = 0, circuit_disabled = FALSE
                 WHERE id = $1",
                &[&connection],
            )
            .await
            .map_err(backend)?;
        client
            .execute("DELETE FROM circuit WHERE connection_id = $1", &[&connection])
            .await
            .map(|_| ())
            .map_err(backend)
    }
}
