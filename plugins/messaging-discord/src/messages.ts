// Normalized messages to Discord's message objects and back.
// https://discord.com/developers/docs/resources/message#create-message

import { ConnectorError } from "@patchbay/sdk";
import type { OutboundMessage, DeliveryReport, Attachment } from "patchbay:connector/messaging-types@0.1.4";

/** Discord's limit on `content`. */
export const MAX_CONTENT = 2000;

const SNOWFLAKE = /^\d{17,20}$/;

/** A channel id, checked before anything is sent. */
export function channelId(value: string, what = "recipient"): string {
  const id = value.trim();
  if (!SNOWFLAKE.test(id)) {
    throw ConnectorError.validation(`${what} ${JSON.stringify(value)} is not a Discord channel id (a snowflake of 17-20 digits)`);
  }
  return id;
}

/** The message text: a subject becomes a bold first line. */
export function content(message: Pick<OutboundMessage, "subject" | "body">): string {
  const text = message.subject ? `**${message.subject}**\n${message.body}` : message.body;
  if (text.length > MAX_CONTENT) {
    throw ConnectorError.validation(`the message is ${text.length} characters; Discord allows ${MAX_CONTENT}`);
  }
  return text;
}

/**
 * A nonce for `enforce_nonce`: Discord returns the message it already created
 * for the same nonce instead of posting it twice, so a send may be retried.
 * Nonces are at most 25 characters; longer message ids are hashed (FNV-1a 64).
 */
export function nonce(messageId: string): string | undefined {
  if (!messageId) return undefined;
  if (messageId.length <= 25) return messageId;
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(messageId)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `pb-${hash.toString(16)}`;
}

/** The create-message body, and the multipart form when there are files. */
export function createBody(
  text: string,
  messageId: string,
  attachments: Attachment[],
  replyTo?: string,
): { json?: unknown; body?: Uint8Array; contentType?: string } {
  const payload: Record<string, unknown> = {
    content: text,
    allowed_mentions: { parse: [] },
  };
  const n = nonce(messageId);
  if (n) {
    payload.nonce = n;
    payload.enforce_nonce = true;
  }
  if (replyTo) payload.message_reference = { message_id: replyTo, fail_if_not_exists: false };
  if (attachments.length === 0) return { json: payload };
  payload.attachments = attachments.map((a, id) => ({ id, filename: a.filename }));
  return multipart(payload, attachments);
}

/** `multipart/form-data` with `payload_json` and `files[n]`, as Discord documents for uploads. */
function multipart(payload: unknown, attachments: Attachment[]) {
  const boundary = `patchbay-${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const text = (s: string) => parts.push(encoder.encode(s));
  text(`--${boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\nContent-Type: application/json\r\n\r\n`);
  text(JSON.stringify(payload));
  attachments.forEach((a, i) => {
    const filename = a.filename.replace(/["\r\n]/g, "_");
    text(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="files[${i}]"; filename="${filename}"\r\n`);
    text(`Content-Type: ${a.contentType || "application/octet-stream"}\r\n\r\n`);
    parts.push(a.data);
  });
  text(`\r\n--${boundary}--\r\n`);
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    body.set(p, offset);
    offset += p.length;
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** What Discord answered for a created message. */
export function report(created: { id: string }): DeliveryReport {
  return { messageId: created.id, status: "sent", error: undefined, deliveredAt: undefined };
}
