//! The Gemini plugin (Python, componentize-py) through the host against the
//! mock Gemini API.

use patchbay::types::{ChatMessage, ChatRole, CompletionOptions, ConnectorError, ToolCall, ToolDefinition};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use patchbay_tests::gemini::{API_KEY, BLOCKED_WORD, EXHAUSTED_MODEL, MockGemini};
use serde_json::{Value, json};

use crate::support::{host, no_options, say};

async fn gemini(mock: &MockGemini, key: &str) -> (Host, Connection) {
    let host = host().await;
    let conn = host
        .connect(
            "llm/gemini",
            Credentials::from([("api_key", key)]),
            Settings::from([("api_base".to_string(), mock.api_base())]),
        )
        .unwrap();
    (host, conn)
}

#[tokio::test]
async fn a_completion_with_a_system_prompt_options_and_usage() {
    let mock = MockGemini::start().await.unwrap();
    let (host, conn) = gemini(&mock, API_KEY).await;
    assert!(
        host.provider("llm/gemini")
            .expect("the Python plugin loads")
            .imports()
            .iter()
            .any(|i| i.starts_with("wasi:sockets/"))
    );
    let llm = conn.llm().unwrap();
    let messages = [
        say(ChatRole::System, "You are terse."),
        say(ChatRole::User, "Hello"),
        say(ChatRole::Assistant, "Hi."),
        say(ChatRole::User, "What is Patchbay?"),
    ];
    let opts = CompletionOptions {
        temperature: Some(0.2),
        top_p: Some(0.9),
        stop: vec!["END".into()],
        extra: json!({ "safetySettings": [{ "category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE" }] })
            .to_string(),
        ..no_options()
    };
    let answer = llm.complete(&messages, None, &opts).await.unwrap();
    assert_eq!(answer.content, "echo: What is Patchbay?");
    assert_eq!(answer.model, "gemini-2.0-flash-001");
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    let usage = answer.usage.expect("usage metadata");
    assert_eq!(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);

    let (model, body) = mock.generate_requests().pop().unwrap();
    assert_eq!(model, "gemini-2.0-flash", "the default model");
    assert_eq!(body["systemInstruction"]["parts"][0]["text"], "You are terse.");
    let roles: Vec<&str> = body["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "model", "user"]);
    assert_eq!(body["generationConfig"]["temperature"], 0.2);
    assert_eq!(body["generationConfig"]["topP"], 0.9);
    assert_eq!(body["generationConfig"]["stopSequences"], json!(["END"]));
    assert_eq!(
        body["safetySettings"][0]["threshold"], "BLOCK_NONE",
        "extra passes through"
    );

    let short = llm
        .complete(
            &[say(ChatRole::User, "a long question that will be cut")],
            Some("gemini-2.5-pro"),
            &CompletionOptions {
                max_tokens: Some(3),
                ..no_options()
            },
        )
        .await
        .unwrap();
    assert_eq!(short.finish_reason.as_deref(), Some("max_tokens"));
    assert_eq!(mock.generate_requests().last().unwrap().0, "gemini-2.5-pro");
}

#[tokio::test]
async fn tool_calls_round_trip_through_function_call_and_response() {
    let mock = MockGemini::start().await.unwrap();
    let (_host, conn) = gemini(&mock, API_KEY).await;
    let llm = conn.llm().unwrap();
    let weather = ToolDefinition {
        name: "get_weather".into(),
        description: "Current weather in a city".into(),
        parameters_json:
            json!({ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] })
                .to_string(),
    };
    let opts = CompletionOptions {
        tools: vec![weather],
        tool_choice: Some("auto".into()),
        ..no_options()
    };
    let mut messages = vec![say(ChatRole::User, "What's the weather in Cluj?")];
    let first = llm.complete(&messages, None, &opts).await.unwrap();
    assert_eq!(first.tool_calls.len(), 1, "{first:?}");
    let call = &first.tool_calls[0];
    assert_eq!(call.name, "get_weather");
    let args: Value = serde_json::from_str(&call.arguments_json).unwrap();
    assert_eq!(args["city"], "Cluj-Napoca");
    let (_, sent) = mock.generate_requests().pop().unwrap();
    assert_eq!(
        sent["tools"][0]["functionDeclarations"][0]["parameters"]["required"],
        json!(["city"])
    );
    assert_eq!(sent["toolConfig"]["functionCallingConfig"]["mode"], "AUTO");

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
        content: json!({ "temperature": 7, "sky": "cloudy" }).to_string(),
        name: None,
        tool_call_id: Some(call.id.clone()),
        tool_calls: Vec::new(),
    });
    let second = llm.complete(&messages, None, &opts).await.unwrap();
    assert!(second.content.starts_with("get_weather says:"), "{}", second.content);
    assert!(second.content.contains("cloudy"));
    let (_, sent) = mock.generate_requests().pop().unwrap();
    let turns = sent["contents"].as_array().unwrap();
    assert_eq!(turns[1]["parts"][0]["functionCall"]["name"], "get_weather");
    assert_eq!(
        turns[2]["parts"][0]["functionResponse"]["name"], "get_weather",
        "named from the earlier tool call"
    );
    assert_eq!(turns[2]["parts"][0]["functionResponse"]["response"]["sky"], "cloudy");
}

