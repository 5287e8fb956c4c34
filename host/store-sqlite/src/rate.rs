//! [`RateStore`] in the `rate_budgets` table, on the wall clock, so that
//! processes sharing the database file share budgets. Every reservation is
//! a write: the host keeps rate budgets in process unless told otherwise.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use patchbay_store::gcra::{self, Bucket};
use patchbay_store::{RateQuota, RateStore, Reservation, StoreError};
use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, backend};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// SQLite integers are signed: times are stored clamped to `i64::MAX`.
fn stored(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn bucket(tx: &rusqlite::Transaction<'_>, key: &str) -> Result<Bucket, StoreError> {
    let found: Option<(i64, i64)> = tx
        .query_row(
            "SELECT tat_ms, paused_until_ms FROM rate_budgets WHERE key = ?1",
            params![key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(backend)?;
    Ok(found
        .map(|(tat, paused)| Bucket {
            tat_ms: tat.max(0) as u64,
            paused_until_ms: paused.max(0) as u64,
        })
        .unwrap_or_default())
}

fn save(tx: &rusqlite::Transaction<'_>, key: &str, bucket: Bucket) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO rate_budgets (key, tat_ms, paused_until_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET tat_ms = excluded.tat_ms, paused_until_ms = excluded.paused_until_ms",
        params![key, stored(bucket.tat_ms), stored(bucket.paused_until_ms)],
    )
    .map(|_| ())
    .map_err(backend)
}

#[async_trait::async_trait]
impl RateStore for SqliteStore {
    async fn reserve(&self, key: &str, quota: RateQuota, max_wait: Duration) -> Result<Reservation, StoreError> {
        let key = key.to_string();
        self.with_db(move |db| {
            let tx = db
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let reservation = match gcra::reserve(bucket(&tx, &key)?, quota, now_ms(), max_wait) {
                Ok((next, wait)) => {
                    save(&tx, &key, next)?;
                    Reservation::Granted(wait)
                }
                Err(wait) => Reservation::Refused(wait),
            };
            tx.commit().map_err(backend)?;
            Ok(reservation)
        })
        .await
    }

    async fn pause(&self, key: &str, pause: Duration) -> Result<(), StoreError> {
        let key = key.to_string();
        self.with_db(move |db| {
            let tx = db
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let paused = gcra::pause(bucket(&tx, &key)?, now_ms(), pause);
            save(&tx, &key, paused)?;
            tx.commit().map_err(backend)
        })
        .await
    }
}
