// Discord interactions received over HTTP: the application's Interactions
// Endpoint URL is the connection's webhook ingress.
// https://discord.com/developers/docs/interactions/receiving-and-responding
//
// Every request is signed: `X-Signature-Ed25519` is the hex Ed25519
// signature, by the application's public key, of `X-Signature-Timestamp`
// (Unix seconds) followed by the raw body. A PING (type 1) is answered with
// a PONG and stored nowhere; a command or a modal is acknowledged with a
// deferred response ("thinking…") once it is stored, a component click with
// a deferred update, and each becomes a `message.received` event.

import { ConnectorError, config, crypto, kv } from "@patchbay/sdk";
import type { Header } from "patchbay:connector/types@0.1.4";
import type { HandshakeOutcome, InboundRequest, Reply } from "patchbay:connector/webhook-handshake@0.1.4";
import type { Registration, WebhookEvent } from "patchbay:connector/webhooks@0.1.4";
import { api } from "./api.js";

/** Interaction types. */
export const PING = 1;
const APPLICATION_COMMAND = 2;
const MESSAGE_COMPONENT = 3;
const AUTOCOMPLETE = 4;
const MODAL_SUBMIT = 5;

const TYPE_NAMES: Record<number, string> = {
  [PING]: "PING",
  [APPLICATION_COMMAND]: "APPLICATION_COMMAND",
  [MESSAGE_COMPONENT]: "MESSAGE_COMPONENT",
  [AUTOCOMPLETE]: "APPLICATION_COMMAND_AUTOCOMPLETE",
  [MODAL_SUBMIT]: "MODAL_SUBMIT",
};

/** Interaction callback types. */
const PONG = 1;
const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5;
const DEFERRED_UPDATE_MESSAGE = 6;
const AUTOCOMPLETE_RESULT = 8;

/** How far a signature's timestamp may be from now: older requests are replays. */
const MAX_SKEW_SECONDS = 300;

/** How long the public key read from Discord is kept in kv. */
const KEY_TTL_SECONDS = 3600;

/** Discord's epoch for snowflakes (2015-01-01T00:00:00Z), in milliseconds. */
const DISCORD_EPOCH = 1420070400000n;

const decoder = new TextDecoder();

function header(headers: Header[], name: string): string | undefined {
  return headers.find((h) => h.name.toLowerCase() === name)?.value;
}

/**
 * The application's public key: the `public_key` setting, or the
 * application's `verify_key` as Discord reports it (kept in kv an hour).
 */
function publicKey(): Uint8Array {
  let hex = config.get("public_key")?.trim() || kv.get("verify-key");
  if (!hex) {
    const application = api.json("GET", "/applications/@me");
    hex = typeof application?.verify_key === "string" ? application.verify_key : "";
    if (!hex) throw ConnectorError.config("Discord reported no verify_key for the application; set the public_key setting");
    kv.set("verify-key", hex, KEY_TTL_SECONDS);
  }
  const key = crypto.fromHex(hex);
  if (!key || key.length !== 32) {
    throw ConnectorError.config("the application's public key is not 64 hex digits (developer portal, General Information)");
  }
  return key;
}

/** Checks the request's Ed25519 signature and the freshness of its timestamp. */
export function verify(headers: Header[], body: Uint8Array): void {
  const signature = header(headers, "x-signature-ed25519");
  const timestamp = header(headers, "x-signature-timestamp");
  if (!signature || !timestamp) {
    throw ConnectorError.webhookVerification("no X-Signature-Ed25519 and X-Signature-Timestamp headers");
  }
  const signed = crypto.fromHex(signature.trim());
  if (!signed || signed.length !== 64) throw ConnectorError.webhookVerification("X-Signature-Ed25519 is not 128 hex digits");
  if (!/^\d{1,12}$/.test(timestamp.trim())) throw ConnectorError.webhookVerification("X-Signature-Timestamp is not Unix seconds");
  const skew = Math.abs(Date.now() / 1000 - Number(timestamp.trim()));
  if (skew > MAX_SKEW_SECONDS) {
    throw ConnectorError.webhookVerification(`X-Signature-Timestamp is ${Math.round(skew)} s from now (at most ${MAX_SKEW_SECONDS})`);
  }
  const message = new Uint8Array(timestamp.length + body.length);
  message.set(new TextEncoder().encode(timestamp), 0);
  message.set(body, timestamp.length);
  if (!crypto.verifyEd25519(publicKey(), message, signed)) {
    throw ConnectorError.webhookVerification("X-Signature-Ed25519 does not match the body");
  }
}

function interaction(body: Uint8Array): any {
  let parsed: any;
  try {
    parsed = JSON.parse(decoder.decode(body));
  } catch {
    throw ConnectorError.validation("the body is not JSON");
  }
  if (!parsed || typeof parsed !== "object" || typeof parsed.type !== "number" || typeof parsed.id !== "string") {
    throw ConnectorError.validation("the body is not a Discord interaction (no id and type)");
  }
  return parsed;
}

function json(value: unknown): Reply {
  return {
    status: 200,
    headers: [{ name: "content-type", value: "application/json" }],
    body: new TextEncoder().encode(JSON.stringify(value)),
  };
}

/**
 * What a request is: a PING is checked and answered with a PONG; an
 * autocomplete gets no suggestions (they cannot wait for an event's round
 * trip); anything else is a delivery, acknowledged with a deferred
 * response once stored. A request that is not a POST is not Discord's.
 */
