//! The Anthropic plugin through the host, against aimock (npm
//! `@copilotkit/aimock`, `tests/with-llm-server.sh`): the key in
//! `x-api-key` and `anthropic-version` on every request, system prompts,
//! tools and their results, a JSON answer through a forced tool, `529
//! overloaded` retried by the host, a stream of typed events delivered chunk
//! by chunk, and Anthropic's errors.

use patchbay::types::{ChatRole, ConnectorError, ToolDefinition};
use patchbay::{CallError, Connection, Credentials, Host, Settings};
use serde_json::{Value, json};

use crate::support::{LLM_KEY as KEY, host, journal, llm_server, no_options, say, stream_to_the_end};

const MESSAGES: &str = "/v1/messages";

async fn anthropic(key: &str) -> (Host, Connection) {
    let host = host().await;
    let connection = host
        .connect(
            "llm/anthropic",
            Credentials::from([("api_key", key)]),
            Settings::from([("api_base".to_string(), format!("{}/v1", llm_server()))]),
        )
        .unwrap();
    (host, connection)
}

#[tokio::test]
async fn messages_with_system_prompts_tools_and_json_answers() {
    let (_host, conn) = anthropic(KEY).await;
    assert!(conn.test().await.unwrap().success);
    let (_host2, wrong) = anthropic("sk-ant-wrong").await;
    let refused = wrong.test().await.unwrap();
    assert!(!refused.success, "{refused:?}");

    let llm = conn.llm().unwrap();
    let answer = llm
        .complete(
            &[
                say(ChatRole::System, "Be brief."),
                say(ChatRole::User, "patchbay: say hello"),
            ],
            Some("claude-haiku-4-5"),
            &no_options(),
        )
        .await
        .unwrap();
    assert_eq!(answer.content, "Hello from the mock.");
    assert_eq!(
        answer.finish_reason.as_deref(),
        Some("stop"),
        "end_turn in the contract's words"
    );
    assert!(answer.usage.is_some(), "{answer:?}");
    let sent = journal(MESSAGES, "patchbay: say hello")
        .await
        .pop()
        .expect("the request reached /v1/messages");
    assert_eq!(sent["headers"]["anthropic-version"], "2023-06-01");
    // aimock's journal keeps the request in OpenAI's shape: the system
    // prompt it read is the first message.
    assert_eq!(
        sent["body"]["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent["body"]["max_tokens"], 4096, "the connection's default limit");
    assert_eq!(sent["body"]["model"], "claude-haiku-4-5");

    let mut tools = no_options();
    tools.tools.push(ToolDefinition {
        name: "get_weather".into(),
        description: "The weather of a city".into(),
        parameters_json: r#"{"type":"object","properties":{"city":{"type":"string"}}}"#.into(),
    });
    tools.tool_choice = Some("required".into());
    let mut conversation = vec![say(ChatRole::User, "patchbay: weather in Paris")];
    let call = llm.complete(&conversation, None, &tools).await.unwrap();
    assert_eq!(call.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(call.tool_calls.len(), 1, "{call:?}");
    assert_eq!(call.tool_calls[0].name, "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(&call.tool_calls[0].arguments_json).unwrap(),
        json!({"city": "Paris"})
    );
    let mut assistant = say(ChatRole::Assistant, "");
    assistant.tool_calls = call.tool_calls.clone();
    let mut result = say(ChatRole::Tool, "18 C");
    result.tool_call_id = Some(call.tool_calls[0].id.clone());
    conversation.extend([assistant, result]);
    let answer = llm.complete(&conversation, None, &tools).await.unwrap();
    assert_eq!(answer.content, "It is 18 C in Paris.");
    let last = journal(MESSAGES, "patchbay: weather in Paris").await.pop().unwrap();
    assert_eq!(last["body"]["tools"][0]["function"]["name"], "get_weather");

    let mut json_answer = no_options();
    json_answer.response_schema = Some(r#"{"type":"object","properties":{"name":{"type":"string"}}}"#.into());
    let answer = llm
        .complete(&[say(ChatRole::User, "patchbay: anthropic json")], None, &json_answer)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&answer.content).unwrap(),
        json!({"name": "Ada", "age": 36})
    );
    assert!(
        answer.tool_calls.is_empty(),
        "the forced tool is the answer, not a call"
    );
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));

    let bad = llm
        .complete(&[say(ChatRole::User, "patchbay: bad request")], None, &no_options())
        .await
        .unwrap_err();
    assert!(
        matches!(bad, CallError::Connector(ConnectorError::Validation(_))),
        "{bad:?}"
    );
}

#[tokio::test]
async fn overloaded_529_is_retried_by_the_host() {
    let (_host, conn) = anthropic(KEY).await;
    let answer = conn
        .llm()
        .unwrap()
        .complete(&[say(ChatRole::User, "patchbay: overloaded")], None, &no_options())
        .await
        .unwrap();
    assert_eq!(answer.content, "Answered after the overload.");
    let attempts = journal(MESSAGES, "patchbay: overloaded").await;
    assert_eq!(attempts.len(), 2, "one 529, one answer");
    assert_eq!(attempts[0]["response"]["status"], 529);
    assert_eq!(
        attempts[0]["headers"]["idempotency-key"], attempts[1]["headers"]["idempotency-key"],
        "the retry is the same request"
    );
}

#[tokio::test]
async fn a_streamed_message_reaches_the_caller_event_by_event() {
    let (_host, conn) = anthropic(KEY).await;
    let answer = stream_to_the_end(conn, "patchbay: slow story").await;
    assert!(answer.content.starts_with("Once upon a time"));
    assert!(!journal(MESSAGES, "patchbay: slow story").await.is_empty());
}
