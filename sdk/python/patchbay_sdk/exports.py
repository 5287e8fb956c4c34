"""What the generated export classes call (see ``sdk/python/build.py``).

A plugin module defines the classes it implements (``Connector`` with
``test_connection``, ``Llm`` with the operations it supports); the build
generates the module componentize-py exports, whose every operation comes
through ``call``: an operation the plugin does not define answers
``unsupported``, naming it; an exception that is not a connector error is a
bug in the plugin, reported as ``permanent`` (retrying a bug cannot help).
"""

from typing import Any, Dict

from . import errors

_instances: Dict[str, Any] = {}


def _instance(module: Any, class_name: str) -> Any:
    if class_name not in _instances:
        cls = getattr(module, class_name, None)
        _instances[class_name] = cls() if cls is not None else None
    return _instances[class_name]


def call(module: Any, class_name: str, method: str, operation: str, returns: str, args: tuple) -> Any:
    """Runs ``module.<class_name>().<method>(*args)`` as the export ``operation``."""
    function = getattr(_instance(module, class_name), method, None)
    if function is None:
        if returns == "list":
            return []
        if returns == "nothing":
            return None
        raise errors.unsupported(f"{operation} is not supported by this plugin")
    return errors.guard(function, f"the plugin failed in {operation}")(*args)


def manifest(data: Dict[str, Any]) -> Any:
    """The contract's ``plugin-manifest`` from the checked ``patchbay.toml``
    data the build embeds (keys as the contract names them)."""
    from wit_world.exports import connector as c

    def enum(cls: Any, value: str) -> Any:
        return cls[value.upper().replace("-", "_")]

    def option(value: Any, convert: Any) -> Any:
        return None if value is None else convert(value)

    oauth2 = data["auth"]["oauth2"]
    return c.PluginManifest(
        name=data["name"],
        family=enum(c.Family, data["family"]),
        display_name=data["display-name"],
        description=data["description"],
        version=data["version"],
        contract_version=data["contract-version"],
        credentials=[
            c.CredentialField(f["name"], f["label"], f["secret"], f["required"], f["default"], f["choices"], f["help"])
            for f in data["credentials"]
        ],
        settings=[
            c.SettingField(f["name"], f["label"], enum(c.SettingType, f["type"]), f["required"], f["default"],
                           f["choices"], f["help"])
            for f in data["settings"]
        ],
        auth=c.AuthSpec(
            enum(c.AuthStrategy, data["auth"]["strategy"]),
            option(oauth2, lambda o: c.Oauth2Config(
                o["authorize-url"], o["token-url"], o["scopes"], o["pkce"], enum(c.ClientAuthStyle, o["client-auth"]),
                [enum(c.Oauth2Flow, f) for f in o["flows"]], o["client-id-field"], o["client-secret-field"],
            )),
        ),
        allowed_hosts=data["allowed-hosts"],
        rate_limit=option(data["rate-limit"], lambda r: c.RateLimitHint(float(r["requests-per-second"]), r["burst"])),
        retry=c.RetryHint(data["retry"]["max-retries"], data["retry"]["retryable-statuses"]),
        webhooks=option(data["webhooks"], lambda w: c.WebhookSpec(
            w["signature-scheme"], w["signature-header"], w["events"])),
    )
