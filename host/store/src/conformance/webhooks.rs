//! The suite of [`WebhookStore`].

use crate::webhooks::*;
use crate::*;

fn delivery(tenant: &str, connection: &str, body: &str) -> NewDelivery {
    NewDelivery {
        tenant: tenant.into(),
        connection_id: connection.into(),
        headers: vec![("x-wc-webhook-topic".into(), "order.created".into())],
        body: body.as_bytes().to_vec(),
        received_at_ms: 1_000,
    }
}

fn event(id: &str, event_type: &str, key: &str) -> NewEvent {
    NewEvent {
        id: id.into(),
        provider_event_id: format!("p-{id}"),
        event_type: event_type.into(),
        provider_event_type: event_type.replace('.', "_"),
        payload_json: format!(r#"{{"id":"{id}"}}"#),
        idempotency_key: key.into(),
        occurred_at: Some("2026-11-30T10:00:00Z".into()),
    }
}

fn endpoint(id: &str, tenant: &str, types: &[&str], created_at_ms: i64) -> Endpoint {
    Endpoint {
        id: id.into(),
        tenant: tenant.into(),
        url: format!("https://{id}.example.com/hooks"),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        sealed_secret: format!("sealed-{id}").into_bytes(),
        created_at_ms,
    }
}

/// [`WebhookStore`]: ingress by token hash; deliveries accepted with their
/// parse jobs; jobs claimed under leases and fenced by attempt; events
/// unique per (connection, idempotency key) with pushes queued for the
/// endpoints that take them; retries, dead letters, replay; per-tenant
/// event order; endpoints.
pub async fn webhooks<S: WebhookStore>(store: &S) {
    // Ingress.
    let ingress = |hash: &[u8], connection: &str| IngressRecord {
        token_hash: hash.to_vec(),
        sealed_token: b"sealed".to_vec(),
        tenant: "acme".into(),
        connection_id: connection.into(),
    };
    store.set_ingress(ingress(b"h1", "c1")).await.unwrap();
    assert_eq!(store.ingress(b"h1").await.unwrap(), Some(ingress(b"h1", "c1")));
    store.set_ingress(ingress(b"h2", "c1")).await.unwrap();
    assert_eq!(
        store.ingress(b"h1").await.unwrap(),
        None,
        "a new token replaces the old"
    );
    assert_eq!(
        store.ingress_of("acme", "c1").await.unwrap(),
        Some(ingress(b"h2", "c1"))
    );
    assert_eq!(store.ingress_of("globex", "c1").await.unwrap(), None, "per tenant");

    // Endpoints.
    store
        .insert_endpoint(endpoint("e-orders", "acme", &["order.*"], 2))
        .await
        .unwrap();
    store.insert_endpoint(endpoint("e-all", "acme", &[], 1)).await.unwrap();
    store
        .insert_endpoint(endpoint("e-other", "globex", &[], 3))
        .await
        .unwrap();
    assert!(matches!(
        store.insert_endpoint(endpoint("e-all", "globex", &[], 4)).await,
        Err(StoreError::Conflict(_))
    ));
    let ids: Vec<String> = store
        .endpoints("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["e-all", "e-orders"], "a tenant's, oldest first");
    assert_eq!(store.endpoint("globex", "e-all").await.unwrap(), None, "per tenant");

    // Deliveries and their parse jobs.
    let ids = store
        .accept_deliveries(
            vec![delivery("acme", "c1", "one"), delivery("acme", "c1", "two")],
            1_000,
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(store.delivery(ids[1]).await.unwrap().unwrap().delivery.body, b"two");
    assert_eq!(store.job_counts().await.unwrap().parse_ready, 2);
    let claimed = store.claim_jobs(JobKind::Parse, 1_000, 30_000, 1).await.unwrap();
    assert_eq!(claimed.len(), 1, "a limit");
    let first = &claimed[0];
    assert_eq!(
        (first.delivery_id, first.attempts),
        (Some(ids[0]), 1),
        "oldest first, one attempt"
    );
    assert_eq!(first.connection_id, "c1");
    let second = store.claim_jobs(JobKind::Parse, 1_000, 30_000, 10).await.unwrap();
    assert_eq!(second.len(), 1, "a leased job is not claimed twice");
    assert!(
        store
            .claim_jobs(JobKind::Parse, 2_000, 30_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_jobs(JobKind::Push, 2_000, 30_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "by kind"
    );
    // The first worker stalls; its lease runs out; another claims the job.
    let again = store.claim_jobs(JobKind::Parse, 31_001, 30_000, 10).await.unwrap();
    assert_eq!(again.len(), 2, "leases ran out: both claimable");
    let retaken = again.iter().find(|j| j.id == first.id).unwrap();
    assert_eq!(retaken.attempts, 2);
    assert_eq!(
        store
            .finish_parse(first.id, 1, vec![event("x", "order.created", "k0")], 31_002)
            .await
            .unwrap(),
        None,
        "the stalled attempt is fenced off"
    );
    let stored = store
        .finish_parse(
            first.id,
            2,
            vec![
                event("a", "order.created", "k1"),
                event("b", "product.updated", "k2"),
                event("a-again", "order.created", "k1"),
            ],
            40_000,
        )
        .await
        .unwrap()
        .expect("the current attempt finishes");
    let stored_ids: Vec<&str> = stored.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(stored_ids, ["a", "b"], "one event per idempotency key");
    assert!(stored[0].seq < stored[1].seq);
    assert_eq!(stored[0].delivery_id, ids[0]);
    let other = again.iter().find(|j| j.id != first.id).unwrap();
    let stored = store
        .finish_parse(
            other.id,
            other.attempts,
            vec![event("dup", "order.created", "k1"), event("c", "order.updated", "k3")],
            41_000,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.len(), 1, "duplicates across deliveries too");
    assert_eq!(stored[0].event.id, "c");
    assert_eq!(
        store
            .finish_parse(other.id, other.attempts, vec![], 41_001)
            .await
            .unwrap(),
        None,
        "a done job stays done"
    );
    assert_eq!(store.job_counts().await.unwrap().parse_ready, 0);

    // Pushes: a (order.created) to both endpoints, b (product.updated) to
    // e-all, c (order.updated) to both: five.
    let counts = store.job_counts().await.unwrap();
    assert_eq!(counts.push_ready, 5, "{counts:?}");
    let pushes = store.claim_jobs(JobKind::Push, 50_000, 30_000, 10).await.unwrap();
    assert_eq!(pushes.len(), 5);
    let mut targets: Vec<(i64, String)> = pushes
        .iter()
        .map(|j| (j.event_seq.unwrap(), j.endpoint_id.clone().unwrap()))
        .collect();
    targets.sort();
    let (a, b) = (targets[0].0, targets[2].0);
    assert_eq!(
        targets[..3],
        [(a, "e-all".into()), (a, "e-orders".into()), (b, "e-all".into())]
    );
    assert!(pushes.iter().all(|j| j.tenant == "acme" && j.connection_id == "c1"));
    // One is delivered, one retried later, one dies: one batch, one
    // commit; a stale attempt in the batch changes nothing.
    let (done, retry, dead) = (&pushes[0], &pushes[1], &pushes[2]);
    let held = store
        .finish_jobs(
            vec![
                (done.id, 1, Outcome::Done { status: Some(204) }),
                (
                    retry.id,
                    1,
                    Outcome::Retry {
                        run_at_ms: 55_000,
                        error: "503 Service Unavailable".into(),
                        status: Some(503),
                    },
                ),
                (
                    dead.id,
                    1,
                    Outcome::Dead {
                        error: "connection refused".into(),
                        status: None,
                    },
                ),
                (pushes[3].id, 7, Outcome::Done { status: None }),
            ],
            50_002,
        )
        .await
        .unwrap();
    assert_eq!(held, [true, true, true, false], "the stale attempt is fenced off");
    assert!(
        !store
            .finish_job(done.id, 1, Outcome::Done { status: None }, 50_004)
            .await
            .unwrap(),
        "finished once"
    );
    let counts = store.job_counts().await.unwrap();
    assert_eq!((counts.push_retrying, counts.dead), (1, 1), "{counts:?}");
    assert!(
        store
            .claim_jobs(JobKind::Push, 54_999, 30_000, 10)
            .await
            .unwrap()
            .iter()
            .all(|j| j.id != retry.id),
        "not before its run time"
    );
    let retried = store.claim_jobs(JobKind::Push, 55_000, 30_000, 10).await.unwrap();
    let retried = retried.iter().find(|j| j.id == retry.id).expect("at its run time");
    assert_eq!(retried.attempts, 2);
    assert_eq!(retried.last_error.as_deref(), Some("503 Service Unavailable"));
    assert_eq!(retried.last_status, Some(503));

    // Dead letters and replay.
    let letters = store.jobs("acme", JobState::Dead, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].last_error.as_deref(), Some("connection refused"));
    assert!(
        store.jobs("globex", JobState::Dead, 10).await.unwrap().is_empty(),
        "per tenant"
    );
    assert_eq!(store.job("globex", dead.id).await.unwrap(), None);
    assert!(
        !store.replay_job("globex", dead.id, 60_000).await.unwrap(),
        "per tenant"
    );
    assert!(store.replay_job("acme", dead.id, 60_000).await.unwrap());
    let replayed = store.job("acme", dead.id).await.unwrap().unwrap();
    assert_eq!((replayed.state, replayed.attempts), (JobState::Ready, 0));
    assert!(
        !store.replay_job("acme", dead.id, 60_001).await.unwrap(),
        "a ready job is not replayed"
    );

    // Events in order, per tenant.
    let events = store.events_after("acme", 0, 10).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let after_a = store.events_after("acme", events[0].seq, 10).await.unwrap();
    assert_eq!(after_a.len(), 2, "after a cursor");
    assert_eq!(
        store.events_after("acme", events[0].seq, 1).await.unwrap().len(),
        1,
        "a limit"
    );
    assert!(
        store.events_after("globex", 0, 10).await.unwrap().is_empty(),
        "per tenant"
    );
    assert_eq!(
        store.event(events[1].seq).await.unwrap().unwrap().event.payload_json,
        r#"{"id":"b"}"#
    );

    // Replay a time range: every push of events stored in [40000, 41000),
    // i.e. a and b: three pushes, whatever became of them.
    let queued = store.replay_events("acme", "c1", 40_000, 41_000, 70_000).await.unwrap();
    assert_eq!(queued, 3);
    assert_eq!(store.replay_events("acme", "c2", 0, i64::MAX, 70_000).await.unwrap(), 0);
    let delivered_again = store.job("acme", done.id).await.unwrap().unwrap();
    assert_eq!(
        delivered_again.state,
        JobState::Ready,
        "a delivered push is queued again"
    );

    // Removing an endpoint drops its queued pushes.
    assert!(store.delete_endpoint("acme", "e-orders").await.unwrap());
    assert!(!store.delete_endpoint("acme", "e-orders").await.unwrap());
    assert!(!store.delete_endpoint("acme", "e-other").await.unwrap(), "per tenant");
    let left = store.claim_jobs(JobKind::Push, 80_000, 30_000, 100).await.unwrap();
    assert!(
        left.iter().all(|j| j.endpoint_id.as_deref() != Some("e-orders")),
        "{left:?}"
    );
}

/// [`WebhookStore::prune`]: finished jobs older than the cut go, then the
/// events and deliveries nothing refers to any more; pending work, and
/// what it refers to, stays whatever its age; a pruned event's
/// idempotency key may be stored again.
pub async fn webhook_retention<S: WebhookStore>(store: &S) {
    store.insert_endpoint(endpoint("e-all", "acme", &[], 1)).await.unwrap();
    // Two old deliveries, parsed: each an event pushed to e-all.
    let old = store
        .accept_deliveries(
            vec![delivery("acme", "c1", "one"), delivery("acme", "c1", "two")],
            1_000,
        )
        .await
        .unwrap();
    for (job, key) in store
        .claim_jobs(JobKind::Parse, 1_000, 30_000, 10)
        .await
        .unwrap()
        .into_iter()
        .zip(["k1", "k2"])
    {
        store
            .finish_parse(job.id, job.attempts, vec![event(key, "order.created", key)], 2_000)
            .await
            .unwrap()
            .unwrap();
    }
    let pushes = store.claim_jobs(JobKind::Push, 3_000, 30_000, 10).await.unwrap();
    assert_eq!(pushes.len(), 2);
    // The first push is delivered; the second keeps failing (still pending).
    store
        .finish_jobs(
            vec![
                (pushes[0].id, 1, Outcome::Done { status: Some(204) }),
                (
                    pushes[1].id,
                    1,
                    Outcome::Retry {
                        run_at_ms: 90_000,
                        error: "503".into(),
                        status: Some(503),
                    },
                ),
            ],
            4_000,
        )
        .await
        .unwrap();
    // A recent delivery, not parsed yet.
    let recent = store
        .accept_deliveries(
            vec![NewDelivery {
                received_at_ms: 100_000,
                ..delivery("acme", "c1", "three")
            }],
            100_000,
        )
        .await
        .unwrap();

    assert_eq!(
        store.prune(2_000, 100).await.unwrap(),
        Pruned::default(),
        "nothing finished before the cut"
    );
    let first = store.prune(50_000, 1).await.unwrap();
    assert_eq!(first.jobs, 1, "a limit: {first:?}");
    let mut pruned = first;
    loop {
        let batch = store.prune(50_000, 1).await.unwrap();
        if batch.total() == 0 {
            break;
        }
        pruned.jobs += batch.jobs;
        pruned.events += batch.events;
        pruned.deliveries += batch.deliveries;
    }
    assert_eq!(
        pruned,
        Pruned {
            jobs: 3,
            events: 1,
            deliveries: 2
        },
        "two parse jobs and the delivered push; its event; both deliveries (their parse jobs are gone)"
    );
    let events = store.events_after("acme", 0, 10).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        [pushes[1].event_seq.unwrap()],
        "the event with a pending push stays"
    );
    let gone = if events[0].event.idempotency_key == "k1" {
        "k2"
    } else {
        "k1"
    };
    assert!(store.delivery(old[0]).await.unwrap().is_none());
    assert!(store.delivery(recent[0]).await.unwrap().is_some(), "pending work stays");
    let counts = store.job_counts().await.unwrap();
    assert_eq!((counts.parse_ready, counts.push_retrying), (1, 1), "{counts:?}");
    // The delivered event is gone: a delivery of it now is a new event.
    let job = store.claim_jobs(JobKind::Parse, 100_000, 30_000, 10).await.unwrap();
    let stored = store
        .finish_parse(
            job[0].id,
            job[0].attempts,
            vec![event("again", "order.created", gone)],
            100_001,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.len(), 1);
}

/// Waits up to five seconds for `wanted` among `changes`.
async fn announced(changes: &mut tokio::sync::broadcast::Receiver<Change>, wanted: Change) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Ok(Ok(change)) if change == wanted => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(closed)) => panic!("the changes stopped: {closed}"),
            Err(_) => panic!("{wanted:?} was not announced to the other process within 5 s"),
        }
    }
}

