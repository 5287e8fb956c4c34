"""@display@: a Patchbay @family@ plugin."""

import json
from typing import Any

from patchbay_sdk import CONTRACT_VERSION, config, errors, http
from wit_world import exports
from wit_world.exports import connector
from wit_world.imports import types


class Connector(exports.Connector):
    def manifest(self) -> connector.PluginManifest:
        return connector.PluginManifest(
            name="@name@",
            family=connector.Family.@family_upper@,
            display_name="@display@",
            description="A Patchbay @family@ adapter for @display@.",
            version="0.1.0",
            contract_version=CONTRACT_VERSION,
            credentials=[
                connector.CredentialField(
                    "api_key", "API key", True, True, None, [],
                    "Sent by the host as a bearer token; the plugin never sees it.",
                )
            ],
            settings=[
                connector.SettingField(
                    "base_url", "API base URL", connector.SettingType.URL, True, None, [],
                    "The provider's API; the only host the plugin may reach.",
                )
            ],
            auth=connector.AuthSpec(connector.AuthStrategy.BEARER, None),
            allowed_hosts=["{{setting.base_url}}"],
            rate_limit=connector.RateLimitHint(5.0, 10),
            retry=connector.RetryHint(3, [429, 500, 502, 503, 504]),
            webhooks=None,
        )

    @errors.guard
    def test_connection(self) -> types.ConnectionTest:
        base = config.require("base_url").rstrip("/")
        response = http.request("GET", f"{base}/health", auth=http.auth.bearer("api_key"))
        try:
            response.error_for_status()
        except errors.ConnectorError as error:
            if errors.kind(error) == "auth":
                return types.ConnectionTest(False, f"@display@ refused the API key: {error.value.value}", "{}")
            raise
        return types.ConnectionTest(True, f"Connected to {base}", json.dumps(response.json()))


class @class@(exports.@class@):
@operations@
