// Discord bots: send messages to channels and reply in them.

import { ConnectorError, connected } from "@patchbay/sdk";
import type { ConnectionTest } from "patchbay:connector/types@0.1.4";
import type { DeliveryReport, InboundMessage, OutboundMessage } from "patchbay:connector/messaging-types@0.1.4";
import { api } from "./api.js";
import * as interactions from "./interactions.js";
import { channelId, content, createBody, report } from "./messages.js";

// The manifest is patchbay.toml; `patchbay-js build` routes each operation
// here, and what is not here answers `unsupported`.

export const connector = {
  testConnection(): ConnectionTest {
    return api.testConnection("/users/@me", (response) => {
      const me = response.json();
      return connected(`Connected as ${me.username}`, JSON.stringify({ id: me.id, username: me.username, bot: me.bot === true }));
    });
  },
};

function post(channel: string, message: Pick<OutboundMessage, "subject" | "body" | "messageId" | "attachments">, replyTo?: string) {
  const { json, body, contentType } = createBody(content(message), message.messageId, message.attachments, replyTo);
  const created = api.send("POST", `/channels/${channel}/messages`, {
    json,
    body,
    headers: contentType ? { "content-type": contentType } : {},
    // enforce_nonce makes the create idempotent, so the host may retry it.
    idempotencyKey: message.messageId || undefined,
  }).json();
  return report(created);
}

function send(message: OutboundMessage): DeliveryReport {
  if (message.channel !== "chat" && message.channel !== "other") {
    throw ConnectorError.validation(`Discord delivers chat messages, not ${message.channel}`);
  }
  if (message.templateId) throw ConnectorError.unsupported("Discord has no message templates");
  if (message.to.length === 0) throw ConnectorError.validation("a message needs at least one channel id in `to`");
  const channels = message.to.map((to) => channelId(to));
  content(message); // checked before the first channel gets it
  const reports = channels.map((channel) => post(channel, message));
  // One report for the message: Discord's ids, in the order of `to`.
  return { ...reports[0], messageId: reports.map((r) => r.messageId).join(",") };
}

/** Statuses for a message that failed inside a bulk send. */
function failed(message: OutboundMessage, error: ConnectorError): DeliveryReport {
  const rejected = ["validation", "permanent", "not-found", "unsupported"].includes(error.payload.tag);
  return { messageId: message.messageId, status: rejected ? "rejected" : "failed", error: error.message, deliveredAt: undefined };
}

export const messaging = {
  send,

  sendBulk(messages: OutboundMessage[]): DeliveryReport[] {
    return messages.map((message) => {
      try {
        return send(message);
      } catch (error) {
        // Bad credentials fail every message alike: report it once, as the error.
        if (!(error instanceof ConnectorError) || error.payload.tag === "auth" || error.payload.tag === "config") throw error;
        return failed(message, error);
      }
    });
  },

  reply(to: InboundMessage, body: string): DeliveryReport {
    // An interaction is answered by completing its deferred response.
    const interaction = interactions.interactionOf(to.extra);
    if (interaction) {
      const text = content({ subject: undefined, body });
      const edited = api.json("PATCH", `/webhooks/${interaction.application}/${interaction.token}/messages/@original`, {
        json: { content: text, allowed_mentions: { parse: [] } },
      });
      return report(edited);
    }
    const channel = channelId(to.conversationId, "conversation");
    return post(channel, { subject: undefined, body, messageId: "", attachments: [] }, to.messageId);
  },
};

export const webhooks = {
  verify: interactions.verify,
  parse: interactions.parse,
  register: interactions.register,
  listRegistrations: interactions.listRegistrations,
  unregister: interactions.unregister,
};

export const webhookHandshake = {
  handshake: interactions.handshake,
};