#[tokio::test]
async fn the_model_list_is_paged_to_the_end() {
    let mock = MockGemini::start().await.unwrap();
    let (_host, conn) = gemini(&mock, API_KEY).await;
    let models = conn.llm().unwrap().list_models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "gemini-2.0-flash",
            "gemini-2.0-flash-lite",
            "gemini-2.5-pro",
            "gemini-exhausted",
            "text-embedding-004"
        ]
    );
    assert_eq!(models[0].context_window, Some(1_048_576));
    assert!(models[0].capabilities.contains(&"tools".to_string()));
    assert_eq!(models[4].capabilities, ["embedding"]);

    let test = conn.test().await.unwrap();
    assert!(test.success, "{test:?}");
    let (_, refused) = gemini(&mock, "AIza-wrong").await;
    let test = refused.test().await.unwrap();
    assert!(!test.success);
    assert!(test.message.contains("API key not valid"), "{}", test.message);
}

#[tokio::test]
async fn google_rpc_errors_become_typed_connector_errors() {
    let mock = MockGemini::start().await.unwrap();
    let (_host, conn) = gemini(&mock, API_KEY).await;
    let llm = conn.llm().unwrap();
    let hello = [say(ChatRole::User, "Hello")];

    let (_, wrong) = gemini(&mock, "AIza-wrong").await;
    match wrong.llm().unwrap().complete(&hello, None, &no_options()).await {
        Err(CallError::Connector(ConnectorError::Auth(m))) => assert!(
            m.contains("INVALID_ARGUMENT"),
            "a 400 with API_KEY_INVALID is auth: {m}"
        ),
        other => panic!("expected auth, got {other:?}"),
    }
    match llm.complete(&hello, Some(EXHAUSTED_MODEL), &no_options()).await {
        Err(CallError::Connector(ConnectorError::RateLimited(after))) => {
            assert_eq!(after, Some(41), "RetryInfo.retryDelay")
        }
        other => panic!("expected rate-limited, got {other:?}"),
    }
    match llm.complete(&hello, Some("gemini-9-ultra"), &no_options()).await {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert!(m.contains("models/gemini-9-ultra is not found"), "{m}")
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    match llm
        .complete(
            &[say(ChatRole::User, &format!("something {BLOCKED_WORD}"))],
            None,
            &no_options(),
        )
        .await
    {
        Err(CallError::Connector(ConnectorError::Permanent(f))) => {
            assert!(f.message.contains("blocked the prompt: SAFETY"), "{}", f.message)
        }
        other => panic!("expected permanent, got {other:?}"),
    }
    let before = mock.generate_requests().len();
    match llm.complete(&[say(ChatRole::Tool, "{}")], None, &no_options()).await {
        Err(CallError::Connector(ConnectorError::Validation(m))) => assert!(m.contains("tool result needs"), "{m}"),
        other => panic!("expected validation, got {other:?}"),
    }
    let schema = CompletionOptions {
        response_schema: Some("{not json".into()),
        ..no_options()
    };
    assert!(matches!(
        llm.complete(&hello, None, &schema).await,
        Err(CallError::Connector(ConnectorError::Validation(_)))
    ));
    assert_eq!(
        mock.generate_requests().len(),
        before,
        "invalid input is refused before sending"
    );
}
