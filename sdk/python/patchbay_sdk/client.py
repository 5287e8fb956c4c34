"""A provider's REST client: base URL, authentication, default headers and
the provider's error body said once; each call is then a path, its
parameters, and the JSON back.

    api = Client(setting="api_base", default="https://api.example.com/v1",
                 auth=http.auth.bearer("api_key"), errors=my_error_mapper)
    orders = api.json("GET", "/orders", query={"limit": 50})
"""

from typing import Any, Callable, Dict, Optional

from wit_world.imports import types

from . import config, errors, http

ErrorMapper = Callable[[http.Response], Optional[errors.ConnectorError]]
"""Reads a provider's error response when its body says more than the status
(a code meaning bad credentials, a retry delay); ``None`` leaves it to the
status table."""


class Client:
    """A provider's API."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        *,
        setting: Optional[str] = None,
        default: Optional[str] = None,
        auth: Optional[Any] = None,
        headers: Optional[Dict[str, str]] = None,
        errors: Optional[ErrorMapper] = None,
    ):
        """The base URL is ``base_url``, else the ``setting`` (a bare host
        name means HTTPS), else ``default``."""
        self._base_url = base_url
        self._setting = setting
        self._default = default
        self.auth = auth
        self.headers = {"accept": "application/json", **(headers or {})}
        self.errors = errors

    @property
    def base(self) -> str:
        """The base URL, read when first needed (settings exist only in a call)."""
        value = self._base_url
        if value is None and self._setting is not None:
            value = config.get(self._setting) or None
        if value is None:
            value = self._default
        if not value or not value.strip():
            raise errors.config(f"the setting {self._setting!r} is required" if self._setting else "no base URL")
        value = value.strip().rstrip("/")
        return value if "://" in value else f"https://{value}"

    def url(self, path: str) -> str:
        """``path`` relative to the base, or a full URL of the same API."""
        return path if "://" in path else f"{self.base}/{path.lstrip('/')}" if path else self.base

    def send(self, method: str, path: str, *, headers: Optional[Dict[str, str]] = None, **kwargs: Any) -> http.Response:
        """Sends a request; a non-2xx response raises, mapped by the client's
        ``errors`` and then the status table."""
        response = http.request(method, self.url(path), auth=self.auth, headers={**self.headers, **(headers or {})},
                                **kwargs)
        if response.ok:
            return response
        mapped = self.errors(response) if self.errors else None
        raise mapped if mapped is not None else errors.from_status(
            response.status, response.error_message(), response.retry_after())

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Sends a request and returns its JSON body."""
        return self.send(method, path, **kwargs).json()

    def test_connection(
        self, path: str, connected: Callable[[http.Response], types.ConnectionTest], **kwargs: Any
    ) -> types.ConnectionTest:
        """One probe request: a 2xx goes to ``connected``; refused credentials
        are ``success: false`` with the provider's message; other errors stay
        errors."""
        try:
            response = self.send(kwargs.pop("method", "GET"), path, **kwargs)
        except errors.ConnectorError as error:
            if errors.kind(error) == "auth":
                return types.ConnectionTest(False, f"the provider refused the credentials: {error.value.value}", "{}")
            raise
        return connected(response)


def connected(message: str, details: str = "{}") -> types.ConnectionTest:
    """A successful connection check."""
    return types.ConnectionTest(True, message, details)
