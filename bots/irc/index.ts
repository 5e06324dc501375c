/** The `irc` bot type, as the registry knows it. */
import { defineBotType } from "../bot.js";
import { checkIrcConfig, ircConfigSchema, type IrcConfig } from "./config.js";
import { IrcBot } from "./irc-bot.js";

export type { IrcConfig } from "./config.js";

/** Registered in bots/registry.ts as `irc`. */
export const ircBotType = defineBotType<IrcConfig>({
  type: "irc",
  schema: ircConfigSchema,
  check: (config) => checkIrcConfig(config),
  create: (ctx) => new IrcBot(ctx),
});