export function handshake(request: InboundRequest): HandshakeOutcome {
  if (request.method !== "POST") throw ConnectorError.validation("Discord POSTs its interactions");
  const received = interaction(request.body);
  switch (received.type) {
    case PING:
      verify(request.headers, request.body);
      return { tag: "answer", val: json({ type: PONG }) };
    case AUTOCOMPLETE:
      verify(request.headers, request.body);
      return { tag: "answer", val: json({ type: AUTOCOMPLETE_RESULT, data: { choices: [] } }) };
    case MESSAGE_COMPONENT:
      return { tag: "deliver-with-reply", val: json({ type: DEFERRED_UPDATE_MESSAGE }) };
    default:
      return { tag: "deliver-with-reply", val: json({ type: DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE }) };
  }
}

/** When a snowflake was made, as RFC 3339. */
function snowflakeTime(id: string): string | undefined {
  if (!/^\d{17,20}$/.test(id)) return undefined;
  const ms = (BigInt(id) >> 22n) + DISCORD_EPOCH;
  return new Date(Number(ms)).toISOString();
}

/** `/name option:value sub option:value`, as a user would have typed it. */
function commandText(data: any): string {
  const parts: string[] = [];
  const walk = (options: any[] | undefined) => {
    for (const option of options ?? []) {
      if (Array.isArray(option.options)) {
        parts.push(option.name);
        walk(option.options);
      } else {
        parts.push(`${option.name}:${option.value}`);
      }
    }
  };
  walk(data?.options);
  return [`/${data?.name ?? ""}`, ...parts].join(" ");
}

/** The text of a submitted modal: each field's value, one per line. */
function modalText(data: any): string {
  const values: string[] = [];
  for (const row of data?.components ?? []) {
    for (const component of row?.components ?? [row?.component ?? row]) {
      if (typeof component?.value === "string") values.push(component.value);
    }
  }
  return values.join("\n");
}

/**
 * One event per interaction: commands and modals are `message.received`
 * with an inbound message as the payload (the user, the channel, the text;
 * the shape `messaging.reply` takes); component clicks keep their own type
 * (`unknown`, `MESSAGE_COMPONENT`). The interaction's token is in `extra`:
 * `reply` completes the deferred response with it, within 15 minutes.
 */
export function parse(_headers: Header[], body: Uint8Array): WebhookEvent[] {
  const received = interaction(body);
  if (received.type === PING || received.type === AUTOCOMPLETE) return [];
  const user = received.member?.user ?? received.user ?? {};
  const providerType = TYPE_NAMES[received.type] ?? `TYPE_${received.type}`;
  const text =
    received.type === APPLICATION_COMMAND
      ? commandText(received.data)
      : received.type === MODAL_SUBMIT
        ? modalText(received.data)
        : String(received.data?.custom_id ?? "");
  const receivedAt = snowflakeTime(received.id);
  const message = {
    "message-id": received.id,
    channel: "chat",
    sender: String(user.id ?? ""),
    "sender-name": String(user.global_name ?? user.username ?? ""),
    "conversation-id": String(received.channel_id ?? received.channel?.id ?? ""),
    body: text,
    "received-at": receivedAt ?? null,
    attachments: [],
    extra: JSON.stringify({
      "interaction-type": providerType,
      "application-id": received.application_id,
      "interaction-token": received.token,
      "guild-id": received.guild_id ?? null,
      command: received.data?.name ?? null,
      "custom-id": received.data?.custom_id ?? null,
      options: received.data?.options ?? [],
    }),
    "provider-meta": { provider: "discord", "raw-id": received.id, "raw-payload": decoder.decode(body) },
  };
  const normalized = received.type === APPLICATION_COMMAND || received.type === MODAL_SUBMIT;
  return [
    {
      eventId: received.id,
      eventType: normalized ? "message.received" : "unknown",
      providerEventType: providerType,
      payloadJson: JSON.stringify(message),
      idempotencyKey: `interaction:${received.id}`,
      occurredAt: receivedAt,
    },
  ];
}

/** The interactions Discord delivers to an Interactions Endpoint URL. */
const EVENTS = ["APPLICATION_COMMAND", "MESSAGE_COMPONENT", "MODAL_SUBMIT"];

function registration(application: any): Registration[] {
  const url = application?.interactions_endpoint_url;
  if (typeof url !== "string" || !url) return [];
  return [{ id: String(application.id), url, events: EVENTS, active: true }];
}

/**
 * Sets the application's Interactions Endpoint URL (Discord sends it a
 * signed PING, and a badly signed one, before it accepts the URL). Discord
 * delivers every interaction type there; `events` may not narrow it.
 */
export function register(url: string, events: string[]): Registration {
  const unknown = events.filter((e) => !EVENTS.includes(e));
  if (unknown.length > 0) {
    throw ConnectorError.validation(`Discord delivers ${EVENTS.join(", ")}; not ${unknown.join(", ")}`);
  }
  const application = api.json("PATCH", "/applications/@me", { json: { interactions_endpoint_url: url } });
  const [registered] = registration(application);
  if (!registered) throw ConnectorError.provider("Discord did not keep the interactions endpoint URL");
  return registered;
}

/** The application's Interactions Endpoint URL, when it has one. */
export function listRegistrations(): Registration[] {
  return registration(api.json("GET", "/applications/@me"));
}

/** Removes the Interactions Endpoint URL (the id is the application's). */
export function unregister(id: string): void {
  const application = api.json("GET", "/applications/@me");
  if (String(application?.id) !== id) throw ConnectorError.notFound(`no interactions endpoint ${JSON.stringify(id)}`);
  api.json("PATCH", "/applications/@me", { json: { interactions_endpoint_url: null } });
}

/** The interaction an inbound message came from, when it did. */
export function interactionOf(extra: string): { application: string; token: string } | undefined {
  try {
    const parsed = JSON.parse(extra || "{}");
    const application = parsed?.["application-id"];
    const token = parsed?.["interaction-token"];
    return typeof application === "string" && typeof token === "string" ? { application, token } : undefined;
  } catch {
    return undefined;
  }
}
