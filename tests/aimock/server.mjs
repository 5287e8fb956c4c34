// aimock (https://github.com/CopilotKit/aimock) on loopback, serving the
// OpenAI and Anthropic shapes, plain and streamed, from the fixtures below.
// Each test asks with its own "patchbay: ..." message, so tests sharing the
// server never match each other's fixtures. Requests must carry the test
// key (Authorization: Bearer, or x-api-key). Writes the base URL (no /v1)
// to the file named by the first argument.
import { writeFileSync } from "node:fs";
import { LLMock } from "@copilotkit/aimock";

export const API_KEY = "sk-patchbay-test-key-0123456789";

const mock = new LLMock({ port: 0, host: "127.0.0.1", auth: { apiKeys: [API_KEY] }, logLevel: "warn" });

mock.onMessage("patchbay: say hello", { content: "Hello from the mock." });

// A tool call, then the answer once the tool's result is in the conversation.
mock.on({ userMessage: "patchbay: weather in Paris", hasToolResult: false }, {
    toolCalls: [{ id: "call_weather_1", name: "get_weather", arguments: { city: "Paris" } }],
});
mock.on({ userMessage: "patchbay: weather in Paris", hasToolResult: true }, { content: "It is 18 C in Paris." });

mock.on({ userMessage: "patchbay: structured", responseFormat: "json_schema" }, { content: '{"name":"Ada","age":36}' });

// A JSON answer through Anthropic's forced tool.
mock.on({ userMessage: "patchbay: anthropic json", toolName: "respond_with_json" }, {
    toolCalls: [{ id: "toolu_json_1", name: "respond_with_json", arguments: { name: "Ada", age: 36 } }],
});

// A long answer streamed at 20 tokens a second: the caller must see the first
// tokens long before the last ones leave the server.
mock.onMessage(
    "patchbay: slow story",
    {
        content:
            "Once upon a time a small plugin carried every token to its caller the moment it arrived, " +
            "and nobody had to wait for the end of the story to read its beginning. The caller read along, " +
            "line by line, while the rest of the story was still being written far away.",
    },
    { streamingProfile: { ttft: 50, tps: 20 } },
);

// A stream cut off after three chunks.
mock.onMessage("patchbay: cut short", { content: "This answer will never reach its final word because the line drops." }, { truncateAfterChunks: 3 });

// OpenAI's 429 with Retry-After and its x-ratelimit-* headers (tokens exhausted for 6 minutes).
mock.on({ userMessage: "patchbay: rate limited" }, { error: { message: "Rate limit reached for requests", type: "rate_limit_error", code: "rate_limit_exceeded" }, status: 429 });

// Anthropic's 529 overloaded once, then an answer.
mock.on({ userMessage: "patchbay: overloaded", sequenceIndex: 0 }, { error: { message: "Overloaded", type: "overloaded_error" }, status: 529 });
mock.on({ userMessage: "patchbay: overloaded", sequenceIndex: 1 }, { content: "Answered after the overload." });

mock.onMessage("patchbay: bad request", { error: { message: "Invalid value for 'temperature'", type: "invalid_request_error", param: "temperature", code: "invalid_value" }, status: 400 });

mock.onEmbedding("patchbay: first text", { embedding: [0.25, -0.5, 1.0] });

mock.addFixture({
    match: { endpoint: "image" },
    response: { images: [{ url: "https://images.example/1.png", revisedPrompt: "A red bicycle, studio light" }, { b64Json: "iVBORw0KGgo=" }] },
});

mock.addFixture({
    match: { endpoint: "transcription" },
    response: { transcription: { text: "Patchbay carries the audio.", language: "english", duration: 2.5 } },
});

await mock.start();
writeFileSync(process.argv[2], mock.url);
process.on("SIGTERM", async () => {
    await mock.stop();
    process.exit(0);
});
