// @display@: a Patchbay @family@ plugin. Its manifest is patchbay.toml;
// `patchbay-js build` routes each operation to the exports below, and what
// they leave out answers `unsupported`.

import { Client, auth, connected } from "@patchbay/sdk";
import type { ConnectionTest } from "patchbay:connector/types@0.1.4";

// The provider's API: the base URL from the base_url setting, the api_key
// credential as a bearer token (the host fills it in).
const api = new Client({ setting: "base_url", auth: auth.bearer("api_key") });

export const connector = {
  testConnection(): ConnectionTest {
    return api.testConnection("/health", () => connected("Connected to @display@"));
  },
};

// Write the operations @display@ supports. The port's operations:
@operations@
export const @port_camel@ = {};
