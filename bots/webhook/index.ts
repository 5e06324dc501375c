/**
 * The `webhook` bot type: matching events POSTed to a URL as JSON, or in the Discord- or
 * Slack-compatible shape; signed, retried, bounded. Registered in bots/registry.ts.
 */
import { readSecret } from "../../cluster/config/secrets.js";
import { defineBotType } from "../bot.js";
import { webhookSectionSchema, type WebhookConfig } from "./config.js";
import { WebhookBot } from "./webhook-bot.js";

export type { WebhookConfig } from "./config.js";
export { WebhookBot } from "./webhook-bot.js";

export const webhookBotType = defineBotType<WebhookConfig>({
  type: "webhook",
  schema: webhookSectionSchema,
  // Problems are relative to the `webhook:` section; the control config names the bot and line.
  check(config) {
    try {
      readSecret(
        { env: config.secret_env, file: config.secret_file },
        config.secret_env !== undefined ? "secret_env" : "secret_file",
      );
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  },
  create: (ctx) => new WebhookBot(ctx),
});
