"""``patchbay.toml``: a plugin's manifest as a file, read and checked.

The schema is the contract's ``plugin-manifest`` record with its field names
(kebab-case), credentials and settings as tables keyed by name, and defaults
for what plugins rarely change. The Rust SDK (``sdk/macros``) and the
TypeScript build (``sdk/js/bin/manifest.mjs``) implement the same rules; all
three run the cases in ``sdk/manifest-cases/``.

``read(path, package_version)`` returns the manifest as plain data, keyed as
the contract names the fields, with every default filled in, or raises
``ManifestError`` naming the file, the key and what is wrong.
"""

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Optional

FAMILIES = ["shop", "courier", "payment", "messaging", "storage", "llm", "feed", "other"]
SETTING_TYPES = ["text", "number", "boolean", "url", "choice"]
STRATEGIES = ["none", "basic", "bearer", "api-key", "oauth2", "token-exchange", "signature", "custom"]
CLIENT_AUTH = ["basic", "body"]
FLOWS = ["authorization-code", "client-credentials"]
RETRYABLE_STATUSES = [429, 500, 502, 503, 504]
MAX_RETRIES = 3
RATE_MIN, RATE_MAX = 1e-3, 1e6
NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+([-+].*)?$")


def _q(value: Any) -> str:
    """A value quoted as the other SDKs quote it (JSON)."""
    return json.dumps(value)


class Mistake(Exception):
    """A mistake in the file: the key (``settings.domain.type``) and the problem."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class ManifestError(Exception):
    """A manifest file that cannot be used; the message names file and key."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date"


