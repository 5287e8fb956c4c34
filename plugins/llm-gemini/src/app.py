"""Google Gemini: chat completions with tools, and the model list."""

import json
import uuid
from typing import List, Optional
from urllib.parse import quote

from patchbay_sdk import CONTRACT_VERSION, config, errors
from wit_world import exports
from wit_world.exports import connector
from wit_world.imports import llm_types, types

import gemini

PAGE_SIZE = 50


class Connector(exports.Connector):
    def manifest(self) -> connector.PluginManifest:
        return connector.PluginManifest(
            name="gemini",
            family=connector.Family.LLM,
            display_name="Google Gemini",
            description="Chat completions with tools and JSON output from Google's Gemini API (v1beta).",
            version="0.1.0",
            contract_version=CONTRACT_VERSION,
            credentials=[
                connector.CredentialField(
                    "api_key", "API key", True, True, None, [], "From Google AI Studio: Get API key."
                )
            ],
            settings=[
                connector.SettingField(
                    "default_model", "Default model", connector.SettingType.TEXT, False,
                    gemini.DEFAULT_MODEL, [], "Used when a call names no model.",
                ),
                connector.SettingField(
                    "api_base", "API base URL", connector.SettingType.URL, False,
                    gemini.DEFAULT_API_BASE, [], "Only for testing against a mock server.",
                ),
            ],
            auth=connector.AuthSpec(connector.AuthStrategy.API_KEY, None),
            allowed_hosts=["https://generativelanguage.googleapis.com", "{{setting.api_base}}"],
            # The free tier allows 15 requests a minute on flash models; paid tiers far more.
            rate_limit=connector.RateLimitHint(15.0, 30),
            retry=connector.RetryHint(3, [429, 500, 502, 503, 504]),
            webhooks=None,
        )

    @errors.guard
    def test_connection(self) -> types.ConnectionTest:
        try:
            page = gemini.call("GET", "/models", query={"pageSize": 1})
        except errors.ConnectorError as error:
            if errors.kind(error) == "auth":
                return types.ConnectionTest(False, f"Gemini refused the API key: {error.value.value}", "{}")
            raise
        first = (page.get("models") or [{}])[0].get("name", "")
        return types.ConnectionTest(True, "Connected to the Gemini API", json.dumps({"first_model": first}))


class Llm(exports.Llm):
    @errors.guard
    def complete(
        self,
        messages: List[llm_types.ChatMessage],
        model: Optional[str],
        options: llm_types.CompletionOptions,
    ) -> llm_types.LlmResponse:
        name = (model or config.get("default_model") or gemini.DEFAULT_MODEL).removeprefix("models/")
        body = gemini.contents(messages)
        body.update(gemini.generation(options))
        # generateContent has no side effects, so the host may retry it (503
        # "model overloaded" is common); a key is what marks a POST retryable.
        answer = gemini.call("POST", f"/models/{quote(name, safe='.-_')}:generateContent", json=body,
                             idempotency_key=uuid.uuid4().hex)
        return gemini.response(answer, name)

    @errors.guard
    def list_models(self) -> List[llm_types.ModelInfo]:
        models: List[llm_types.ModelInfo] = []
        token = None
        while True:
            page = gemini.call("GET", "/models", query={"pageSize": PAGE_SIZE, "pageToken": token})
            models.extend(gemini.model_info(m) for m in page.get("models") or [])
            token = page.get("nextPageToken")
            if not token:
                return models
