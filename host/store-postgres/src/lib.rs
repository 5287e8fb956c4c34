//! # patchbay-store-postgres
//!
//! Every store trait of `patchbay-store` on one PostgreSQL database, for
//! several `patchbay serve` replicas sharing their state:
//!
//! - **Migrations** ([`schema`]) run in one transaction under an advisory
//!   lock, so replicas starting together apply them once.
//! - **Jobs** are claimed with `FOR UPDATE SKIP LOCKED` and a lease: a
//!   replica that dies leaves leases that run out, and another replica
//!   claims the jobs again. Work queued and events stored are announced
//!   with `NOTIFY`; [`WebhookStore::changes`] hands them to every replica's
//!   workers, which wake at once instead of polling.
//! - **Events** are numbered in commit order (their inserts take a
//!   transaction lock), so a consumer's cursor never skips an event
//!   committed late.
//! - **OAuth refreshes** are serialized by a row lock
//!   ([`ConnectionStore::lease_tokens`]: `SELECT … FOR UPDATE`).
//! - **Rate budgets** use the database's clock, one row per budget locked
//!   for the decision (Redis is the faster shared choice).
//!
//! [`WebhookStore::changes`]: patchbay_store::WebhookStore::changes
//! [`ConnectionStore::lease_tokens`]: patchbay_store::ConnectionStore::lease_tokens
#![deny(missing_docs)]

/// Runs `op` in a transaction on a pooled connection, committing when it
/// succeeds (and rolling back, by dropping the transaction, when it fails).
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut client = $store.client().await?;
        let $tx = client.transaction().await.map_err(crate::backend)?;
        let result = $body;
        match result {
            Ok(value) => {
                $tx.commit().await.map_err(crate::backend)?;
                Ok(value)
            }
            Err(error) => Err(error),
        }
    }};
}

mod api_keys;
mod circuit;
mod connections;
mod kv;
mod listen;
mod rate;
pub mod schema;
mod vault;
mod webhooks;

use std::str::FromStr as _;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use patchbay_store::StoreError;
use patchbay_store::webhooks::Change;
use tokio::sync::broadcast;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

/// How the store connects.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// Most connections the pool opens (the listener has one more).
    pub max_connections: usize,
    /// How long a caller waits for a pooled connection, or for a new one.
    pub connect_timeout: Duration,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Host state in a PostgreSQL database. Cheap to clone (shared pool).
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    changes: broadcast::Sender<Change>,
    _listener: std::sync::Arc<listen::Listener>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

/// A backend failure, with the server's message when it sent one.
pub(crate) fn backend(error: impl Into<Failure>) -> StoreError {
    StoreError::Backend(error.into().0)
}

/// What went wrong, as text for [`StoreError::Backend`].
pub(crate) struct Failure(String);

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Self(match error.as_db_error() {
            Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
            None => match std::error::Error::source(&error) {
                Some(cause) => format!("PostgreSQL: {error}: {cause}"),
                None => format!("PostgreSQL: {error}"),
            },
        })
    }
}

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        match error {
            deadpool_postgres::PoolError::Backend(error) => error.into(),
            other => Self(format!("PostgreSQL pool: {other}")),
        }
    }
}

impl From<String> for Failure {
    fn from(error: String) -> Self {
        Self(error)
    }
}

/// Whether `error` is a unique (or foreign key) violation.
pub(crate) fn is_conflict(error: &tokio_postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(code) if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::FOREIGN_KEY_VIOLATION
    )
}

/// Unix seconds, the time of stored records.
pub(crate) fn now() -> i64 {
    patchbay_store::unix_now()
}

/// Reads column `index` of `row`, a type mismatch being a backend error.
pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    index: usize,
) -> Result<T, StoreError> {
    row.try_get(index).map_err(backend)
}

