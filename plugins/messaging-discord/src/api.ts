// Discord's REST API v10: the base URL, the bot's authentication, and
// Discord's error and rate-limit shapes.
// https://discord.com/developers/docs/reference

import { Client, ConnectorError, Response, auth } from "@patchbay/sdk";

/**
 * Discord's API at the `api_base` setting, with `Authorization: Bot <token>`
 * filled in by the host from the `bot_token` credential; Discord's errors
 * become connector errors with Discord's own message and code.
 */
export const api = new Client({
  setting: "api_base",
  base: "https://discord.com/api/v10",
  auth: auth.header("Authorization", "bot_token", "Bot "),
  errors: discordError,
});

/** Discord's error body: `{ "code": 10003, "message": "Unknown Channel" }`; 429s carry `retry_after` in seconds. */
function discordError(response: Response): ConnectorError | undefined {
  let body: any;
  try {
    body = JSON.parse(response.text());
  } catch {
    return undefined;
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
