// Discord bots: send messages to channels and reply in them.

import { CONTRACT_VERSION, ConnectorError, guard } from "@patchbay/sdk";
import type { PluginManifest } from "patchbay:connector/connector@0.1.0";
import type { ConnectionTest } from "patchbay:connector/types@0.1.0";
import type { DeliveryReport, InboundMessage, OutboundMessage } from "patchbay:connector/messaging-types@0.1.0";
import { DEFAULT_API_BASE, call } from "./api.js";
import { channelId, content, createBody, report } from "./messages.js";

export const connector = {
  manifest(): PluginManifest {
    return {
      name: "discord",
      family: "messaging",
      displayName: "Discord",
      description: "Sends messages to Discord channels and replies in them as a bot (REST API v10).",
      version: "0.1.0",
      contractVersion: CONTRACT_VERSION,
      credentials: [
        {
          name: "bot_token",
          label: "Bot token",
          secret: true,
          required: true,
          default: undefined,
          choices: [],
          help: "From the Discord developer portal: your application, Bot, Reset Token.",
        },
      ],
      settings: [
        {
          name: "api_base",
          label: "API base URL",
          type: "url",
          required: false,
          default: DEFAULT_API_BASE,
          choices: [],
          help: "Only for testing against a mock server.",
        },
      ],
      auth: { strategy: "api-key", oauth2: undefined },
      allowedHosts: ["https://discord.com", "{{setting.api_base}}"],
      // Discord's global limit is 50 requests per second; per-route buckets
      // answer 429 with `retry_after`, which the host honours.
      rateLimit: { requestsPerSecond: 5, burst: 10 },
      retry: { maxRetries: 3, retryableStatuses: new Uint16Array([429, 500, 502, 503, 504]) },
      webhooks: undefined,
    };
  },

  testConnection(): ConnectionTest {
    return guard(() => {
      try {
        const me = call("GET", "/users/@me").json();
        return {
          success: true,
          message: `Connected as ${me.username}`,
          details: JSON.stringify({ id: me.id, username: me.username, bot: me.bot === true }),
        };
      } catch (error) {
        if (error instanceof ConnectorError && error.payload.tag === "auth") {
          return { success: false, message: `Discord refused the bot token: ${error.payload.val}`, details: "{}" };
        }
        throw error;
      }
    });
  },
};

function post(channel: string, message: Pick<OutboundMessage, "subject" | "body" | "messageId" | "attachments">, replyTo?: string) {
  const { json, body, contentType } = createBody(content(message), message.messageId, message.attachments, replyTo);
  const created = call("POST", `/channels/${channel}/messages`, {
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
  send(message: OutboundMessage): DeliveryReport {
    return guard(() => send(message));
  },

  sendBulk(messages: OutboundMessage[]): DeliveryReport[] {
    return guard(() =>
      messages.map((message) => {
        try {
          return send(message);
        } catch (error) {
          // Bad credentials fail every message alike: report it once, as the error.
          if (!(error instanceof ConnectorError) || error.payload.tag === "auth" || error.payload.tag === "config") throw error;
          return failed(message, error);
        }
      }),
    );
  },

  reply(to: InboundMessage, body: string): DeliveryReport {
    return guard(() => {
      const channel = channelId(to.conversationId, "conversation");
      return post(channel, { subject: undefined, body, messageId: "", attachments: [] }, to.messageId);
    });
  },
};
