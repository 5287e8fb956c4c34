//! The one call path: every kind of call (typed port, JSON bridge,
//! test-connection, streaming) is counted, timed and spanned alike.

use patchbay::CallError;
use patchbay::types::{ChatRole, StreamChunk};
use tracing_subscriber::fmt::format::FmtSpan;

use crate::pipeline::{Captured, builder, connect};
use crate::support::{no_options, say};

/// A streamed completion that ends with the plugin's error is counted as a
/// connector error (not `ok`), and runs inside its call span, like any call.
#[tokio::test]
async fn a_streamed_call_that_fails_is_counted_and_spanned_like_any_call() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let host = builder(true).build().await.unwrap();
    let conn = connect(&host, "http://127.0.0.1:9", None);
    let streaming = conn.streaming().expect("the probe exports streaming");

    let (sink, mut chunks) = tokio::sync::mpsc::unbounded_channel::<StreamChunk>();
    let answer = streaming
        .stream_complete(
            &[say(ChatRole::User, "hello streaming world")],
            None,
            &no_options(),
            sink,
        )
        .await
        .unwrap();
    assert_eq!(answer.content, "hello streaming world");
    let mut streamed = String::new();
    while let Ok(chunk) = chunks.try_recv() {
        streamed.push_str(&chunk.content_delta);
    }
    assert_eq!(streamed, "hello streaming world ");

    let (sink, mut chunks) = tokio::sync::mpsc::unbounded_channel::<StreamChunk>();
    let failed = streaming
        .stream_complete(&[say(ChatRole::User, "please fail now")], None, &no_options(), sink)
        .await
        .unwrap_err();
    assert!(
        matches!(&failed, CallError::Connector(e) if patchbay::types::describe_error(e).contains("overloaded")),
        "{failed}"
    );
    assert!(chunks.try_recv().is_ok(), "the chunks before the error were delivered");

    let metrics = host.metrics_text();
    assert!(
        metrics.contains(r#"patchbay_calls_total{provider="other/probe",outcome="connector-error"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"patchbay_calls_total{provider="other/probe",outcome="ok"} 1"#),
        "{metrics}"
    );
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let closed: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("call{") && l.contains("other/probe") && l.contains("close"))
        .collect();
    assert_eq!(closed.len(), 2, "each streamed call had its span:\n{logs}");
    assert!(closed.iter().all(|l| l.contains(conn.id())), "{logs}");
}
