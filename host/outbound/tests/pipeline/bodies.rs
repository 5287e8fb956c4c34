//! Bodies: the size limit, the four timeouts, streamed answers, and blobs
//! sent from and written to files.

use super::*;

#[tokio::test]
async fn oversize_bodies_are_refused_while_reading() {
    let (url, _) = start().await;
    let refused = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/big/200000")))
        .await
        .unwrap_err();
    assert_eq!(refused, OutboundError::TooLarge(64 * 1024));
    let fine = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/big/1000")))
        .await
        .unwrap();
    assert_eq!(fine.body.len(), 1000);
}

/// A listener whose accept queue is full: a new connection is never
/// completed (the kernel drops its SYN), so connecting to it hangs.
async fn unanswering_listener() -> (String, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let address = socket.local_addr().unwrap();
    let listener = socket.listen(0).unwrap();
    let mut fillers = Vec::new();
    // Fill the queue (backlog 0 still admits one or two) without accepting.
    for _ in 0..4 {
        match tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    std::mem::forget(listener);
    (format!("http://{address}"), fillers)
}

fn once(url: &str, timeouts: Timeouts) -> OutboundRequest {
    OutboundRequest {
        retry: RetryMode::Never,
        timeouts,
        ..get_request(url)
    }
}

fn phase_of(result: Result<patchbay_outbound::OutboundResponse, OutboundError>) -> (TimeoutPhase, String) {
    match result {
        Err(OutboundError::Timeout(phase, message)) => (phase, message),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn connect_first_byte_between_bytes_and_total_timeouts_each_cut_off_and_say_which() {
    let (url, _) = start().await;
    let ctx = context(&[&url]);
    let ms = Duration::from_millis;
    let strict = Pipeline::new(
        HttpLimits {
            first_byte_timeout: ms(300),
            idle_timeout: ms(300),
            allow_private_network: true,
            ..HttpLimits::default()
        },
        CircuitConfig::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryStore::new()),
        Arc::new(OutboundMetrics::unregistered()),
    )
    .unwrap();

    // A trickling body: cut off by the host's idle timeout, long before
    // the total (30 s) or the body's end (40 s).
    let started = Instant::now();
    let (phase, message) = phase_of(
        strict
            .send(&ctx, once(&format!("{url}/trickle/100/400"), Timeouts::default()))
            .await,
    );
    assert_eq!(phase, TimeoutPhase::BetweenBytes);
    assert!(
        message.starts_with("between-bytes timeout") && message.contains("after 1 bytes"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The plugin may ask for a tighter one: a byte every 200 ms passes the
    // host's 300 ms but not the plugin's 100 ms.
    let generous = pipeline(true);
    assert!(
        generous
            .send(&ctx, once(&format!("{url}/trickle/3/200"), Timeouts::default()))
            .await
            .is_ok()
    );
    let asked = Timeouts {
        between_bytes: Some(ms(100)),
        ..Timeouts::default()
    };
    let (phase, _) = phase_of(generous.send(&ctx, once(&format!("{url}/trickle/3/200"), asked)).await);
    assert_eq!(phase, TimeoutPhase::BetweenBytes);

    // No response head.
    let (phase, message) = phase_of(
        strict
            .send(&ctx, once(&format!("{url}/slow/2000"), Timeouts::default()))
            .await,
    );
    assert_eq!(phase, TimeoutPhase::FirstByte);
    assert!(message.starts_with("first-byte timeout"), "{message}");
    let asked = Timeouts {
        first_byte: Some(ms(100)),
        ..Timeouts::default()
    };
    let (phase, _) = phase_of(generous.send(&ctx, once(&format!("{url}/slow/1000"), asked)).await);
    assert_eq!(phase, TimeoutPhase::FirstByte);

    // The total bounds a body that keeps coming, each byte in time.
    let asked = Timeouts {
        total: Some(ms(500)),
        ..Timeouts::default()
    };
    let (phase, message) = phase_of(generous.send(&ctx, once(&format!("{url}/trickle/100/50"), asked)).await);
    assert_eq!(phase, TimeoutPhase::Total);
    assert!(message.starts_with("total timeout"), "{message}");

    // No connection: the plugin's connect timeout, tighter than the host's.
    let (silent, _fillers) = unanswering_listener().await;
    let ctx = context(&[&silent]);
    let asked = Timeouts {
        connect: Some(ms(200)),
        ..Timeouts::default()
    };
    let started = Instant::now();
    let (phase, message) = phase_of(generous.send(&ctx, once(&format!("{silent}/x"), asked)).await);
    assert_eq!(phase, TimeoutPhase::Connect, "{message}");
    assert!(
        message.starts_with("connect timeout: no connection within 200 ms"),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A streamed body reaches the reader event by event, before the upstream
/// has finished, with the connection's secret scrubbed even when it is
/// split across writes; the size limit, the between-bytes timeout and the
/// call's deadline still cut off a hostile upstream mid-stream; an error
/// answer is read whole and retried like any other.
#[tokio::test]
async fn streamed_bodies_arrive_as_sent_under_the_same_limits() {
    let (url, up) = start().await;
    let ctx = context(&[&url]);
    let pipeline = pipeline(true);
    let mut streamed = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/events/6/150")))
        .await
        .unwrap();
    assert_eq!(streamed.status, 200);
    let first = streamed.body.read(1024).await.unwrap().unwrap();
    assert_eq!(first, b"data: event 0\n\n");
    assert_eq!(
        up.streams_done.load(Ordering::SeqCst),
        0,
        "the first event is not held back until the body ends"
    );
    let rest = String::from_utf8(streamed.body.read_to_end().await.unwrap()).unwrap();
    assert_eq!(
        rest,
        "data: event 1\n\ndata: [redacted] echoed\n\ndata: event 4\n\ndata: event 5\n\n"
    );
    assert_eq!(streamed.body.read(10).await.unwrap(), None);

    // Over the size limit (64 KiB here): refused at once when the length
    // is announced, while reading when it is not.
    let announced = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/big/200000")))
        .await
        .unwrap_err();
    assert_eq!(announced, OutboundError::TooLarge(64 * 1024));
    let mut unannounced = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/events/6000/0")))
        .await
        .unwrap();
    assert_eq!(
        unannounced.body.read_to_end().await.unwrap_err(),
        OutboundError::TooLarge(64 * 1024)
    );

    // A stream that stalls: the between-bytes timeout.
    let strict = Pipeline::new(
        HttpLimits {
            idle_timeout: Duration::from_millis(300),
            allow_private_network: true,
            ..HttpLimits::default()
        },
        CircuitConfig::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryStore::new()),
        Arc::new(OutboundMetrics::unregistered()),
    )
    .unwrap();
    let mut stalled = strict
        .send_streamed(&ctx, get_request(&format!("{url}/trickle/5/1000")))
        .await
        .unwrap();
    assert!(matches!(
        stalled.body.read_to_end().await,
        Err(OutboundError::Timeout(TimeoutPhase::BetweenBytes, _))
    ));

    // One that keeps flowing past the call's deadline: cut off there, and
    // not by the host's request timeout (30 s) — a stream may run long.
    let mut short = context(&[&url]);
    short.deadline = Instant::now() + Duration::from_millis(600);
    let mut endless = pipeline
        .send_streamed(&short, get_request(&format!("{url}/events/100/100")))
        .await
        .unwrap();
    let Err(OutboundError::Timeout(TimeoutPhase::Total, message)) = endless.body.read_to_end().await else {
        panic!("cut off at the deadline")
    };
    assert!(message.contains("deadline"), "{message}");

    // A 503 is not streamed: read whole and retried, as `send` does.
    let mut answered = pipeline
        .send_streamed(&ctx, get_request(&format!("{url}/status/streamed/503")))
        .await
        .unwrap();
    assert_eq!(answered.status, 503);
    answered.body.read_to_end().await.unwrap();
    assert_eq!(up.hits.load(Ordering::SeqCst), 4, "first attempt and three retries");
}

/// A file of `len` bytes in `dir` whose bytes are not all alike.
fn patterned_file(dir: &std::path::Path, len: usize) -> (std::path::PathBuf, Vec<u8>) {
    let content: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
    let path = dir.join("content.bin");
    std::fs::write(&path, &content).unwrap();
    (path, content)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn put(url: &str, body: impl Into<patchbay_outbound::RequestBody>) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::PUT,
        body: Some(body.into()),
        ..get_request(url)
    }
}

/// A blob body goes out from its file with its length, whole or as a byte
/// range, and a retried request sends it again from the file.
#[tokio::test]
async fn blob_bodies_stream_from_their_file_and_are_sent_again_on_a_retry() {
    let (url, up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = patterned_file(dir.path(), 6 * 1024 * 1024 + 13);
    let blob = patchbay_outbound::Blob::from_file(&path).unwrap();
    let response = pipeline(true)
        .send(&context(&[&url]), put(&format!("{url}/upload/1"), blob.whole()))
        .await
        .unwrap();
    assert_eq!(response.status, 200, "the 503 was retried");
    let whole = format!("{} {} {} ", content.len(), sha256_hex(&content), content.len());
    assert_eq!(*up.seen.lock().unwrap(), [whole.clone(), whole]);

    let part = blob.range(1000, 3 * 1024 * 1024).unwrap();
    pipeline(true)
        .send(&context(&[&url]), put(&format!("{url}/upload/0"), part))
        .await
        .unwrap();
    let slice = &content[1000..1000 + 3 * 1024 * 1024];
    assert_eq!(
        up.seen.lock().unwrap()[2],
        format!("{} {} {} ", slice.len(), sha256_hex(slice), slice.len())
    );
}

/// SigV4 signs a blob body by its SHA-256, read from the file before
/// sending, as S3 wants it in `x-amz-content-sha256`; secrets are never
/// filled into a blob.
#[tokio::test]
async fn sigv4_signs_a_blob_by_its_hash_and_blobs_carry_no_secrets() {
    let (url, up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, content) = patterned_file(dir.path(), 700 * 1024);
    let blob = patchbay_outbound::Blob::from_file(&path).unwrap();
    let mut ctx = context(&[&url]);
    ctx.credentials = Arc::new(Credentials::from([("key", "AKIDEXAMPLE"), ("secret", "s3cr3t")]));
    let mut request = put(&format!("{url}/upload/0"), blob.whole());
    request.auth = Some(AuthScheme::AwsSigV4 {
        service: "s3".into(),
        region: "us-east-1".into(),
        key_id_field: "key".into(),
        secret_field: "secret".into(),
        session_token_field: None,
    });
    assert_eq!(pipeline(true).send(&ctx, request).await.unwrap().status, 200);
    let hash = sha256_hex(&content);
    assert_eq!(
        up.seen.lock().unwrap()[0],
        format!("{} {hash} {} {hash}", content.len(), content.len())
    );

    let mut request = put(&format!("{url}/upload/0"), blob.whole());
    request.headers.push(("patchbay-body-secrets".into(), "token".into()));
    match pipeline(true).send(&context(&[&url]), request).await {
        Err(OutboundError::InvalidRequest(why)) => assert!(why.contains("the body is a blob"), "{why}"),
        other => panic!("expected invalid-request, got {other:?}"),
    }
}

/// A 2xx answer is written into a blob past the response size limit, in
/// chunks, scrubbed of the connection's secrets, under the blob limit; an
/// answer that is not 2xx comes back whole in `body`.
#[tokio::test]
async fn answers_are_written_into_blobs_under_the_blob_limit() {
    let (url, _up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = patchbay_outbound::Spool::open(dir.path()).unwrap();
    let pipeline = pipeline(true);
    let ctx = context(&[&url]);
    let writer = || patchbay_outbound::BlobWriter::create(&spool).unwrap();
    let big = format!("{url}/big/{}", 5 * 1024 * 1024);
    match pipeline.send(&ctx, get_request(&big)).await {
        Err(OutboundError::TooLarge(limit)) => assert_eq!(limit, 64 * 1024),
        other => panic!("a body in hand keeps the response limit: {other:?}"),
    }
    let answer = pipeline.send_to_blob(&ctx, get_request(&big), writer()).await.unwrap();
    assert_eq!(answer.status, 200);
    let blob = answer.blob.expect("a 2xx body is in the blob");
    assert_eq!(blob.len(), 5 * 1024 * 1024);
    assert_eq!(std::fs::read(blob.path()).unwrap(), vec![b'x'; 5 * 1024 * 1024]);
    drop(blob);

    let mut echo = get_request(&format!("{url}/echo"));
    echo.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let answer = pipeline.send_to_blob(&ctx, echo, writer()).await.unwrap();
    let echoed = String::from_utf8(std::fs::read(answer.blob.unwrap().path()).unwrap()).unwrap();
    assert!(echoed.contains("authorization: Bearer [redacted]"), "{echoed}");
    assert!(!echoed.contains(TOKEN));

    let answer = pipeline
        .send_to_blob(&ctx, get_request(&format!("{url}/status/k/404")), writer())
        .await
        .unwrap();
    assert_eq!((answer.status, answer.body.as_slice()), (404, &b"status"[..]));
    assert!(answer.blob.is_none());

    let small = pipeline_with(HttpLimits {
        max_blob_bytes: 1024 * 1024,
        allow_private_network: true,
        ..HttpLimits::default()
    });
    match small.send_to_blob(&ctx, get_request(&big), writer()).await {
        Err(OutboundError::TooLarge(limit)) => assert_eq!(limit, 1024 * 1024),
        other => panic!("expected too-large, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(spool.path()).unwrap().count(),
        0,
        "no blob file is left behind"
    );
}

/// A body written into a blob may take as long as the call: the host's
/// request timeout is for bodies in hand, the between-bytes timeout still
/// cuts off a stall.
#[tokio::test]
async fn a_long_body_into_a_blob_is_bounded_by_the_call_not_the_request_timeout() {
    let (url, _up) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = patchbay_outbound::Spool::open(dir.path()).unwrap();
    let pipeline = pipeline_with(HttpLimits {
        request_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(300),
        allow_private_network: true,
        ..HttpLimits::default()
    });
    let ctx = context(&[&url]);
    let trickle = format!("{url}/trickle/8/100");
    match pipeline.send(&ctx, get_request(&trickle)).await {
        Err(OutboundError::Timeout(TimeoutPhase::Total, _)) => {}
        other => panic!("a body in hand keeps the request timeout: {other:?}"),
    }
    let writer = patchbay_outbound::BlobWriter::create(&spool).unwrap();
    let answer = pipeline
        .send_to_blob(&ctx, get_request(&trickle), writer)
        .await
        .unwrap();
    assert_eq!(answer.blob.unwrap().len(), 8);
    let writer = patchbay_outbound::BlobWriter::create(&spool).unwrap();
    match pipeline
        .send_to_blob(&ctx, get_request(&format!("{url}/trickle/3/600")), writer)
        .await
    {
        Err(OutboundError::Timeout(TimeoutPhase::BetweenBytes, _)) => {}
        other => panic!("a stall is cut off: {other:?}"),
    }
}
