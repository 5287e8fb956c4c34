//! # patchbay-store-redis
//!
//! Rate budgets that every replica spends together: [`RedisRates`] keeps
//! one budget per key (provider and connection) in Redis and decides each
//! request with the same GCRA as every other backend
//! ([`patchbay_store::gcra`]), in a Lua script on Redis's own clock — one
//! round trip, atomic, no clock skew between replicas. A provider's
//! `Retry-After` pause is shared the same way.
//!
//! When Redis cannot be reached (or answers too slowly), the limiter falls
//! back to budgets in this process, each a share of the quota — the quota
//! divided by the replica count, so that the replicas together stay within
//! it — logs that once, tries Redis again after a pause, and logs when it
//! is back. A call never waits on Redis longer than the configured timeout.
#![deny(missing_docs)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use patchbay_store::{MemoryStore, QuotaShare, RateQuota, RateStore, Reservation, StoreError};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};

/// Decides a request (the GCRA of `patchbay_store::gcra`, on Redis's
/// clock). ARGV: emission interval in ms, burst, longest wait in ms.
/// Returns `{granted (0/1), wait in ms}`.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tat', 'paused')
local tat = tonumber(state[1]) or 0
local paused = tonumber(state[2]) or 0
local interval = tonumber(ARGV[1])
local burst = math.max(tonumber(ARGV[2]), 1)
local start = math.max(now, paused)
tat = math.max(tat, start)
local admitted = math.max(start, tat - interval * (burst - 1))
local wait = math.max(math.ceil(admitted) - now, 0)
if wait > tonumber(ARGV[3]) then
    return {0, wait}
end
tat = math.ceil(tat + interval)
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat), 'paused', string.format('%.0f', paused))
redis.call('PEXPIRE', KEYS[1], math.max(tat, paused) - now + 1000)
return {1, wait}
";

/// Pauses a budget (a later pause wins). ARGV: the pause in ms.
const PAUSE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tat', 'paused')
local tat = tonumber(state[1]) or 0
local paused = math.max(tonumber(state[2]) or 0, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat), 'paused', string.format('%.0f', paused))
redis.call('PEXPIRE', KEYS[1], math.max(tat, paused) - now + 1000)
return 1
";

/// The longest pause kept (a provider asking for more gets this): ten
/// years, well inside Redis's expiry range.
const LONGEST_PAUSE: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// How [`RedisRates`] reaches Redis and what it does without it.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// How many replicas share the quotas: without Redis, each keeps
    /// `1/replicas` of every quota.
    pub replicas: u32,
    /// The longest a call waits for Redis (connecting or answering) before
    /// this replica uses its own share instead.
    pub timeout: Duration,
    /// How long after a failure Redis is tried again.
    pub retry_after: Duration,
    /// What the budgets' Redis keys start with (deployments sharing one
    /// Redis keep apart by it).
    pub prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            replicas: 1,
            timeout: Duration::from_millis(500),
            retry_after: Duration::from_secs(2),
            prefix: "patchbay:rate:".into(),
        }
    }
}

/// Rate budgets in Redis, shared by every replica using it, with a
/// per-replica fallback when Redis is away.
pub struct RedisRates {
    client: Client,
    config: RedisConfig,
    reserve: Script,
    pause: Script,
    /// The connection, once made; dropped when it fails.
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// While Redis is away: until when not to try it again.
    away_until: Mutex<Option<Instant>>,
    /// This replica's shares, while Redis is away.
    local: QuotaShare<MemoryStore>,
}

impl std::fmt::Debug for RedisRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRates")
            .field("config", &self.config)
            .field("away", &self.is_away())
            .finish_non_exhaustive()
    }
}

