// Discord's REST API v10: the base URL, the bot's authentication, and
// Discord's error and rate-limit shapes.
// https://discord.com/developers/docs/reference

import { ConnectorError, Response, auth, config, request } from "@patchbay/sdk";
import type { RequestInit } from "@patchbay/sdk";

export const DEFAULT_API_BASE = "https://discord.com/api/v10";

/** `Authorization: Bot <token>`, filled in by the host from the `bot_token` credential. */
const BOT_AUTH = auth.header("Authorization", "bot_token", "Bot ");

function base(): string {
  return (config.get("api_base") || DEFAULT_API_BASE).replace(/\/+$/, "");
}

/**
 * Calls `path` (e.g. `/users/@me`) and returns the 2xx response; Discord's
 * errors become connector errors with Discord's own message and code.
 */
export function call(method: "GET" | "POST", path: string, init: RequestInit = {}): Response {
  const response = request(method, base() + path, {
    ...init,
    auth: BOT_AUTH,
    headers: { accept: "application/json", ...init.headers },
  });
  if (response.ok) return response;
  throw discordError(response);
}

/** Discord's error body: `{ "code": 10003, "message": "Unknown Channel" }`; 429s carry `retry_after` in seconds. */
function discordError(response: Response): ConnectorError {
  let body: any;
  try {
    body = JSON.parse(response.text());
  } catch {
    return ConnectorError.fromStatus(response.status, response.errorMessage(), response.retryAfter());
  }
  if (response.status === 429) {
    const seconds = typeof body?.retry_after === "number" ? body.retry_after : response.retryAfter();
    return ConnectorError.rateLimited(seconds);
  }
  const code = typeof body?.code === "number" && body.code !== 0 ? ` (code ${body.code})` : "";
  const detail = firstFieldError(body?.errors);
  const message = `HTTP ${response.status}: ${body?.message ?? response.text().slice(0, 200)}${code}${detail ? `: ${detail}` : ""}`;
  return ConnectorError.fromStatus(response.status, message, response.retryAfter());
}

/** The first `{ _errors: [{ code, message }] }` of Discord's nested form errors, with its path. */
function firstFieldError(errors: any, path: string[] = []): string | undefined {
  if (!errors || typeof errors !== "object") return undefined;
  if (Array.isArray(errors._errors) && errors._errors.length > 0) {
    const first = errors._errors[0];
    return `${path.join(".") || "body"}: ${first.message ?? first.code}`;
  }
  for (const [key, value] of Object.entries(errors)) {
    const found = firstFieldError(value, [...path, key]);
    if (found) return found;
  }
  return undefined;
}
