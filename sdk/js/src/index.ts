// The Patchbay SDK for TypeScript and JavaScript plugins.
//
//   import { Client, auth, ConnectorError, paging } from "@patchbay/sdk";
//
// A plugin's manifest is its patchbay.toml. The plugin exports the
// operations it implements as objects named after their interfaces
// (`connector` with `testConnection`, and its family's port such as
// `messaging`); `patchbay-js build` generates the rest (the manifest, and
// `unsupported` for what is left out), bundles and makes the component.

export { ConnectorError, fromHttpError, guard, isRetryable } from "./errors.js";
export type { ConnectorErrorPayload, HttpError, ProviderFailure } from "./errors.js";
export { Response, auth, request, requestJson } from "./http.js";
export type { Auth, RequestInit } from "./http.js";
export { Client, connected } from "./client.js";
export type { ClientOptions, ConnectionTest, ErrorMapper } from "./client.js";
export * as paging from "./paging.js";
export * as kv from "./kv.js";
export * as log from "./log.js";
export * as config from "./config.js";
export * as crypto from "./crypto.js";

/** The contract version this SDK targets (the build puts it in the manifest). */
export const CONTRACT_VERSION = "0.1.4";
