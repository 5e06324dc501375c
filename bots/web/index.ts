/**
 * The `web` bot type: a portal with a live page, a JSON API, an event stream and an
 * authenticated publish endpoint. Registered in bots/registry.ts.
 */
import { ConfigError } from "../../cluster/errors.js";
import { defineBotType } from "../bot.js";
import { webSectionSchema, type WebConfig } from "./config.js";
import { TokenTable } from "./tokens.js";
import { WebBot } from "./web-bot.js";

export type { WebConfig } from "./config.js";
export { WebBot } from "./web-bot.js";

export const webBotType = defineBotType<WebConfig>({
  type: "web",
  schema: webSectionSchema,
  // Problems are relative to the `web:` section; the control config names the bot and line.
  check(config) {
    try {
      TokenTable.load(config.tokens, "");
      return [];
    } catch (err) {
      return err instanceof ConfigError ? [...err.problems] : [(err as Error).message];
    }
  },
  create: (ctx) => new WebBot(ctx),
});
