"""@display@: a Patchbay @family@ plugin. Its manifest is patchbay.toml;
the build routes each operation to these classes, and what they leave out
answers `unsupported`."""

from patchbay_sdk import http
from patchbay_sdk.client import Client, connected
from wit_world.imports import types

# The provider's API: the base URL from the base_url setting, the api_key
# credential as a bearer token (the host fills it in).
API = Client(setting="base_url", auth=http.auth.bearer("api_key"))


class Connector:
    def test_connection(self) -> types.ConnectionTest:
        return API.test_connection("/health", lambda response: connected("Connected to @display@"))


class @class@:
    """Write the operations @display@ supports; the port's operations:

@operations@
    """
