//! Retries: `Retry-After`, cost budgets read from the body, and the
//! limits a throttled request is repeated within.

use super::*;

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let (url, up) = start().await;
    let started = Instant::now();
    let response = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/429/1")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(up.hits.load(Ordering::SeqCst), 2, "one refusal, one retry");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited the second it was asked to"
    );
}

fn shopify_budget() -> CostBudget {
    CostBudget {
        available: "/extensions/cost/throttleStatus/currentlyAvailable".into(),
        restore_rate: "/extensions/cost/throttleStatus/restoreRate".into(),
        cost: "/extensions/cost/requestedQueryCost".into(),
        refusal: Some(BudgetRefusal {
            items: "/errors".into(),
            code: "/extensions/code".into(),
            value: "THROTTLED".into(),
        }),
    }
}

fn graphql_request(url: &str, query: &str) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::POST,
        body: Some(query.as_bytes().to_vec().into()),
        ..get_request(url)
    }
}

#[tokio::test]
async fn a_cost_budget_in_the_body_paces_the_connection_and_throttled_posts_are_repeated() {
    let (url, up) = start().await;
    let pipeline = pipeline(true);
    let mut ctx = context(&[&url]);
    ctx.cost_budget = Some(Arc::new(shopify_budget()));

    // Nothing in hand: the provider refuses with a 200 THROTTLED; the POST
    // (it did not run) is repeated once 50 units are restored, not before.
    let started = Instant::now();
    let response = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert!(body["data"].is_object(), "the repeated query's answer: {body}");
    assert_eq!(up.hits.load(Ordering::SeqCst), 2, "refused once, then run");
    assert_eq!(
        up.seen.lock().unwrap().as_slice(),
        ["{ orders }", "{ orders }"],
        "the same request again"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "waited for the budget to refill"
    );

    // Paced: ten queries in a row are never refused — each waits until the
    // budget holds its cost — and take the restore rate's time.
    let started = Instant::now();
    for _ in 0..10 {
        pipeline
            .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
            .await
            .unwrap();
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 12, "no refusal while paced");
    assert_eq!(up.ran.load(Ordering::SeqCst), 11);
    assert!(
        started.elapsed() >= Duration::from_millis(4000),
        "50 units at 100 per second each"
    );

    // Without the declaration the same refusal is just a 200.
    let (url, up) = start().await;
    let plain = context(&[&url]);
    let response = pipeline
        .send(&plain, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&response.body).contains("THROTTLED"));
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_throttled_request_is_not_repeated_past_its_retries_or_its_deadline() {
    let (url, up) = start().await;
    let pipeline = pipeline(true);
    let mut ctx = context(&[&url]);
    ctx.cost_budget = Some(Arc::new(shopify_budget()));
    ctx.retry = Arc::new(RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    });
    let response = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&response.body).contains("THROTTLED"),
        "no retries left: the refusal"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    // The refusal paused the connection's budget: a request that cannot
    // wait for the refill is refused by the host, not sent.
    ctx.deadline = Instant::now() + Duration::from_millis(100);
    let paused = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await;
    assert!(matches!(paused, Err(OutboundError::RateLimited(Some(1)))), "{paused:?}");
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);

    let pipeline = self::pipeline(true);
    let (url, up) = start().await;
    let mut ctx = context(&[&url]);
    ctx.cost_budget = Some(Arc::new(shopify_budget()));
    ctx.deadline = Instant::now() + Duration::from_millis(200);
    let response = pipeline
        .send(&ctx, graphql_request(&format!("{url}/graphql/0"), "{ orders }"))
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&response.body).contains("THROTTLED"),
        "the refill outlasts the call"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_absurd_retry_after_returns_the_429_at_once_without_a_panic() {
    let (url, up) = start().await;
    let mut ctx = context(&[&url]);
    ctx.rate_quota = Some(RateQuota {
        per_second: 10.0,
        burst: 1,
    });
    let pipeline = pipeline(true);
    let started = Instant::now();
    let response = pipeline
        .send(&ctx, get_request(&format!("{url}/429/18446744073709551615")))
        .await
        .unwrap();
    assert_eq!(
        response.status, 429,
        "longer than the host would wait: the provider's answer"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    let paused = pipeline.send(&ctx, get_request(&format!("{url}/echo"))).await;
    assert!(
        matches!(paused, Err(OutboundError::RateLimited(Some(_)))),
        "the budget stays paused for everyone: {paused:?}"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
}
