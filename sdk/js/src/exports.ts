// What the generated entry module calls (see `patchbay-js build`).
//
// A plugin exports the operations it implements (`export const connector =
// { testConnection() {...} }`, `export const messaging = { send(m) {...} }`);
// the build generates the module that componentize-js exports, whose every
// operation comes through `operation`: one the plugin does not define
// answers `unsupported`, naming it; an exception that is not a
// `ConnectorError` is a bug, reported as `permanent` (retrying a bug cannot
// help).

import { ConnectorError, guard } from "./errors.js";

type Returns = "result" | "list" | "nothing";

/** The export `name` (`shop.get-orders`), routed to `implementation` when the plugin has it. */
export function operation(name: string, returns: Returns, implementation: unknown): (...args: unknown[]) => unknown {
  if (typeof implementation !== "function") {
    if (returns === "list") return () => [];
    if (returns === "nothing") return () => undefined;
    return () => {
      throw ConnectorError.unsupported(`${name} is not supported by this plugin`);
    };
  }
  const run = implementation as (...args: unknown[]) => unknown;
  return (...args: unknown[]) => guard(() => run(...args), `the plugin failed in ${name}`);
}

/** The checked `patchbay.toml` the build embeds, keyed as the contract names the fields. */
export interface ManifestData {
  name: string;
  family: string;
  "display-name": string;
  description: string;
  version: string;
  "contract-version": string;
  credentials: { name: string; label: string; secret: boolean; required: boolean; default: string | null; choices: string[]; help: string }[];
  settings: { name: string; label: string; type: string; required: boolean; default: string | null; choices: string[]; help: string }[];
  auth: {
    strategy: string;
    oauth2: {
      "authorize-url": string | null;
      "token-url": string;
      scopes: string[];
      pkce: boolean;
      "client-auth": string;
      flows: string[];
      "client-id-field": string;
      "client-secret-field": string;
    } | null;
  };
  "allowed-hosts": string[];
  "rate-limit": { "requests-per-second": number; burst: number } | null;
  retry: { "max-retries": number; "retryable-statuses": number[] };
  webhooks: { "signature-scheme": string; "signature-header": string; events: string[] } | null;
}

const some = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

/** The contract's `plugin-manifest` as the bindings carry it. */
export function manifest(data: ManifestData): unknown {
  const oauth2 = data.auth.oauth2;
  return {
    name: data.name,
    family: data.family,
    displayName: data["display-name"],
    description: data.description,
    version: data.version,
    contractVersion: data["contract-version"],
    credentials: data.credentials.map((f) => ({ ...f, default: some(f.default) })),
    settings: data.settings.map((f) => ({ ...f, default: some(f.default) })),
    auth: {
      strategy: data.auth.strategy,
      oauth2: oauth2 && {
        authorizeUrl: some(oauth2["authorize-url"]),
        tokenUrl: oauth2["token-url"],
        scopes: oauth2.scopes,
        pkce: oauth2.pkce,
        clientAuth: oauth2["client-auth"],
        flows: oauth2.flows,
        clientIdField: oauth2["client-id-field"],
        clientSecretField: oauth2["client-secret-field"],
      },
    },
    allowedHosts: data["allowed-hosts"],
    rateLimit: data["rate-limit"] && {
      requestsPerSecond: data["rate-limit"]["requests-per-second"],
      burst: data["rate-limit"].burst,
    },
    retry: {
      maxRetries: data.retry["max-retries"],
      retryableStatuses: new Uint16Array(data.retry["retryable-statuses"]),
    },
    webhooks: data.webhooks && {
      signatureScheme: data.webhooks["signature-scheme"],
      signatureHeader: data.webhooks["signature-header"],
      events: data.webhooks.events,
    },
  };
}
