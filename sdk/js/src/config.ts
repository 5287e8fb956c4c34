// The connection's settings and non-secret credentials.

import * as host from "patchbay:connector/config@0.1.4";
import { ConnectorError } from "./errors.js";

/** A setting or non-secret credential, or `undefined` when unset. */
export function get(name: string): string | undefined {
  try {
    return host.get(name);
  } catch (error: any) {
    const payload = error?.payload ?? error;
    throw ConnectorError.config(`cannot read ${name}: ${payload?.val ?? String(error)}`);
  }
}

/** A required setting; a missing one is a `config` error. */
export function require(name: string): string {
  const value = get(name);
  if (value === undefined || value === "") throw ConnectorError.config(`the setting ${name} is required`);
  return value;
}
