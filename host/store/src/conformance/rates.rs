//! The suite of [`RateStore`].

use std::time::Duration;

use crate::*;

/// [`RateStore`]: bursts, spacing, pauses, refusals that reserve nothing.
pub async fn rates(store: &dyn RateStore) {
    let quota = RateQuota {
        per_second: 10.0,
        burst: 2,
    };
    let second = Duration::from_secs(1);
    assert_eq!(
        store.reserve("k", quota, second).await.unwrap(),
        Reservation::Granted(Duration::ZERO)
    );
    assert_eq!(
        store.reserve("k", quota, second).await.unwrap(),
        Reservation::Granted(Duration::ZERO)
    );
    match store.reserve("k", quota, second).await.unwrap() {
        Reservation::Granted(wait) => assert!(
            wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
            "after the burst, one interval (100 ms): {wait:?}"
        ),
        other => panic!("the third request waits for its slot: {other:?}"),
    }
    assert!(
        matches!(store.reserve("k", quota, Duration::ZERO).await.unwrap(), Reservation::Refused(w) if w > Duration::ZERO),
        "no slot without waiting"
    );
    assert_eq!(
        store.reserve("other", quota, Duration::ZERO).await.unwrap(),
        Reservation::Granted(Duration::ZERO),
        "budgets are per key"
    );

    store.pause("p", Duration::from_secs(30)).await.unwrap();
    match store.reserve("p", quota, second).await.unwrap() {
        Reservation::Refused(wait) => assert!(wait > Duration::from_secs(29), "{wait:?}"),
        other => panic!("a pause refuses what cannot wait it out: {other:?}"),
    }
    store.pause("p", Duration::from_secs(1)).await.unwrap();
    assert!(
        matches!(store.reserve("p", quota, second).await.unwrap(), Reservation::Refused(w) if w > Duration::from_secs(29)),
        "a shorter pause does not shorten a longer one"
    );
    match store.reserve("p", quota, Duration::from_secs(31)).await.unwrap() {
        Reservation::Granted(wait) => assert!(wait > Duration::from_secs(29), "{wait:?}"),
        other => panic!("a caller that can wait gets the slot after the pause: {other:?}"),
    }

    let unlimited = RateQuota {
        per_second: f64::INFINITY,
        burst: 1,
    };
    for _ in 0..3 {
        assert_eq!(
            store.reserve("u", unlimited, Duration::ZERO).await.unwrap(),
            Reservation::Granted(Duration::ZERO)
        );
    }
    store
        .pause("huge", Duration::MAX)
        .await
        .expect("a huge pause is stored, not a panic");
    assert!(matches!(
        store.reserve("huge", quota, second).await.unwrap(),
        Reservation::Refused(_)
    ));
}
