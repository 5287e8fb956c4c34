//! Shared helpers: where the built plugins are, and hosts wired to mocks.

use std::path::{Path, PathBuf};

use patchbay::{Connection, Credentials, Host, HostBuilder, Limits, Settings};
use patchbay_tests::woocommerce::MockShop;
use serde_json::Value;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// `target/plugins`, where `just build-plugins` writes the plugins.
pub fn plugins_dir() -> PathBuf {
    let dir = std::env::var_os("PATCHBAY_TEST_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/plugins"));
    assert!(
        dir.join("shop-woocommerce.wasm").is_file(),
        "{} has no shop-woocommerce.wasm: run `just build-plugins` first (`just test` does)",
        dir.display()
    );
    dir
}

/// A plugin file by name.
pub fn plugin(name: &str) -> PathBuf {
    plugins_dir().join(format!("{name}.wasm"))
}

/// A host builder for tests: a small pool, loopback allowed (mocks run
/// there), and compiled plugins cached in `target/test-compile-cache`, shared
/// by every test process: the JavaScript and Python components take seconds
/// to compile and milliseconds to load.
pub fn builder() -> HostBuilder {
    Host::builder()
        .limits(Limits {
            pool_instances: 16,
            ..Limits::default()
        })
        .allow_private_network(true)
        .compile_cache(workspace().join("target/test-compile-cache"))
}

/// A host over the built plugins.
pub async fn host() -> Host {
    builder().plugins_dir(plugins_dir()).build().await.expect("host builds")
}

/// Settings pointing WooCommerce at the mock.
pub fn shop_settings(shop: &MockShop) -> Settings {
    Settings::from([("domain".to_string(), shop.url())])
}

/// The mock's valid credentials.
pub fn shop_credentials(shop: &MockShop) -> Credentials {
    Credentials::from([
        ("consumer_key", shop.config.consumer_key.as_str()),
        ("consumer_secret", shop.config.consumer_secret.as_str()),
    ])
}

/// A WooCommerce connection to the mock.
pub fn woo(host: &Host, shop: &MockShop) -> Connection {
    host.connect("shop/woocommerce", shop_credentials(shop), shop_settings(shop))
        .expect("connects")
}

/// A plain chat message `id` to `to`, nothing but its body.
pub fn outbound(id: &str, to: &[&str], body: &str) -> patchbay::types::OutboundMessage {
    patchbay::types::OutboundMessage {
        message_id: id.into(),
        channel: patchbay::types::Channel::Chat,
        to: to.iter().map(|s| s.to_string()).collect(),
        reply_to: None,
        subject: None,
        body: body.into(),
        html_body: None,
        template_id: None,
        template_vars: Vec::new(),
        attachments: Vec::new(),
    }
}

/// A chat message with only a role and content.
pub fn say(role: patchbay::types::ChatRole, content: &str) -> patchbay::types::ChatMessage {
    patchbay::types::ChatMessage {
        role,
        content: content.into(),
        name: None,
        tool_call_id: None,
        tool_calls: Vec::new(),
    }
}

/// Completion options with nothing set.
pub fn no_options() -> patchbay::types::CompletionOptions {
    patchbay::types::CompletionOptions {
        temperature: None,
        max_tokens: None,
        top_p: None,
        stop: Vec::new(),
        tools: Vec::new(),
        tool_choice: None,
        response_schema: None,
        extra: String::new(),
    }
}

/// The key aimock accepts (`tests/aimock/server.mjs`).
pub const LLM_KEY: &str = "sk-patchbay-test-key-0123456789";

/// aimock's base URL (`tests/with-llm-server.sh`).
pub fn llm_server() -> String {
    std::env::var("PATCHBAY_LLM_SERVER").expect(
        "PATCHBAY_LLM_SERVER is not set: run the tests through `just test` \
         (tests/with-llm-server.sh starts aimock)",
    )
}

/// The requests to `path` aimock received whose body mentions `needle`
/// (its journal keeps bodies as it read them: OpenAI's raw, others in
/// OpenAI's shape).
pub async fn journal(path: &str, needle: &str) -> Vec<Value> {
    let entries: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/__aimock/journal", llm_server()))
        .bearer_auth(LLM_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    entries
        .into_iter()
        .filter(|entry| entry["path"] == path && entry["body"].to_string().contains(needle))
        .collect()
}

/// A streamed completion of `prompt` running on `conn`: the call, and the
/// chunks as they arrive.
pub fn start_stream(
    conn: Connection,
    prompt: &str,
) -> (
    tokio::task::JoinHandle<Result<patchbay::types::LlmResponse, patchbay::CallError>>,
    tokio::sync::mpsc::UnboundedReceiver<patchbay::types::StreamChunk>,
) {
    let (sink, chunks) = tokio::sync::mpsc::unbounded_channel();
    let ask = vec![say(patchbay::types::ChatRole::User, prompt)];
    let call = tokio::spawn(async move {
        conn.streaming()
            .expect("the plugin streams")
            .stream_complete(&ask, None, &no_options(), sink)
            .await
    });
    (call, chunks)
}

/// Streams `prompt` to the end and checks what a caller sees: the first
/// chunk arrives while the call still runs, the chunks' text is the
/// answer's, and the last chunk says why it ended. The answer.
pub async fn stream_to_the_end(conn: Connection, prompt: &str) -> patchbay::types::LlmResponse {
    let (call, mut chunks) = start_stream(conn, prompt);
    let first = chunks.recv().await.expect("a first chunk");
    assert!(
        !call.is_finished(),
        "the first chunk arrived only after the whole answer"
    );
    let mut text = first.content_delta.clone();
    let mut count = 1;
    let mut last = first;
    while let Some(chunk) = chunks.recv().await {
        text.push_str(&chunk.content_delta);
        count += 1;
        last = chunk;
    }
    let answer = call.await.unwrap().unwrap();
    assert!(count > 5, "{count} chunks");
    assert_eq!(text, answer.content);
    assert_eq!(
        last.finish_reason.as_deref(),
        Some("stop"),
        "the last chunk says why it ended"
    );
    answer
}

pub use patchbay_tests::files::generated;

/// The process's resident memory: now, and its peak so far, in bytes.
pub fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The size of the large-file round trip: 2 GiB, or PATCHBAY_LARGE_FILE_MB.
pub fn large_size() -> u64 {
    std::env::var("PATCHBAY_LARGE_FILE_MB")
        .ok()
        .and_then(|mb| mb.parse::<u64>().ok())
        .unwrap_or(2048)
        * 1024
        * 1024
}
