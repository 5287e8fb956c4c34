//! Against the Redis server `tests/with-redis.sh` starts; a proxy in
//! front of it plays a Redis that goes away and one that hangs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use patchbay_store::conformance;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};

use super::*;

fn url() -> String {
    std::env::var("PATCHBAY_REDIS_URL").unwrap_or_else(|_| {
        panic!("PATCHBAY_REDIS_URL is not set: run the tests through `just test` (tests/with-redis.sh starts Redis)")
    })
}

/// A configuration with keys of their own for one test.
fn config(test: &str, replicas: u32) -> RedisConfig {
    RedisConfig {
        replicas,
        timeout: Duration::from_millis(300),
        retry_after: Duration::from_millis(200),
        prefix: format!("test:{test}:{}:", std::process::id()),
    }
}

#[tokio::test]
async fn rates() {
    let rates = RedisRates::new(&url(), config("rates", 1)).unwrap();
    conformance::rates(&rates).await;
    assert!(!rates.is_away(), "every decision was Redis's");
}

#[tokio::test]
async fn replicas_spend_one_budget() {
    let one = RedisRates::new(&url(), config("shared", 3)).unwrap();
    let two = RedisRates::new(&url(), config("shared", 3)).unwrap();
    let quota = RateQuota {
        per_second: 1.0,
        burst: 2,
    };
    assert_eq!(
        one.reserve("shop", quota, Duration::ZERO).await.unwrap(),
        Reservation::Granted(Duration::ZERO)
    );
    assert_eq!(
        two.reserve("shop", quota, Duration::ZERO).await.unwrap(),
        Reservation::Granted(Duration::ZERO)
    );
    assert!(
        matches!(
            one.reserve("shop", quota, Duration::ZERO).await.unwrap(),
            Reservation::Refused(_)
        ),
        "the burst of 2 is spent by both replicas together"
    );
    two.pause("paused", Duration::from_secs(30)).await.unwrap();
    assert!(
        matches!(
            one.reserve("paused", quota, Duration::from_secs(1)).await.unwrap(),
            Reservation::Refused(wait) if wait > Duration::from_secs(29)
        ),
        "a provider's pause asked of one replica holds for the others"
    );
}

#[tokio::test]
async fn a_bad_url_is_refused_at_once() {
    let error = RedisRates::new("http://localhost:6379", RedisConfig::default()).expect_err("not a Redis URL");
    assert!(error.to_string().contains("Redis URL"), "{error}");
}

/// A proxy in front of Redis: forwarding, refusing (closing every
/// connection) or hanging (accepting, never answering).
struct Proxy {
    port: u16,
    mode: Arc<AtomicU8>,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
}

const FORWARD: u8 = 0;
const REFUSE: u8 = 1;
const HANG: u8 = 2;

impl Proxy {
    async fn start() -> Self {
        let upstream = url();
        let upstream = upstream
            .rsplit_once('@')
            .map(|(_, rest)| rest)
            .unwrap_or(&upstream)
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(FORWARD));
        let seen = Arc::clone(&mode);
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                let (mode, upstream) = (Arc::clone(&seen), upstream.clone());
                tokio::spawn(async move {
                    match mode.load(Ordering::SeqCst) {
                        REFUSE => {
                            let _ = client.shutdown().await;
                        }
                        HANG => tokio::time::sleep(Duration::from_secs(3600)).await,
                        _ => {
                            let mut server = TcpStream::connect(&upstream).await.unwrap();
                            // Forward until the mode changes, then cut.
                            let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                            let watch = async {
                                while mode.load(Ordering::SeqCst) == FORWARD {
                                    tokio::time::sleep(Duration::from_millis(20)).await;
                                }
                            };
                            tokio::select! { _ = copy => {}, _ = watch => {} }
                        }
                    }
                });
            }
        });
        Self { port, mode, accepted }
    }

    fn url(&self) -> String {
        let real = url();
        let (credentials, rest) = real.rsplit_once('@').unwrap_or(("redis://", &real));
        let database = rest.split_once('/').map(|(_, db)| db).unwrap_or("0");
        format!("{credentials}@127.0.0.1:{}/{database}", self.port)
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn without_redis_each_replica_keeps_its_share_and_recovers() {
    let proxy = Proxy::start().await;
    let rates = RedisRates::new(&proxy.url(), config("fallback", 2)).unwrap();
    let quota = RateQuota {
        per_second: 4.0,
        burst: 4,
    };
    assert!(rates.check().await, "Redis answers through the proxy");
    assert!(!rates.is_away());

    proxy.set(REFUSE);
    // The proxy cuts the open connection within 20 ms.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let mut granted = 0;
    for _ in 0..4 {
        if let Reservation::Granted(_) = rates.reserve("shop", quota, Duration::ZERO).await.unwrap() {
            granted += 1;
        }
    }
    assert!(rates.is_away(), "the limiter knows Redis is away");
    assert_eq!(granted, 2, "half of the burst of 4 for each of 2 replicas");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "calls do not wait on a dead Redis"
    );

    proxy.set(FORWARD);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let shared = rates.reserve("other", quota, Duration::ZERO).await.unwrap();
    assert_eq!(shared, Reservation::Granted(Duration::ZERO));
    assert!(!rates.is_away(), "Redis is used again once it answers");
}

#[tokio::test]
async fn a_redis_that_never_answers_costs_one_timeout() {
    let proxy = Proxy::start().await;
    proxy.set(HANG);
    let rates = RedisRates::new(&proxy.url(), config("hang", 1)).unwrap();
    let quota = RateQuota {
        per_second: 10.0,
        burst: 1,
    };
    let started = Instant::now();
    assert_eq!(
        rates.reserve("shop", quota, Duration::ZERO).await.unwrap(),
        Reservation::Granted(Duration::ZERO),
        "the local share decides"
    );
    let first = started.elapsed();
    assert!(
        first < Duration::from_secs(2),
        "one timeout (300 ms), not forever: {first:?}"
    );
    assert_eq!(proxy.accepted.load(Ordering::SeqCst), 1);
    let _ = rates.reserve("shop", quota, Duration::ZERO).await.unwrap();
    assert_eq!(
        proxy.accepted.load(Ordering::SeqCst),
        1,
        "while Redis is away, calls do not try it again"
    );
}
