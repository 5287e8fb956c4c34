//! Databases on the PostgreSQL server `tests/with-postgres.sh` starts.

/// A new, empty database called `name` (dropped first if it exists) on the
/// server at `PATCHBAY_POSTGRES_URL`; its URL.
pub async fn database(name: &str) -> String {
    let url = std::env::var("PATCHBAY_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("PATCHBAY_POSTGRES_URL is not set: run through `just test` or `just bench` (tests/with-postgres.sh)")
    });
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("the PostgreSQL test server answers");
    tokio::spawn(connection);
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        client.batch_execute(&sql).await.expect("a test database is made");
    }
    let (base, _) = url.rsplit_once('/').expect("the URL names a database");
    format!("{base}/{name}")
}
