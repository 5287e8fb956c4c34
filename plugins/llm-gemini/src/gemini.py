"""Gemini's REST API (v1beta): requests, errors, and the mapping between the
contract's chat types and Gemini's ``contents``.

https://ai.google.dev/api/generate-content
"""

import json
from typing import Any, Dict, List, Optional

from patchbay_sdk import errors, http
from patchbay_sdk.client import Client
from wit_world.imports import llm_types

DEFAULT_API_BASE = "https://generativelanguage.googleapis.com/v1beta"
DEFAULT_MODEL = "gemini-2.0-flash"

# Gemini's `google.rpc` reasons that mean the key itself is wrong.
AUTH_REASONS = {"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED"}


def error(response: http.Response) -> Optional[errors.ConnectorError]:
    """Gemini's ``{"error": {"code", "message", "status", "details"}}``."""
    try:
        body = response.json().get("error") or {}
    except Exception:
        body = {}
    if not isinstance(body, dict) or not body:
        return None
    message = f"HTTP {response.status}: {body.get('message', '')} ({body.get('status', 'UNKNOWN')})"
    details = body.get("details") or []
    reasons = {d.get("reason") for d in details if isinstance(d, dict)}
    if reasons & AUTH_REASONS:
        return errors.auth(message)
    if response.status == 429:
        delay = next((d.get("retryDelay") for d in details if isinstance(d, dict) and "retryDelay" in d), None)
        return errors.rate_limited(_seconds(delay) if delay else response.retry_after())
    return errors.from_status(response.status, message, response.retry_after())


# The API, with `x-goog-api-key: <api_key>` filled in by the host.
API = Client(setting="api_base", default=DEFAULT_API_BASE, auth=http.auth.header("x-goog-api-key", "api_key"),
             errors=error)


def _seconds(duration: str) -> Optional[float]:
    """A protobuf ``Duration`` as JSON: ``"30s"``, ``"1.5s"``."""
    try:
        return float(duration.rstrip("s"))
    except (AttributeError, ValueError):
        return None


def _json_object(text: str, what: str) -> Dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError as exc:
        raise errors.validation(f"{what} is not JSON: {exc}")
    return value


def contents(messages: List[llm_types.ChatMessage]) -> Dict[str, Any]:
    """``systemInstruction`` and ``contents`` from the conversation."""
    system: List[str] = []
    turns: List[Dict[str, Any]] = []
    names: Dict[str, str] = {}  # tool-call id -> function name
    for index, message in enumerate(messages):
        role = message.role
        if role == llm_types.ChatRole.SYSTEM:
            system.append(message.content)
            continue
        if role == llm_types.ChatRole.USER:
            turn = {"role": "user", "parts": [{"text": message.content}]}
        elif role == llm_types.ChatRole.ASSISTANT:
            parts: List[Dict[str, Any]] = [{"text": message.content}] if message.content else []
            for call_ in message.tool_calls:
                names[call_.id] = call_.name
                args = _json_object(call_.arguments_json, f"the arguments of tool call {call_.id}")
                parts.append({"functionCall": {"name": call_.name, "args": args}})
            turn = {"role": "model", "parts": parts}
        else:
            name = message.name or names.get(message.tool_call_id or "")
            if not name:
                raise errors.validation(
                    f"message {index}: a tool result needs `name` or a `tool-call-id` of an earlier tool call"
                )
            try:
                result = json.loads(message.content)
            except ValueError:
                result = message.content
            response = result if isinstance(result, dict) else {"result": result}
            part = {"functionResponse": {"name": name, "response": response}}
            turn = {"role": "user", "parts": [part]}
        if not turn["parts"]:
            raise errors.validation(f"message {index} is empty")
        # Consecutive turns of the same role are one turn for Gemini.
        if turns and turns[-1]["role"] == turn["role"]:
            turns[-1]["parts"].extend(turn["parts"])
        else:
            turns.append(turn)
    if not turns:
        raise errors.validation("the conversation has no user message")
    body: Dict[str, Any] = {"contents": turns}
    if system:
        body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    return body


def generation(options: llm_types.CompletionOptions) -> Dict[str, Any]:
    """``generationConfig``, ``tools`` and ``toolConfig`` from the options."""
    config_: Dict[str, Any] = {}
    if options.temperature is not None:
        config_["temperature"] = round(options.temperature, 4)
    if options.max_tokens is not None:
        config_["maxOutputTokens"] = options.max_tokens
    if options.top_p is not None:
        config_["topP"] = round(options.top_p, 4)
    if options.stop:
        config_["stopSequences"] = list(options.stop)
    if options.response_schema:
        config_["responseMimeType"] = "application/json"
        config_["responseSchema"] = _json_object(options.response_schema, "response-schema")
    body: Dict[str, Any] = {}
    if config_:
        body["generationConfig"] = config_
    if options.tools:
        body["tools"] = [{
            "functionDeclarations": [
                {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": _json_object(tool.parameters_json, f"the parameters of tool {tool.name}"),
                }
                for tool in options.tools
            ]
        }]
    choice = options.tool_choice
    if choice:
        modes = {"auto": "AUTO", "none": "NONE", "required": "ANY", "any": "ANY"}
        if choice in modes:
            body["toolConfig"] = {"functionCallingConfig": {"mode": modes[choice]}}
        else:
            body["toolConfig"] = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}
    extra = _json_object(options.extra, "extra") if options.extra else {}
    if not isinstance(extra, dict):
        raise errors.validation("extra must be a JSON object")
    body.update(extra)  # e.g. safetySettings, cachedContent
    return body


def response(body: Dict[str, Any], model: str) -> llm_types.LlmResponse:
    """The first candidate as the contract's response."""
    candidates = body.get("candidates") or []
    if not candidates:
        blocked = (body.get("promptFeedback") or {}).get("blockReason")
        if blocked:
            raise errors.permanent(f"Gemini blocked the prompt: {blocked}")
        raise errors.provider("Gemini returned no candidate")
    candidate = candidates[0]
    texts: List[str] = []
    calls: List[llm_types.ToolCall] = []
    for part in (candidate.get("content") or {}).get("parts") or []:
        if "text" in part and not part.get("thought"):
            texts.append(part["text"])
        elif "functionCall" in part:
            call_ = part["functionCall"]
            calls.append(llm_types.ToolCall(
                call_.get("id") or f"call_{len(calls)}",
                call_["name"],
                json.dumps(call_.get("args") or {}, separators=(",", ":")),
            ))
    usage = body.get("usageMetadata")
    tokens = None
    if usage:
        prompt = usage.get("promptTokenCount", 0)
        completion = usage.get("candidatesTokenCount", 0)
        tokens = llm_types.TokenUsage(prompt, completion, usage.get("totalTokenCount", prompt + completion))
    reason = candidate.get("finishReason")
    return llm_types.LlmResponse(
        "".join(texts),
        body.get("modelVersion") or model,
        tokens,
        reason.lower() if reason else None,
        calls,
    )


def model_info(model: Dict[str, Any]) -> llm_types.ModelInfo:
    methods = model.get("supportedGenerationMethods") or []
    capabilities = []
    if "generateContent" in methods:
        capabilities += ["chat", "tools"]
    if "embedContent" in methods:
        capabilities.append("embedding")
    if "countTokens" in methods:
        capabilities.append("count-tokens")
    return llm_types.ModelInfo(
        model["name"].removeprefix("models/"),
        model.get("displayName") or model["name"],
        model.get("inputTokenLimit"),
        capabilities,
    )