/// Where a configuration points, for messages: hosts, ports, database and
/// user (never the password).
fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
            tokio_postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    format!(
        "{}, database {:?} as {:?}",
        hosts.join(","),
        config.get_dbname().unwrap_or("(the user's)"),
        config.get_user().unwrap_or("(none)")
    )
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`),
    /// applies the schema's migrations and starts listening for other
    /// replicas' changes.
    pub async fn connect(url: &str, config: PostgresConfig) -> Result<Self, StoreError> {
        let pg_config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("the PostgreSQL URL is not valid: {e}")))?;
        let manager = Manager::from_config(
            pg_config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.max_connections.max(2))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the PostgreSQL pool: {e}")))?;
        let store_pool = pool.clone();
        let server = describe(&pg_config);
        let mut client = pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Timeout(_) => StoreError::Backend(format!(
                "cannot reach PostgreSQL at {server} within {:?}",
                config.connect_timeout
            )),
            other => StoreError::Backend(format!("{} (at {server})", Failure::from(other).0)),
        })?;
        schema::migrate(&mut client).await?;
        drop(client);
        let (changes, _) = broadcast::channel(1024);
        let (listening, listened) = tokio::sync::oneshot::channel();
        let listener = listen::Listener::start(pg_config, changes.clone(), listening);
        // Changes announced from now on reach this replica. Without a
        // listener the workers still poll: late, not lost.
        if tokio::time::timeout(config.connect_timeout, listened).await.is_err() {
            tracing::warn!("PostgreSQL LISTEN is not in place yet: this replica polls for work until it is");
        }
        Ok(Self {
            pool: store_pool,
            changes,
            _listener: std::sync::Arc::new(listener),
        })
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(backend)
    }

    /// Removes every table of the store (for tests that start afresh).
    pub async fn drop_everything(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.batch_execute(schema::DROP).await.map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use patchbay_store::{ApiKeyRecord, ApiKeyStore as _, ConnectionStore as _, conformance};

    use super::*;

    /// A store on a new database of its own, on the server
    /// `tests/with-postgres.sh` started.
    pub(crate) async fn fresh(name: &str) -> PostgresStore {
        let url = std::env::var("PATCHBAY_POSTGRES_URL").unwrap_or_else(|_| {
            panic!("PATCHBAY_POSTGRES_URL is not set: run the tests through `just test` (tests/with-postgres.sh starts PostgreSQL)")
        });
        let database = format!("patchbay_test_{name}");
        let (client, connection) = tokio_postgres::connect(&url, NoTls)
            .await
            .expect("the test server answers");
        tokio::spawn(connection);
        for sql in [
            format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            format!("CREATE DATABASE {database}"),
        ] {
            client.batch_execute(&sql).await.expect("a test database is created");
        }
        let (base, _) = url.rsplit_once('/').expect("the URL names a database");
        let url = format!("{base}/{database}");
        PostgresStore::connect(&url, PostgresConfig::default())
            .await
            .expect("the store connects")
    }

    /// Another replica's store on `store`'s database.
    async fn replica(name: &str) -> PostgresStore {
        let url = std::env::var("PATCHBAY_POSTGRES_URL").expect("set");
        let (base, _) = url.rsplit_once('/').expect("the URL names a database");
        PostgresStore::connect(&format!("{base}/patchbay_test_{name}"), PostgresConfig::default())
            .await
            .expect("the store connects")
    }

    #[tokio::test]
    async fn shared_webhooks() {
        let a = fresh("shared_webhooks").await;
        let b = replica("shared_webhooks").await;
        conformance::shared_webhooks(&a, &b).await;
    }

    #[tokio::test]
    async fn token_leases_across_replicas() {
        let a = fresh("leases_across").await;
        let b = replica("leases_across").await;
        a.insert_connection(conformance::record("acme", "shop")).await.unwrap();
        let held = a.lease_tokens("acme", "shop").await.unwrap().expect("leased");
        let waiting = b.lease_tokens("acme", "shop");
        tokio::pin!(waiting);
        assert!(
            tokio::time::timeout(Duration::from_millis(300), &mut waiting)
                .await
                .is_err(),
            "another replica waits for the row lock"
        );
        held.store(Some(b"rotated".to_vec()), true, None).await.unwrap();
        let next = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the lock is released on store")
            .unwrap()
            .expect("leased");
        assert_eq!(next.tokens(), Some(&b"rotated"[..]));
    }

    #[tokio::test]
    async fn replicas_starting_together_migrate_once() {
        let first = fresh("migrate_together").await;
        first.drop_everything().await.unwrap();
        let (x, y, z) = tokio::join!(
            replica("migrate_together"),
            replica("migrate_together"),
            replica("migrate_together")
        );
        x.insert_api_key(ApiKeyRecord {
            id: "k".into(),
            tenant: "acme".into(),
            admin: false,
            hash: vec![1],
            label: "l".into(),
            created_at: 1,
        })
        .await
        .unwrap();
        assert_eq!(z.api_keys().await.unwrap().len(), 1);
        drop(y);
        let client = first.client().await.unwrap();
        client
            .batch_execute("UPDATE patchbay_schema SET version = 999")
            .await
            .unwrap();
        let url = std::env::var("PATCHBAY_POSTGRES_URL").unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        let refused = PostgresStore::connect(
            &format!("{base}/patchbay_test_migrate_together"),
            PostgresConfig::default(),
        )
        .await
        .expect_err("a newer schema is refused");
        assert!(
            refused.to_string().contains("newer than this host understands"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_clear_error() {
        let config = PostgresConfig {
            connect_timeout: Duration::from_secs(2),
            ..Default::default()
        };
        let error = PostgresStore::connect("postgres://nobody:secret-password@127.0.0.1:1/none", config)
            .await
            .expect_err("nothing listens on port 1");
        let message = error.to_string();
        assert!(message.contains("PostgreSQL"), "{message}");
        assert!(
            !message.contains("secret-password"),
            "the password is not echoed: {message}"
        );
        let error = PostgresStore::connect("mysql://x", PostgresConfig::default())
            .await
            .expect_err("not a PostgreSQL URL");
        assert!(error.to_string().contains("URL"), "{error}");
    }

    macro_rules! suites {
        ($($suite:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $suite() {
                conformance::$suite(&fresh(stringify!($suite)).await).await;
            }
        )*};
    }

    suites!(
        kv,
        circuits,
        connections,
        token_leases,
        authorizations,
        vault,
        rates,
        api_keys,
        webhooks,
        webhook_retention
    );
}
