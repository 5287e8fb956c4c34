"""The connection's settings and non-secret credentials."""

from typing import Optional

from componentize_py_types import Err
from wit_world.imports import config as host

from . import errors


def get(name: str) -> Optional[str]:
    """A setting or non-secret credential, or ``None`` when unset."""
    try:
        return host.get(name)
    except Err as error:
        raise errors.config(f"cannot read {name}: {getattr(error.value, 'value', error.value)}")


def require(name: str) -> str:
    """A required setting; a missing one is a ``config`` error."""
    value = get(name)
    if not value:
        raise errors.config(f"the setting {name} is required")
    return value