class _Reader:
    """A table being read: every key must be read, or it is an unknown key."""

    def __init__(self, table: dict, path: str):
        self.table = table
        self.path = path
        self.read: set = set()

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        self.read.add(key)
        return self.table.get(key)

    def string(self, key: str) -> Optional[str]:
        value = self.get(key)
        if value is None or isinstance(value, str):
            return value
        raise Mistake(self.key(key), f"must be a string, not {_kind(value)}")

    def required_string(self, key: str) -> str:
        value = self.string(key)
        if value is None:
            raise Mistake(self.key(key), "is missing")
        if not value.strip():
            raise Mistake(self.key(key), "must not be empty")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        raise Mistake(self.key(key), f"must be true or false, not {_kind(value)}")

    def strings(self, key: str) -> list:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise Mistake(self.key(key), f"must be an array of strings, not {_kind(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise Mistake(f"{self.key(key)}[{i}]", f"must be a string, not {_kind(item)}")
        return list(value)

    def one_of(self, key: str, choices: list, default: Optional[str]) -> str:
        value = self.string(key)
        if value is None:
            if default is None:
                raise Mistake(self.key(key), "is missing")
            return default
        if value not in choices:
            raise Mistake(self.key(key), f"{_q(value)} is not one of: {', '.join(choices)}")
        return value

    def integer(self, key: str, low: int, high: int) -> Optional[int]:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Mistake(self.key(key), f"must be an integer, not {_kind(value)}")
        if not low <= value <= high:
            raise Mistake(self.key(key), f"{value} is outside {low} to {high}")
        return value

    def subtable(self, key: str) -> Optional[dict]:
        value = self.get(key)
        if value is None or isinstance(value, dict):
            return value
        raise Mistake(self.key(key), f"must be a table, not {_kind(value)}")

    def finish(self) -> None:
        for key in self.table:
            if key not in self.read:
                known = ", ".join(sorted(self.read))
                raise Mistake(self.key(key), f"is not a known key (known here: {known})")


def _fields(root: _Reader, key: str) -> list:
    table = root.subtable(key) or {}
    out = []
    for name, value in table.items():
        path = f"{key}.{name}"
        if not isinstance(value, dict):
            raise Mistake(path, f"must be a table, not {_kind(value)}")
        if not NAME.match(name):
            raise Mistake(path, "a field name must be 1-64 characters of a-z, 0-9, '-' or '_'")
        out.append((name, _Reader(value, path)))
    return out


def _credential(name: str, r: _Reader) -> dict:
    label = r.required_string("label")
    secret = r.boolean("secret", True)
    default = r.string("default")
    if secret and default is not None:
        raise Mistake(r.key("default"), "a secret credential cannot have a default")
    required = r.boolean("required", default is None)
    choices = r.strings("choices")
    help_text = r.string("help") or ""
    r.finish()
    return {"name": name, "label": label, "secret": secret, "required": required,
            "default": default, "choices": choices, "help": help_text}


def _setting(name: str, r: _Reader) -> dict:
    label = r.required_string("label")
    kind = r.one_of("type", SETTING_TYPES, "text")
    default = r.string("default")
    required = r.boolean("required", default is None)
    choices = r.strings("choices")
    if kind == "choice" and not choices:
        raise Mistake(r.key("choices"), 'a setting of type "choice" needs its choices')
    if default is not None and choices and default not in choices:
        raise Mistake(r.key("default"), f"{_q(default)} is not one of the choices")
    help_text = r.string("help") or ""
    r.finish()
    return {"name": name, "label": label, "type": kind, "required": required,
            "default": default, "choices": choices, "help": help_text}


def _oauth2(table: dict) -> dict:
    r = _Reader(table, "auth.oauth2")
    authorize_url = r.string("authorize-url")
    token_url = r.required_string("token-url")
    scopes = r.strings("scopes")
    pkce = r.boolean("pkce", False)
    client_auth = r.one_of("client-auth", CLIENT_AUTH, "basic")
    flows = r.strings("flows") or ["authorization-code"]
    for flow in flows:
        if flow not in FLOWS:
            raise Mistake(r.key("flows"), f"{_q(flow)} is not one of: {', '.join(FLOWS)}")
    if "authorization-code" in flows and authorize_url is None:
        raise Mistake(r.key("authorize-url"), "is missing (the authorization-code flow needs it)")
    client_id_field = r.string("client-id-field") or "client_id"
    client_secret_field = r.string("client-secret-field") or "client_secret"
    r.finish()
    return {"authorize-url": authorize_url, "token-url": token_url, "scopes": scopes, "pkce": pkce,
            "client-auth": client_auth, "flows": flows, "client-id-field": client_id_field,
            "client-secret-field": client_secret_field}


def _setting_reference(pattern: str) -> Optional[str]:
    text = pattern.strip()
    if not (text.startswith("{{") and text.endswith("}}")):
        return None
    inner = text[2:-2].strip()
    return inner[len("setting."):] if inner.startswith("setting.") else None


def parse(text: str) -> dict:
    """Reads and checks a manifest's text; raises ``Mistake``."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None)
        if line is None:
            found = re.search(r"line (\d+)", str(error))
            line = int(found.group(1)) if found else None
        raise Mistake(f"line {line}" if line else "the file", f"is not valid TOML: {error}") from None
    r = _Reader(table, "")
    name = r.required_string("name")
    if not NAME.match(name):
        raise Mistake("name", f"{_q(name)} must be 1-64 characters of a-z, 0-9, '-' or '_'")
    family = r.one_of("family", FAMILIES, None)
    display_name = r.required_string("display-name")
    description = r.required_string("description")
    version = r.string("version")
    if version is not None and not SEMVER.match(version):
        raise Mistake("version", f"{_q(version)} is not a semantic version like 1.2.0")
    credentials = [_credential(n, f) for n, f in _fields(r, "credentials")]
    settings = [_setting(n, f) for n, f in _fields(r, "settings")]
    credential_names = {c["name"] for c in credentials}
    for setting in settings:
        if setting["name"] in credential_names:
            raise Mistake(f"settings.{setting['name']}", "is also a credential; a field is declared once")

    strategy, oauth2 = "none", None
    auth = r.subtable("auth")
    if auth is not None:
        a = _Reader(auth, "auth")
        strategy = a.one_of("strategy", STRATEGIES, "none")
        table = a.subtable("oauth2")
        oauth2 = _oauth2(table) if table is not None else None
        a.finish()
    if oauth2 is None and strategy == "oauth2":
        raise Mistake("auth.oauth2", 'is missing (strategy "oauth2" needs it)')
    if oauth2 is not None:
        for key in ("client-id-field", "client-secret-field"):
            if oauth2[key] not in credential_names:
                raise Mistake(f"auth.oauth2.{key}", f"names {_q(oauth2[key])}, which is not a declared credential")

    allowed_hosts = r.strings("allowed-hosts")
    setting_names = {s["name"] for s in settings}
    for i, host in enumerate(allowed_hosts):
        reference = _setting_reference(host)
        if reference is not None and reference.strip() not in setting_names:
            raise Mistake(f"allowed-hosts[{i}]", f"{_q(host)} names a setting that is not declared")

    rate_limit = None
    table = r.subtable("rate-limit")
    if table is not None:
        l = _Reader(table, "rate-limit")
        rps = l.get("requests-per-second")
        if rps is None:
            raise Mistake("rate-limit.requests-per-second", "is missing")
        if isinstance(rps, bool) or not isinstance(rps, (int, float)):
            raise Mistake("rate-limit.requests-per-second", f"must be a number, not {_kind(rps)}")
        if not (math.isfinite(rps) and RATE_MIN <= rps <= RATE_MAX):
            raise Mistake("rate-limit.requests-per-second", f"{rps} is outside {RATE_MIN} to {RATE_MAX:g}")
        burst = l.integer("burst", 1, 100_000) or 1
        l.finish()
        rate_limit = {"requests-per-second": float(rps), "burst": burst}

    retry = {"max-retries": MAX_RETRIES, "retryable-statuses": list(RETRYABLE_STATUSES)}
    table = r.subtable("retry")
    if table is not None:
        t = _Reader(table, "retry")
        max_retries = t.integer("max-retries", 0, 10)
        statuses = t.get("retryable-statuses")
        if statuses is None:
            statuses = list(RETRYABLE_STATUSES)
        elif not isinstance(statuses, list):
            raise Mistake("retry.retryable-statuses", f"must be an array of HTTP statuses, not {_kind(statuses)}")
        else:
            for i, status in enumerate(statuses):
                if isinstance(status, bool) or not isinstance(status, int):
                    raise Mistake(f"retry.retryable-statuses[{i}]", f"must be an HTTP status, not {_kind(status)}")
                if not 100 <= status <= 599:
                    raise Mistake(f"retry.retryable-statuses[{i}]", f"{status} is not an HTTP status (100-599)")
        t.finish()
        retry = {"max-retries": MAX_RETRIES if max_retries is None else max_retries,
                 "retryable-statuses": statuses}

    webhooks = None
    table = r.subtable("webhooks")
    if table is not None:
        w = _Reader(table, "webhooks")
        webhooks = {"signature-scheme": w.required_string("signature-scheme"),
                    "signature-header": w.required_string("signature-header"),
                    "events": w.strings("events")}
        w.finish()
    r.finish()
    return {"name": name, "family": family, "display-name": display_name, "description": description,
            "version": version, "credentials": credentials, "settings": settings,
            "auth": {"strategy": strategy, "oauth2": oauth2}, "allowed-hosts": allowed_hosts,
            "rate-limit": rate_limit, "retry": retry, "webhooks": webhooks}


def read(path: Path, package_version: Optional[str]) -> dict:
    """Reads a plugin's ``patchbay.toml``; the version defaults to the package's."""
    if not path.is_file():
        raise ManifestError(f"{path}: cannot read the plugin's manifest; every plugin has a patchbay.toml")
    try:
        manifest = parse(path.read_text())
    except Mistake as mistake:
        raise ManifestError(f"{path}: {mistake.key}: {mistake.problem}") from None
    if manifest["version"] is None:
        if package_version is None:
            raise ManifestError(f"{path}: version: is missing, and the package declares none")
        manifest["version"] = package_version
    return manifest
