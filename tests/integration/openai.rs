//! The OpenAI plugin through the host, against aimock (npm
//! `@copilotkit/aimock`, started by `tests/with-llm-server.sh` with the
//! fixtures of `tests/aimock/server.mjs`): chat with tools and structured
//! output, a completion streamed chunk by chunk to the caller, a caller that
//! stops listening, embeddings, transcription, images, the model list, and
//! OpenAI's errors and rate-limit headers paced by the host.

use std::time::Duration;

use patchbay::types::{ChatRole, ConnectorError, ImageOptions, ToolCall, ToolDefinition, TranscriptionOptions};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use serde_json::{Value, json};

use crate::support::{LLM_KEY as KEY, host, journal, llm_server, no_options, say, start_stream, stream_to_the_end};

const CHAT: &str = "/v1/chat/completions";

async fn openai(key: &str, settings: &[(&str, &str)]) -> (Host, Connection) {
    let host = host().await;
    let mut all = Settings::from([("api_base".to_string(), format!("{}/v1", llm_server()))]);
    for (name, value) in settings {
        all.insert(name.to_string(), value.to_string());
    }
    let connection = host
        .connect("llm/openai", Credentials::from([("api_key", key)]), all)
        .unwrap();
    (host, connection)
}

#[tokio::test]
async fn chat_with_tools_and_structured_output() {
    let (_host, conn) = openai(KEY, &[]).await;
    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    let (_host2, wrong) = openai("sk-wrong", &[]).await;
    let refused = wrong.test().await.unwrap();
    assert!(
        !refused.success && refused.message.contains("Invalid API key"),
        "{refused:?}"
    );

    let llm = conn.llm().unwrap();
    let mut options = no_options();
    options.max_tokens = Some(64);
    options.temperature = Some(0.2);
    let answer = llm
        .complete(&[say(ChatRole::User, "patchbay: say hello")], None, &options)
        .await
        .unwrap();
    assert_eq!(answer.content, "Hello from the mock.");
    assert_eq!(answer.model, "gpt-4o-mini", "the connection's default model");
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    assert!(answer.usage.is_some_and(|u| u.total_tokens > 0), "{answer:?}");
    let sent = &journal(CHAT, "patchbay: say hello").await[0];
    assert_eq!(sent["body"]["max_completion_tokens"], 64);
    assert_eq!(sent["body"]["temperature"], json!(0.2));
    assert!(
        sent["headers"]["idempotency-key"]
            .as_str()
            .is_some_and(|k| k.starts_with("patchbay-chat-"))
    );

    // A tool call, then the answer with the tool's result.
    let mut tools = no_options();
    tools.tools.push(ToolDefinition {
        name: "get_weather".into(),
        description: "The weather of a city".into(),
        parameters_json: r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#.into(),
    });
    tools.tool_choice = Some("auto".into());
    let mut conversation = vec![
        say(ChatRole::System, "Answer briefly."),
        say(ChatRole::User, "patchbay: weather in Paris"),
    ];
    let call = llm.complete(&conversation, Some("gpt-4o"), &tools).await.unwrap();
    assert_eq!(call.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(call.model, "gpt-4o");
    let [
        ToolCall {
            id,
            name,
            arguments_json,
        },
    ] = call.tool_calls.as_slice()
    else {
        panic!("one tool call: {call:?}")
    };
    assert_eq!((id.as_str(), name.as_str()), ("call_weather_1", "get_weather"));
    assert_eq!(
        serde_json::from_str::<Value>(arguments_json).unwrap(),
        json!({"city": "Paris"})
    );
    let mut assistant = say(ChatRole::Assistant, "");
    assistant.tool_calls = call.tool_calls.clone();
    let mut result = say(ChatRole::Tool, r#"{"celsius": 18}"#);
    result.tool_call_id = Some(id.clone());
    conversation.extend([assistant, result]);
    let answer = llm.complete(&conversation, Some("gpt-4o"), &tools).await.unwrap();
    assert_eq!(answer.content, "It is 18 C in Paris.");
    let sent = journal(CHAT, "patchbay: weather in Paris").await;
    let last = &sent.last().unwrap()["body"];
    assert_eq!(last["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(last["messages"][2]["tool_calls"][0]["id"], "call_weather_1");
    assert_eq!(last["messages"][3]["role"], "tool");

    let mut structured = no_options();
    structured.response_schema =
        Some(r#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}"#.into());
    let answer = llm
        .complete(&[say(ChatRole::User, "patchbay: structured")], None, &structured)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&answer.content).unwrap(),
        json!({"name": "Ada", "age": 36})
    );

    let models = llm.list_models().await.unwrap();
    let embedding = models
        .iter()
        .find(|m| m.id == "text-embedding-3-small")
        .expect("the embedding model");
    assert_eq!(embedding.capabilities, ["embedding"]);
    assert!(
        models
            .iter()
            .any(|m| m.id == "gpt-4o" && m.capabilities.contains(&"tools".to_string())),
        "{models:?}"
    );
}

#[tokio::test]
async fn a_streamed_completion_reaches_the_caller_chunk_by_chunk() {
    let (_host, conn) = openai(KEY, &[]).await;
    // aimock sends a token every 50 ms: the first one must reach the caller
    // while the rest are still on their way.
    let answer = stream_to_the_end(conn, "patchbay: slow story").await;
    assert!(answer.content.starts_with("Once upon a time"), "{answer:?}");
    assert!(answer.usage.is_some(), "usage comes at the end: {answer:?}");
    let sent = &journal(CHAT, "patchbay: slow story").await[0]["body"];
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn a_caller_that_stops_listening_stops_the_upstream_request() {
    let (_host, conn) = openai(KEY, &[]).await;
    let (call, mut chunks) = start_stream(conn, "patchbay: slow story");
    chunks.recv().await.expect("a first chunk");
    drop(chunks);
    let error = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends without reading the rest of the story")
        .unwrap()
        .unwrap_err();
    assert!(error.to_string().contains("stopped listening"), "{error}");
}

#[tokio::test]
async fn a_stream_cut_short_is_an_error_not_a_short_answer() {
    let (_host, conn) = openai(KEY, &[]).await;
    let (sink, _chunks) = tokio::sync::mpsc::unbounded_channel();
    let error = conn
        .streaming()
        .unwrap()
        .stream_complete(&[say(ChatRole::User, "patchbay: cut short")], None, &no_options(), sink)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CallError::Connector(ConnectorError::Provider(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn embeddings_transcription_and_images() {
    let (_host, conn) = openai(KEY, &[]).await;
    let embedded = conn
        .embedding()
        .unwrap()
        .embed(&["patchbay: first text".into(), "patchbay: second text".into()], None)
        .await
        .unwrap();
    assert_eq!(embedded.embeddings.len(), 2);
    assert_eq!(embedded.embeddings[0], vec![0.25, -0.5, 1.0]);
    assert!(!embedded.embeddings[1].is_empty());
    let sent = &journal("/v1/embeddings", "patchbay: second text").await[0]["body"];
    assert_eq!(sent["model"], "text-embedding-3-small");
    // aimock's journal keeps the inputs joined.
    assert_eq!(sent["embeddingInput"], "patchbay: first text patchbay: second text");
    let empty = conn.embedding().unwrap().embed(&[], None).await.unwrap_err();
    assert!(
        matches!(empty, CallError::Connector(ConnectorError::Validation(_))),
        "{empty:?}"
    );

    let audio: Vec<u8> = (0..48_000u32).map(|i| (i % 251) as u8).collect();
    let options = TranscriptionOptions {
        model: None,
        language: Some("en".into()),
        prompt: Some("Patchbay".into()),
    };
    let transcript = conn
        .transcription()
        .unwrap()
        .transcribe(&audio, "memo.wav", &options)
        .await
        .unwrap();
    assert_eq!(transcript.text, "Patchbay carries the audio.");
    assert_eq!(transcript.language.as_deref(), Some("english"));
    assert_eq!(transcript.duration_seconds, Some(2.5));

    let images = conn
        .image_generation()
        .unwrap()
        .generate_images(
            "patchbay: a red bicycle",
            &ImageOptions {
                model: Some("dall-e-3".into()),
                size: Some("1024x1024".into()),
                count: Some(2),
                quality: Some("hd".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(images.images.len(), 2);
    assert_eq!(images.images[0].url.as_deref(), Some("https://images.example/1.png"));
    assert_eq!(
        images.images[0].revised_prompt.as_deref(),
        Some("A red bicycle, studio light")
    );
    assert_eq!(images.images[1].data.as_deref(), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    let sent = &journal("/v1/images/generations", "patchbay: a red bicycle").await[0]["body"];
    assert_eq!(sent["model"], "dall-e-3");
}

#[tokio::test]
async fn openai_errors_and_rate_limit_headers_are_honoured() {
    let (_host, conn) = openai(KEY, &[]).await;
    let llm = conn.llm().unwrap();
    let bad = llm
        .complete(&[say(ChatRole::User, "patchbay: bad request")], None, &no_options())
        .await
        .unwrap_err();
    assert!(
        matches!(&bad, CallError::Connector(ConnectorError::Validation(m)) if m.contains("param temperature")),
        "{bad:?}"
    );
    // A 429 whose x-ratelimit-* headers say the tokens are spent for six
    // minutes: the host does not hammer the API within the call, pauses the
    // connection, and the next call is refused without reaching OpenAI.
    let limited = llm
        .complete(&[say(ChatRole::User, "patchbay: rate limited")], None, &no_options())
        .await
        .unwrap_err();
    let CallError::Connector(ConnectorError::RateLimited(Some(wait))) = limited else {
        panic!("rate-limited with a wait: {limited:?}")
    };
    assert!((300..=360).contains(&wait), "{wait} s");
    assert_eq!(
        journal(CHAT, "patchbay: rate limited").await.len(),
        1,
        "one request reached OpenAI"
    );
    let paused = llm
        .complete(
            &[say(ChatRole::User, "patchbay: say hello while paused")],
            None,
            &no_options(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(paused, CallError::Connector(ConnectorError::RateLimited(Some(_)))),
        "{paused:?}"
    );
    assert!(
        journal(CHAT, "while paused").await.is_empty(),
        "the paused connection sent nothing"
    );
}

/// `patchbay call … streaming.stream-complete` prints the text on stderr as
/// it arrives, while the call is still running, and the whole answer as
/// JSON on stdout.
#[tokio::test]
async fn the_cli_shows_a_streamed_completion_as_it_arrives() {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    let db = tempfile::tempdir().unwrap();
    let input = json!({
        "messages": [{"role": "user", "content": "patchbay: slow story", "tool-calls": []}],
        "options": {"stop": [], "tools": [], "extra": ""},
    });
    let mut child = Command::new(crate::cli::patchbay())
        .args([
            "call",
            "llm/openai",
            "streaming.stream-complete",
            "--plugins",
            crate::support::plugins_dir().to_str().unwrap(),
            "--database",
            db.path().join("state.db").to_str().unwrap(),
            "--setting",
            &format!("api_base={}/v1", llm_server()),
            "--credential",
            &format!("api_key={KEY}"),
            "--json",
            &input.to_string(),
            "--allow-private-network",
        ])
        .env("RUST_LOG", "error")
        .env(
            "PATCHBAY_CACHE",
            crate::support::workspace().join("target/test-compile-cache-cli"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (first, mut child) = tokio::task::spawn_blocking(move || {
        let mut first = [0u8; 16];
        stderr.read_exact(&mut first).unwrap();
        let running = child.try_wait().unwrap().is_none();
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        ((String::from_utf8_lossy(&first).into_owned() + &rest, running), child)
    })
    .await
    .unwrap();
    let (printed, running_after_first) = first;
    assert!(
        running_after_first,
        "the first words were printed only after the call ended"
    );
    assert!(printed.starts_with("Once upon a time"), "{printed}");
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(child.wait().unwrap().success(), "{printed}");
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["content"].as_str().unwrap().trim(), printed.trim());
    assert_eq!(answer["finish-reason"], "stop");
}
