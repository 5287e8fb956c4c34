"""The contract's ``connector-error``, raised as componentize-py's ``Err``.

Statuses map the same way in every Patchbay SDK: 401/403 ``auth``, 404
``not-found``, 429 ``rate-limited``, other 4xx ``permanent``, 5xx ``provider``.
"""

import functools
import math
from typing import Optional

from componentize_py_types import Err
from wit_world.imports import types

ConnectorError = Err
"""What an operation raises to fail: ``Err(<connector-error case>)``."""


def auth(message: str) -> Err:
    """The credentials were refused or are missing."""
    return Err(types.ConnectorError_Auth(message))


def config(message: str) -> Err:
    """The connection's settings or credentials are malformed."""
    return Err(types.ConnectorError_Config(message))


def validation(message: str) -> Err:
    """The operation's input is invalid; nothing was sent."""
    return Err(types.ConnectorError_Validation(message))


def rate_limited(retry_after: Optional[float] = None) -> Err:
    """The provider asked to slow down; ``retry_after`` in seconds when known."""
    seconds = None if retry_after is None else max(0, math.ceil(retry_after))
    return Err(types.ConnectorError_RateLimited(seconds))


def provider(message: str, status: Optional[int] = None) -> Err:
    """A transient provider failure; retrying later may succeed."""
    return Err(types.ConnectorError_Provider(types.ProviderFailure(status, message)))


def permanent(message: str, status: Optional[int] = None) -> Err:
    """A failure that retrying will not fix."""
    return Err(types.ConnectorError_Permanent(types.ProviderFailure(status, message)))


def not_found(message: str) -> Err:
    """The thing asked for does not exist."""
    return Err(types.ConnectorError_NotFound(message))


def unsupported(message: str) -> Err:
    """The provider or this plugin cannot do that."""
    return Err(types.ConnectorError_Unsupported(message))


def from_status(status: int, message: str, retry_after: Optional[float] = None) -> Err:
    """Maps an HTTP status the same way every Patchbay SDK does."""
    if status in (401, 403):
        return auth(message)
    if status == 404:
        return not_found(message)
    if status == 429:
        return rate_limited(retry_after)
    if 400 <= status < 500:
        return permanent(message, status)
    return provider(message, status)


def kind(error: Err) -> str:
    """The case of a connector error: ``auth``, ``not-found``, ``provider``, ..."""
    name = type(error.value).__name__.removeprefix("ConnectorError_")
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def guard(operation, context: str = "unexpected error in the plugin"):
    """Decorates a function: an exception that is not a connector error (a
    bug) becomes a ``permanent`` error, its message after ``context``. Every
    export already runs this way (``patchbay_sdk.exports.call``); use it for
    code called another way."""

    @functools.wraps(operation)
    def guarded(*args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except Err:
            raise
        except Exception as error:  # a bug in the plugin, reported typed
            raise permanent(f"{context}: {type(error).__name__}: {error}") from error

    return guarded


def is_retryable(error: Err) -> bool:
    """Whether trying again later may succeed: ``rate-limited`` and ``provider``."""
    return kind(error) in ("rate-limited", "provider")
