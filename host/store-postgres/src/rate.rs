//! [`RateStore`] in the `rate_budgets` table, decided on the database's
//! clock with the budget's row locked, so that every replica spends one
//! budget. Every reservation is a write: Redis is the lighter shared
//! choice, and the default keeps budgets in process.

use std::time::Duration;

use patchbay_store::gcra::{self, Bucket};
use patchbay_store::{RateQuota, RateStore, Reservation, StoreError};

use crate::{PostgresStore, backend, get};

/// Postgres integers are signed: times are stored clamped to `i64::MAX`.
fn stored(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Runs `decide` on the budget `key` as it stands, with its row locked,
/// and stores what it returns.
async fn with_bucket<T>(
    store: &PostgresStore,
    key: &str,
    decide: impl FnOnce(Bucket, u64) -> (Option<Bucket>, T),
) -> Result<T, StoreError> {
    in_transaction!(store, |tx| async {
        tx.execute(
            "INSERT INTO rate_budgets (key, tat_ms, paused_until_ms) VALUES ($1, 0, 0) ON CONFLICT (key) DO NOTHING",
            &[&key],
        )
        .await
        .map_err(backend)?;
        let row = tx
            .query_one(
                "SELECT tat_ms, paused_until_ms, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
                 FROM rate_budgets WHERE key = $1 FOR UPDATE",
                &[&key],
            )
            .await
            .map_err(backend)?;
        let bucket = Bucket {
            tat_ms: get::<i64>(&row, 0)?.max(0) as u64,
            paused_until_ms: get::<i64>(&row, 1)?.max(0) as u64,
        };
        let now_ms = get::<i64>(&row, 2)?.max(0) as u64;
        let (next, answer) = decide(bucket, now_ms);
        if let Some(next) = next {
            tx.execute(
                "UPDATE rate_budgets SET tat_ms = $2, paused_until_ms = $3 WHERE key = $1",
                &[&key, &stored(next.tat_ms), &stored(next.paused_until_ms)],
            )
            .await
            .map_err(backend)?;
        }
        Ok(answer)
    }
    .await)
}

#[async_trait::async_trait]
impl RateStore for PostgresStore {
    async fn reserve(&self, key: &str, quota: RateQuota, max_wait: Duration) -> Result<Reservation, StoreError> {
        with_bucket(self, key, |bucket, now_ms| {
            match gcra::reserve(bucket, quota, now_ms, max_wait) {
                Ok((next, wait)) => (Some(next), Reservation::Granted(wait)),
                Err(wait) => (None, Reservation::Refused(wait)),
            }
        })
        .await
    }

    async fn pause(&self, key: &str, pause: Duration) -> Result<(), StoreError> {
        with_bucket(self, key, |bucket, now_ms| {
            (Some(gcra::pause(bucket, now_ms, pause)), ())
        })
        .await
    }
}
