// A provider's REST client: base URL, authentication, default headers and
// the provider's error body said once; each call is then a path, its
// parameters, and the JSON back.
//
//   const api = new Client({ setting: "api_base", base: "https://api.example.com/v1",
//                            auth: auth.bearer("api_key"), errors: myErrors });
//   const orders = api.json<Order[]>("GET", "/orders", { query: { limit: 50 } });

import * as config from "./config.js";
import { ConnectorError } from "./errors.js";
import { Response, request } from "./http.js";
import type { Auth, RequestInit } from "./http.js";

type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/**
 * Reads a provider's error response when its body says more than the
 * status (a code meaning bad credentials, a retry delay); `undefined`
 * leaves it to the status table.
 */
export type ErrorMapper = (response: Response) => ConnectorError | undefined;

export interface ClientOptions {
  /** The setting holding the base URL (a bare host name means HTTPS). */
  setting?: string;
  /** The base URL when there is no setting or it is empty. */
  base?: string;
  auth?: Auth;
  headers?: Record<string, string>;
  errors?: ErrorMapper;
}

/** The connection check's answer. */
export interface ConnectionTest {
  success: boolean;
  message: string;
  details: string;
}

export class Client {
  constructor(private readonly options: ClientOptions) {}

  /** The base URL, read when needed (settings exist only in a call). */
  get base(): string {
    const configured = this.options.setting ? config.get(this.options.setting) : undefined;
    const value = (configured || this.options.base || "").trim().replace(/\/+$/, "");
    if (!value) {
      throw ConnectorError.config(
        this.options.setting ? `the setting ${JSON.stringify(this.options.setting)} is required` : "no base URL",
      );
    }
    return value.includes("://") ? value : `https://${value}`;
  }

  /** `path` under the base, or a full URL of the same API (a next-page link). */
  url(path: string): string {
    if (path.includes("://")) return path;
    return path ? `${this.base}/${path.replace(/^\/+/, "")}` : this.base;
  }

  /** Sends a request; a non-2xx response throws, mapped by `errors`, then the status table. */
  send(method: Method, path: string, init: RequestInit = {}): Response {
    const response = request(method, this.url(path), {
      ...init,
      auth: init.auth ?? this.options.auth,
      headers: { accept: "application/json", ...this.options.headers, ...init.headers },
    });
    if (response.ok) return response;
    throw this.options.errors?.(response) ?? ConnectorError.fromStatus(response.status, response.errorMessage(), response.retryAfter());
  }

  /** Sends a request and returns its JSON body. */
  json<T = any>(method: Method, path: string, init: RequestInit = {}): T {
    return this.send(method, path, init).json<T>();
  }

  /**
   * The connection check: one request; a 2xx goes to `connected`; refused
   * credentials are `success: false` with the provider's message; other
   * errors stay errors.
   */
  testConnection(path: string, connected: (response: Response) => ConnectionTest, init: RequestInit = {}): ConnectionTest {
    let response: Response;
    try {
      response = this.send("GET", path, init);
    } catch (error) {
      if (error instanceof ConnectorError && error.payload.tag === "auth") {
        return { success: false, message: `the provider refused the credentials: ${error.payload.val}`, details: "{}" };
      }
      throw error;
    }
    return connected(response);
  }
}

/** A successful connection check. */
export function connected(message: string, details = "{}"): ConnectionTest {
  return { success: true, message, details };
}
