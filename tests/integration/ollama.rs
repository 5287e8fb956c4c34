//! The Ollama plugin (C: wit-bindgen c, zig, yyjson) through the host against
//! the mock Ollama server.

use patchbay::types::{ChatMessage, ChatRole, CompletionOptions, ConnectorError, ToolCall, ToolDefinition};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use patchbay_tests::ollama::MockOllama;
use serde_json::{Value, json};

use crate::support::{host, no_options, say};

async fn ollama(mock: &MockOllama) -> (Host, Connection) {
    let host = host().await;
    let conn = host
        .connect(
            "llm/ollama",
            Credentials::new(),
            Settings::from([("base_url".to_string(), format!("{}/", mock.url()))]),
        )
        .unwrap();
    (host, conn)
}

#[tokio::test]
async fn a_completion_with_options_usage_and_the_default_model() {
    let mock = MockOllama::start().await.unwrap();
    let (host, conn) = ollama(&mock).await;
    let plugin = host.provider("llm/ollama").expect("the C plugin loads");
    assert!(
        plugin.imports().iter().all(|i| i.starts_with("patchbay:connector/")),
        "a C plugin needs no WASI at all: {:?}",
        plugin.imports()
    );
    let llm = conn.llm().unwrap();
    let opts = CompletionOptions {
        temperature: Some(0.5),
        top_p: Some(0.25),
        stop: vec!["\n\n".into()],
        response_schema: Some(json!({ "type": "object" }).to_string()),
        extra: json!({ "keep_alive": "5m" }).to_string(),
        ..no_options()
    };
    let messages = [
        say(ChatRole::System, "Be brief."),
        say(ChatRole::User, "Héllo, wörld \"quoted\""),
    ];
    let answer = llm.complete(&messages, None, &opts).await.unwrap();
    assert_eq!(
        answer.content, "echo: Héllo, wörld \"quoted\"",
        "UTF-8 and escapes survive both ways"
    );
    assert_eq!(answer.model, "llama3.2");
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    let usage = answer.usage.unwrap();
    assert!(usage.prompt_tokens > 0 && usage.total_tokens == usage.prompt_tokens + usage.completion_tokens);

    let sent = mock.chat_requests().pop().unwrap();
    assert_eq!(sent["model"], "llama3.2", "the manifest's default model");
    assert_eq!(sent["stream"], false);
    assert_eq!(sent["messages"][0], json!({ "role": "system", "content": "Be brief." }));
    assert_eq!(sent["options"]["temperature"], 0.5);
    assert_eq!(sent["options"]["top_p"], 0.25);
    assert_eq!(sent["options"]["stop"], json!(["\n\n"]));
    assert_eq!(sent["format"], json!({ "type": "object" }));
    assert_eq!(sent["keep_alive"], "5m", "extra keys go to the top level");

    let short = llm
        .complete(
            &[say(ChatRole::User, "a question that is too long")],
            Some("qwen2.5:7b"),
            &CompletionOptions {
                max_tokens: Some(2),
                ..no_options()
            },
        )
        .await
        .unwrap();
    assert_eq!(short.finish_reason.as_deref(), Some("length"));
    assert_eq!(short.model, "qwen2.5:7b");
    assert_eq!(mock.chat_requests().pop().unwrap()["options"]["num_predict"], 2);
}

#[tokio::test]
async fn tool_calls_round_trip() {
    let mock = MockOllama::start().await.unwrap();
    let (_host, conn) = ollama(&mock).await;
    let llm = conn.llm().unwrap();
    let opts = CompletionOptions {
        tools: vec![ToolDefinition {
            name: "get_weather".into(),
            description: "Current weather".into(),
            parameters_json: json!({ "type": "object", "properties": { "city": { "type": "string" } } }).to_string(),
        }],
        ..no_options()
    };
    let mut messages = vec![say(ChatRole::User, "weather in Cluj?")];
    let first = llm.complete(&messages, None, &opts).await.unwrap();
    assert_eq!(first.tool_calls.len(), 1);
    let call = first.tool_calls[0].clone();
    assert_eq!((call.id.as_str(), call.name.as_str()), ("call_0", "get_weather"));
    let args: Value = serde_json::from_str(&call.arguments_json).unwrap();
    assert_eq!(args, json!({ "city": "Cluj-Napoca" }));
    assert_eq!(
        mock.chat_requests()[0]["tools"][0]["function"]["parameters"]["properties"]["city"]["type"],
        "string"
    );

    messages.push(ChatMessage {
        role: ChatRole::Assistant,
        content: String::new(),
        name: None,
        tool_call_id: None,
        tool_calls: vec![ToolCall {
            id: call.id.clone(),
            name: call.name.clone(),
            arguments_json: call.arguments_json.clone(),
        }],
    });
    messages.push(ChatMessage {
        role: ChatRole::Tool,
        content: "7°C, cloudy".into(),
        name: None,
        tool_call_id: Some(call.id.clone()),
        tool_calls: Vec::new(),
    });
    let second = llm.complete(&messages, None, &opts).await.unwrap();
    assert_eq!(second.content, "get_weather says: 7°C, cloudy");
    let sent = mock.chat_requests().pop().unwrap();
    assert_eq!(
        sent["messages"][1]["tool_calls"][0]["function"]["arguments"]["city"],
        "Cluj-Napoca"
    );
    assert_eq!(
        sent["messages"][2]["tool_name"], "get_weather",
        "named from the earlier call's id"
    );
}

#[tokio::test]
async fn models_connection_test_and_errors() {
    let mock = MockOllama::start().await.unwrap();
    let (_host, conn) = ollama(&mock).await;
    let llm = conn.llm().unwrap();
    let models = llm.list_models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["llama3.2:latest", "qwen2.5:7b"]);
    assert_eq!(models[0].name, "llama3.2:latest (3.2B, Q4_K_M)");
    assert_eq!(models[0].capabilities, ["chat", "tools"]);

    let test = conn.test().await.unwrap();
    assert!(test.success && test.message.ends_with("has 2 models"), "{test:?}");

    match llm
        .complete(&[say(ChatRole::User, "hi")], Some("mistral"), &no_options())
        .await
    {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert_eq!(m, "HTTP 404: model \"mistral\" not found, try pulling it first")
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    let before = mock.chat_requests().len();
    let orphan = [say(ChatRole::Tool, "result")];
    match llm.complete(&orphan, None, &no_options()).await {
        Err(CallError::Connector(ConnectorError::Validation(m))) => assert!(m.contains("tool result needs"), "{m}"),
        other => panic!("expected validation, got {other:?}"),
    }
    let bad_schema = CompletionOptions {
        response_schema: Some("{oops".into()),
        ..no_options()
    };
    assert!(matches!(
        llm.complete(&[say(ChatRole::User, "hi")], None, &bad_schema).await,
        Err(CallError::Connector(ConnectorError::Validation(_)))
    ));
    assert_eq!(
        mock.chat_requests().len(),
        before,
        "invalid input is refused before sending"
    );
}
