// HTTP through the host: the contract's `http.send`. The host adds the
// credentials (the plugin names the field, never sees the secret), checks the
// allowlist, rate-limits, retries and times out. `fetch` works too (the host
// routes `wasi:http` through the same pipeline), but only this helper has
// auth schemes and the host's typed errors.

import { send } from "patchbay:connector/http@0.1.4";
import { ConnectorError, fromHttpError } from "./errors.js";
import type { HttpError } from "./errors.js";

/** How the host authenticates a request; names are credential fields. */
export type Auth =
  | { tag: "basic"; val: { userField: string; passwordField: string } }
  | { tag: "bearer"; val: string }
  | { tag: "header"; val: { name: string; field: string; prefix?: string } }
  | { tag: "query"; val: { param: string; field: string } }
  | { tag: "oauth2" }
  | {
      tag: "aws-sigv4";
      val: { service: string; region: string; keyIdField: string; secretField: string; sessionTokenField?: string };
    };

export const auth = {
  basic: (userField: string, passwordField: string): Auth => ({ tag: "basic", val: { userField, passwordField } }),
  bearer: (field: string): Auth => ({ tag: "bearer", val: field }),
  header: (name: string, field: string, prefix?: string): Auth => ({ tag: "header", val: { name, field, prefix } }),
  query: (param: string, field: string): Auth => ({ tag: "query", val: { param, field } }),
  oauth2: (): Auth => ({ tag: "oauth2" }),
};

/** One request. `json` sets the body and `content-type`. */
export interface RequestInit {
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  body?: Uint8Array | string;
  auth?: Auth;
  timeoutMs?: number;
  /** Makes a non-idempotent request safe for the host to retry. */
  idempotencyKey?: string;
  /** Ask the host not to retry this request. */
  noRetry?: boolean;
}

type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

const METHOD_TAGS = {
  GET: "get",
  HEAD: "head",
  POST: "post",
  PUT: "put",
  PATCH: "patch",
  DELETE: "delete",
  OPTIONS: "options",
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A response from the provider. */
export class Response {
  constructor(
    readonly status: number,
    readonly headers: { name: string; value: string }[],
    readonly body: Uint8Array,
  ) {}

  /** The first value of a header, compared case-insensitively. */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.headers.find((h) => h.name.toLowerCase() === lower)?.value;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  text(): string {
    return decoder.decode(this.body);
  }

  /** The body as JSON; a body that is not JSON is a `permanent` error. */
  json<T = any>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch (error) {
      throw ConnectorError.permanent(`the provider's response is not the expected JSON: ${String(error)}`, this.status);
    }
  }

  /** `Retry-After` in seconds, when given as a number. */
  retryAfter(): number | undefined {
    const value = Number(this.header("retry-after"));
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }

  /** The provider's own error message from common JSON shapes, else the start of the body. */
  errorMessage(): string {
    const text = this.text();
    try {
      const value = JSON.parse(text);
      const candidates = [
        value?.message,
        value?.error?.message,
        value?.error_description,
        value?.error,
        value?.errors?.[0]?.message,
        value?.description,
      ];
      const found = candidates.find((c) => typeof c === "string");
      if (found !== undefined) return `HTTP ${this.status}: ${found}`;
    } catch {
      // not JSON: use the text
    }
    const snippet = text.slice(0, 300).trim();
    return snippet ? `HTTP ${this.status}: ${snippet}` : `HTTP ${this.status}`;
  }

  /** Passes 2xx through; maps any other status with `ConnectorError.fromStatus`. */
  errorForStatus(): this {
    if (this.ok) return this;
    throw ConnectorError.fromStatus(this.status, this.errorMessage(), this.retryAfter());
  }
}

function withQuery(url: string, query: RequestInit["query"]): string {
  if (!query) return url;
  const pairs = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  if (pairs.length === 0) return url;
  return url + (url.includes("?") ? "&" : "?") + pairs.join("&");
}

/**
 * Sends a request through the host and returns the response whatever its
 * status; `errorForStatus()` maps error statuses. A request the host could
 * not complete throws a `ConnectorError` (see `fromHttpError`).
 */
export function request(method: Method, url: string, init: RequestInit = {}): Response {
  const headers = Object.entries(init.headers ?? {}).map(([name, value]) => ({ name, value }));
  let body: Uint8Array | undefined;
  if (init.json !== undefined) {
    body = encoder.encode(JSON.stringify(init.json));
    if (!headers.some((h) => h.name.toLowerCase() === "content-type")) {
      headers.push({ name: "content-type", value: "application/json" });
    }
  } else if (typeof init.body === "string") {
    body = encoder.encode(init.body);
  } else {
    body = init.body;
  }
  const options =
    init.timeoutMs !== undefined || init.idempotencyKey !== undefined || init.noRetry
      ? {
          timeoutMs: init.timeoutMs,
          retry: init.noRetry ? ("never" as const) : ("automatic" as const),
          idempotencyKey: init.idempotencyKey,
        }
      : undefined;
  let response;
  try {
    response = send({
      method: { tag: METHOD_TAGS[method] },
      url: withQuery(url, init.query),
      headers,
      body,
      auth: init.auth,
      options,
    });
  } catch (error: any) {
    throw fromHttpError((error?.payload ?? error) as HttpError);
  }
  return new Response(response.status, response.headers, response.body);
}

/** Sends a request and decodes a 2xx JSON body; other statuses throw. */
export function requestJson<T = any>(method: Method, url: string, init: RequestInit = {}): T {
  return request(method, url, { ...init, headers: { accept: "application/json", ...init.headers } })
    .errorForStatus()
    .json<T>();
}
