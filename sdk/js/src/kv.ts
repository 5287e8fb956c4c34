// Key-value storage scoped to the connection (the host enforces quotas).

import * as host from "patchbay:connector/kv@0.1.4";
import { ConnectorError } from "./errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function kvError(error: any): ConnectorError {
  const payload = error?.payload ?? error;
  return ConnectorError.provider(`kv ${payload?.tag ?? "error"}: ${payload?.val ?? String(error)}`);
}

/** The value of `key` as text, or `undefined`. */
export function get(key: string): string | undefined {
  let value;
  try {
    value = host.get(key);
  } catch (error) {
    throw kvError(error);
  }
  return value === undefined ? undefined : decoder.decode(value);
}

/** Stores `value` under `key`, for `ttlSeconds` when given. */
export function set(key: string, value: string | Uint8Array, ttlSeconds?: number): void {
  try {
    host.set(key, typeof value === "string" ? encoder.encode(value) : value, ttlSeconds);
  } catch (error) {
    throw kvError(error);
  }
}

/** Deletes `key`; whether it existed. */
export function remove(key: string): boolean {
  try {
    return host.delete(key);
  } catch (error) {
    throw kvError(error);
  }
}
