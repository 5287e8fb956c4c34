"""HTTP through the host: the contract's ``http.send``.

The host adds credentials (the plugin names the field, never sees the
secret), checks the allowlist, rate-limits, retries and times out.
"""

import json as jsonlib
from typing import Any, Dict, List, Optional, Union
from urllib.parse import urlencode

from componentize_py_types import Err
from wit_world.imports import http as host
from wit_world.imports import types

from . import errors

_METHODS = {
    "GET": host.Method_Get(),
    "HEAD": host.Method_Head(),
    "POST": host.Method_Post(),
    "PUT": host.Method_Put(),
    "PATCH": host.Method_Patch(),
    "DELETE": host.Method_Delete(),
    "OPTIONS": host.Method_Options(),
}


class auth:
    """How the host authenticates a request; names are credential fields."""

    @staticmethod
    def basic(user_field: str, password_field: str) -> host.Auth:
        return host.Auth_Basic(host.BasicAuth(user_field, password_field))

    @staticmethod
    def bearer(field: str) -> host.Auth:
        return host.Auth_Bearer(field)

    @staticmethod
    def header(name: str, field: str, prefix: Optional[str] = None) -> host.Auth:
        return host.Auth_Header(host.HeaderAuth(name, field, prefix))

    @staticmethod
    def query(param: str, field: str) -> host.Auth:
        return host.Auth_Query(host.QueryAuth(param, field))

    @staticmethod
    def oauth2() -> host.Auth:
        return host.Auth_Oauth2()


class Response:
    """A response from the provider."""

    def __init__(self, status: int, headers: List[types.Header], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> Optional[str]:
        """The first value of a header, compared case-insensitively."""
        lower = name.lower()
        return next((h.value for h in self.headers if h.name.lower() == lower), None)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a ``permanent`` error."""
        try:
            return jsonlib.loads(self.body)
        except ValueError as error:
            raise errors.permanent(f"the provider's response is not the expected JSON: {error}", self.status)

    def retry_after(self) -> Optional[float]:
        """``Retry-After`` in seconds, when given as a number."""
        try:
            value = float(self.header("retry-after") or "")
        except ValueError:
            return None
        return value if value >= 0 else None

    def error_message(self) -> str:
        """The provider's own message from common JSON shapes, else the start of the body."""
        text = self.text()
        try:
            value = jsonlib.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            error = value.get("error")
            first = (value.get("errors") or [None])[0] if isinstance(value.get("errors"), list) else None
            for candidate in (
                value.get("message"),
                error.get("message") if isinstance(error, dict) else None,
                value.get("error_description"),
                error,
                first.get("message") if isinstance(first, dict) else None,
                value.get("description"),
            ):
                if isinstance(candidate, str):
                    return f"HTTP {self.status}: {candidate}"
        snippet = text[:300].strip()
        return f"HTTP {self.status}: {snippet}" if snippet else f"HTTP {self.status}"

    def error_for_status(self) -> "Response":
        """Passes 2xx through; raises ``errors.from_status`` for any other status."""
        if self.ok:
            return self
        raise errors.from_status(self.status, self.error_message(), self.retry_after())


def from_http_error(error: Any) -> Err:
    """Maps the host's ``http-error`` the same way the Rust SDK does."""
    if isinstance(error, host.HttpError_Denied):
        return errors.permanent(f"denied by host policy: {error.value}")
    if isinstance(error, host.HttpError_Timeout):
        return errors.provider(f"timed out: {error.value}")
    if isinstance(error, host.HttpError_Connection):
        return errors.provider(f"connection failed: {error.value}")
    if isinstance(error, host.HttpError_TooLarge):
        return errors.permanent(f"response larger than the host's limit of {error.value} bytes")
    if isinstance(error, host.HttpError_RateLimited):
        return errors.rate_limited(error.value)
    if isinstance(error, host.HttpError_CircuitOpen):
        return errors.provider(f"circuit open: {error.value}")
    return errors.validation(f"invalid request: {getattr(error, 'value', error)}")


def request(
    method: str,
    url: str,
    *,
    headers: Optional[Dict[str, str]] = None,
    query: Optional[Dict[str, Any]] = None,
    json: Any = None,
    body: Union[bytes, str, None] = None,
    auth: Optional[host.Auth] = None,
    timeout_ms: Optional[int] = None,
    idempotency_key: Optional[str] = None,
    no_retry: bool = False,
) -> Response:
    """Sends a request through the host and returns the response whatever
    its status (``error_for_status()`` maps error statuses). A request the
    host could not complete raises a connector error."""
    header_list = [types.Header(k, v) for k, v in (headers or {}).items()]
    payload: Optional[bytes]
    if json is not None:
        payload = jsonlib.dumps(json, separators=(",", ":")).encode()
        if not any(h.name.lower() == "content-type" for h in header_list):
            header_list.append(types.Header("content-type", "application/json"))
    elif isinstance(body, str):
        payload = body.encode()
    else:
        payload = body
    if query:
        pairs = {k: v for k, v in query.items() if v is not None}
        if pairs:
            url += ("&" if "?" in url else "?") + urlencode(pairs)
    options = None
    if timeout_ms is not None or idempotency_key is not None or no_retry:
        retry = host.RetryMode.NEVER if no_retry else host.RetryMode.AUTOMATIC
        options = host.RequestOptions(timeout_ms, retry, idempotency_key)
    if method.upper() not in _METHODS:
        raise errors.validation(f"unsupported method {method!r}")
    try:
        response = host.send(host.Request(_METHODS[method.upper()], url, header_list, payload, auth, options))
    except Err as error:
        raise from_http_error(error.value)
    return Response(response.status, response.headers, response.body)


def request_json(method: str, url: str, **kwargs: Any) -> Any:
    """Sends a request and decodes a 2xx JSON body; other statuses raise."""
    headers = {"accept": "application/json", **(kwargs.pop("headers", None) or {})}
    return request(method, url, headers=headers, **kwargs).error_for_status().json()