/// The emission interval of a quota in ms, or `None` for a quota that
/// limits nothing (as in `gcra`).
fn interval_ms(quota: RateQuota) -> Option<f64> {
    (quota.per_second.is_finite() && quota.per_second > 0.0)
        .then(|| (1000.0 / quota.per_second).clamp(0.001, 86_400_000.0))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl RedisRates {
    /// A limiter on the Redis server at `url` (`redis://[user:password@]host:port[/db]`).
    /// It connects on first use: a Redis that is away at start is a
    /// fallback, not a failure; a URL that cannot be used is an error.
    pub fn new(url: &str, config: RedisConfig) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(|e| StoreError::Backend(format!("the Redis URL is not valid: {e}")))?;
        Ok(Self {
            client,
            reserve: Script::new(RESERVE),
            pause: Script::new(PAUSE),
            connection: tokio::sync::Mutex::new(None),
            away_until: Mutex::new(None),
            local: QuotaShare::new(MemoryStore::new(), config.replicas),
            config,
        })
    }

    /// Whether this replica is on its own share because Redis is away.
    pub fn is_away(&self) -> bool {
        self.away_until.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Tries Redis now, whatever the last failure said; whether it answers.
    pub async fn check(&self) -> bool {
        *self.away_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let result = self
            .shared(|mut connection| async move { redis::cmd("PING").query_async::<String>(&mut connection).await });
        self.settle(result.await).is_some()
    }

    /// Runs `op` on Redis within the timeout, unless Redis is away
    /// (`Err(None)`: not tried; `Err(Some(why))`: it failed).
    async fn shared<T, F, Fut>(&self, op: F) -> Result<T, Option<String>>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if let Some(until) = *self.away_until.lock().unwrap_or_else(|p| p.into_inner())
            && Instant::now() < until
        {
            return Err(None);
        }
        let attempt = async {
            let connection = {
                let mut held = self.connection.lock().await;
                match &*held {
                    Some(connection) => connection.clone(),
                    None => {
                        let config = AsyncConnectionConfig::new()
                            .set_connection_timeout(Some(self.config.timeout))
                            .set_response_timeout(Some(self.config.timeout));
                        let connection = self
                            .client
                            .get_multiplexed_async_connection_with_config(&config)
                            .await
                            .map_err(|e| e.to_string())?;
                        *held = Some(connection.clone());
                        connection
                    }
                }
            };
            op(connection).await.map_err(|e| e.to_string())
        };
        match tokio::time::timeout(self.config.timeout, attempt).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                *self.connection.lock().await = None;
                Err(Some(error))
            }
            Err(_) => {
                *self.connection.lock().await = None;
                Err(Some(format!("no answer within {:?}", self.config.timeout)))
            }
        }
    }

    /// Records how a Redis attempt went (logging when Redis goes away or
    /// comes back); the value when it succeeded.
    fn settle<T>(&self, result: Result<T, Option<String>>) -> Option<T> {
        let mut away = self.away_until.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(value) => {
                if away.take().is_some() {
                    tracing::info!("Redis answers again: rate budgets are shared by every replica again");
                }
                Some(value)
            }
            // Still inside the pause after a failure: nothing was tried.
            Err(None) => None,
            Err(Some(error)) => {
                if away.is_none() {
                    tracing::warn!(
                        %error,
                        replicas = self.config.replicas,
                        "Redis is unreachable: each replica keeps 1/{} of every rate budget until it answers",
                        self.config.replicas.max(1)
                    );
                }
                *away = Some(Instant::now() + self.config.retry_after);
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl RateStore for RedisRates {
    async fn reserve(&self, key: &str, quota: RateQuota, max_wait: Duration) -> Result<Reservation, StoreError> {
        let Some(interval) = interval_ms(quota) else {
            return Ok(Reservation::Granted(Duration::ZERO));
        };
        let script = &self.reserve;
        let redis_key = format!("{}{key}", self.config.prefix);
        let result = self.shared(|mut connection| async move {
            script
                .key(&redis_key)
                .arg(interval)
                .arg(quota.burst)
                .arg(millis(max_wait))
                .invoke_async::<(u8, u64)>(&mut connection)
                .await
        });
        match self.settle(result.await) {
            Some((granted, wait)) => {
                let wait = Duration::from_millis(wait);
                Ok(if granted == 1 {
                    Reservation::Granted(wait)
                } else {
                    Reservation::Refused(wait)
                })
            }
            None => self.local.reserve(key, quota, max_wait).await,
        }
    }

    async fn pause(&self, key: &str, pause: Duration) -> Result<(), StoreError> {
        // The pause holds here even if Redis never hears of it.
        self.local.pause(key, pause).await?;
        let script = &self.pause;
        let redis_key = format!("{}{key}", self.config.prefix);
        let pause = millis(pause.min(LONGEST_PAUSE));
        let result = self.shared(|mut connection| async move {
            script
                .key(&redis_key)
                .arg(pause)
                .invoke_async::<u8>(&mut connection)
                .await
        });
        self.settle(result.await);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