/// A [`WebhookStore`] shared by processes, `a` and `b` being two of them
/// on one backend: each hears what the other queued and stored; claims
/// never overlap; a lease that runs out is taken over by the other, and
/// the first holder's late finish changes nothing.
pub async fn shared_webhooks<S: WebhookStore>(a: &S, b: &S) {
    let mut heard_by_a = a.changes().expect("a shared backend announces changes");
    let mut heard_by_b = b.changes().expect("a shared backend announces changes");
    b.insert_endpoint(endpoint("e1", "acme", &[], 1)).await.unwrap();

    let now = 10_000;
    let ids = a
        .accept_deliveries(
            (0..5).map(|i| delivery("acme", "c1", &format!("body-{i}"))).collect(),
            now,
        )
        .await
        .unwrap();
    announced(&mut heard_by_b, Change::Jobs(JobKind::Parse)).await;

    let (claimed_a, claimed_b) = tokio::join!(
        a.claim_jobs(JobKind::Parse, now, 1_000, 3),
        b.claim_jobs(JobKind::Parse, now, 1_000, 3)
    );
    let (claimed_a, claimed_b) = (claimed_a.unwrap(), claimed_b.unwrap());
    let mut all: Vec<i64> = claimed_a.iter().chain(&claimed_b).map(|j| j.id).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        claimed_a.len() + claimed_b.len(),
        "no job is claimed by two processes: {claimed_a:?} {claimed_b:?}"
    );
    assert_eq!(all.len(), ids.len(), "together they claim every due job");

    // `a` dies holding its jobs; once their leases run out, `b` takes them.
    let later = now + 1_001;
    let taken = b.claim_jobs(JobKind::Parse, later, 60_000, 10).await.unwrap();
    let mut taken_ids: Vec<i64> = taken.iter().map(|j| j.id).collect();
    taken_ids.sort_unstable();
    let mut expected: Vec<i64> = claimed_a.iter().chain(&claimed_b).map(|j| j.id).collect();
    expected.sort_unstable();
    assert_eq!(taken_ids, expected, "jobs whose leases ran out are claimed again");
    let stale = &claimed_a.first().or(claimed_b.first()).expect("claimed").clone();
    let retaken = taken.iter().find(|j| j.id == stale.id).expect("claimed again");
    assert_eq!(retaken.attempts, stale.attempts + 1);
    assert_eq!(
        a.finish_parse(
            stale.id,
            stale.attempts,
            vec![event("ev-stale", "order.created", "k-stale")],
            later
        )
        .await
        .unwrap(),
        None,
        "a holder whose lease ran out changes nothing"
    );
    let stored = b
        .finish_parse(
            retaken.id,
            retaken.attempts,
            vec![event("ev-1", "order.created", "k-1")],
            later,
        )
        .await
        .unwrap()
        .expect("the new holder finishes it");
    assert_eq!(stored.len(), 1);
    announced(&mut heard_by_a, Change::Events(stored[0].seq)).await;
    announced(&mut heard_by_a, Change::Jobs(JobKind::Push)).await;
    assert_eq!(
        a.events_after("acme", 0, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| &e.event.id)
            .collect::<Vec<_>>(),
        vec!["ev-1"],
        "the other process reads the event"
    );
    let push = a.claim_jobs(JobKind::Push, later, 60_000, 10).await.unwrap();
    assert_eq!(push.len(), 1, "the push queued by one process is claimed by the other");
    assert!(
        a.finish_job(push[0].id, push[0].attempts, Outcome::Done { status: Some(204) }, later)
            .await
            .unwrap()
    );
}
