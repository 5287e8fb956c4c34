// The Patchbay SDK for TypeScript and JavaScript plugins.
//
//   import { request, auth, ConnectorError, CONTRACT_VERSION } from "@patchbay/sdk";
//
// A plugin exports the contract's interfaces as objects named after them
// (`connector`, and its family's port such as `messaging`); `patchbay-js
// build` bundles it and makes the component.

export { ConnectorError, guard } from "./errors.js";
export type { ConnectorErrorPayload, ProviderFailure } from "./errors.js";
export { Response, auth, fromHttpError, request, requestJson } from "./http.js";
export type { Auth, HttpError, RequestInit } from "./http.js";
export * as kv from "./kv.js";
export * as log from "./log.js";
export * as config from "./config.js";

/** The contract version this SDK targets; put it in the manifest. */
export const CONTRACT_VERSION = "0.1.0";
