// @display@: a Patchbay @family@ plugin.

import { CONTRACT_VERSION, ConnectorError, auth, config, guard, request } from "@patchbay/sdk";
import type { PluginManifest } from "patchbay:connector/connector@0.1.0";
import type { ConnectionTest } from "patchbay:connector/types@0.1.0";

export const connector = {
  manifest(): PluginManifest {
    return {
      name: "@name@",
      family: "@family_tag@",
      displayName: "@display@",
      description: "A Patchbay @family@ adapter for @display@.",
      version: "0.1.0",
      contractVersion: CONTRACT_VERSION,
      credentials: [
        {
          name: "api_key",
          label: "API key",
          secret: true,
          required: true,
          default: undefined,
          choices: [],
          help: "Sent by the host as a bearer token; the plugin never sees it.",
        },
      ],
      settings: [
        {
          name: "base_url",
          label: "API base URL",
          type: "url",
          required: true,
          default: undefined,
          choices: [],
          help: "The provider's API; the only host the plugin may reach.",
        },
      ],
      auth: { strategy: "bearer", oauth2: undefined },
      allowedHosts: ["{{setting.base_url}}"],
      rateLimit: { requestsPerSecond: 5, burst: 10 },
      retry: { maxRetries: 3, retryableStatuses: new Uint16Array([429, 500, 502, 503, 504]) },
      webhooks: undefined,
    };
  },

  testConnection(): ConnectionTest {
    return guard(() => {
      const base = config.require("base_url").replace(/\/+$/, "");
      const response = request("GET", `${base}/health`, { auth: auth.bearer("api_key") });
      try {
        response.errorForStatus();
      } catch (error) {
        if (error instanceof ConnectorError && error.payload.tag === "auth") {
          return { success: false, message: `@display@ refused the API key: ${error.payload.val}`, details: "{}" };
        }
        throw error;
      }
      return { success: true, message: `Connected to ${base}`, details: response.text() };
    });
  },
};

export const @port_camel@ = {
@operations@
};
