"""Structured logs; the host scrubs secrets and caps records per call."""

from wit_world.imports import log as host


def _write(level: host.Level, message: str, fields: dict) -> None:
    host.write(level, message, [host.Field(k, str(v)) for k, v in fields.items()])


def debug(message: str, **fields) -> None:
    _write(host.Level.DEBUG, message, fields)


def info(message: str, **fields) -> None:
    _write(host.Level.INFO, message, fields)


def warn(message: str, **fields) -> None:
    _write(host.Level.WARN, message, fields)


def error(message: str, **fields) -> None:
    _write(host.Level.ERROR, message, fields)
