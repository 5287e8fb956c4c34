"""Google Gemini: chat completions with tools, and the model list. The
manifest is patchbay.toml; the build routes the exports here."""

import json
import uuid
from typing import List, Optional
from urllib.parse import quote

from patchbay_sdk import config
from patchbay_sdk.client import connected
from wit_world.imports import llm_types, types

import gemini

PAGE_SIZE = 50


class Connector:
    def test_connection(self) -> types.ConnectionTest:
        def found(response) -> types.ConnectionTest:
            first = (response.json().get("models") or [{}])[0].get("name", "")
            return connected("Connected to the Gemini API", json.dumps({"first_model": first}))

        return gemini.API.test_connection("/models", found, query={"pageSize": 1})


class Llm:
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
        answer = gemini.API.json("POST", f"/models/{quote(name, safe='.-_')}:generateContent", json=body,
                                 idempotency_key=uuid.uuid4().hex)
        return gemini.response(answer, name)

    def list_models(self) -> List[llm_types.ModelInfo]:
        models: List[llm_types.ModelInfo] = []
        token = None
        while True:
            page = gemini.API.json("GET", "/models", query={"pageSize": PAGE_SIZE, "pageToken": token})
            models.extend(gemini.model_info(m) for m in page.get("models") or [])
            token = page.get("nextPageToken")
            if not token:
                return models
