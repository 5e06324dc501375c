/**
 * Bot types by their YAML `type`: the one place a bot type is made known. The control server
 * validates control.yaml with these schemas and the bot host builds bots from these factories.
 * Adding a type is one import line and one entry below; nothing else needs to change.
 */
import type { BotType } from "./bot.js";
import { execBot } from "./exec/exec-bot.js";
import { ircBotType } from "./irc/index.js";
import { quakeworldBotType } from "./quakeworld/index.js";
import { webBotType } from "./web/index.js";
import { webhookBotType } from "./webhook/index.js";

// Each entry has its own config type, hence `any` here.
export type Registry = Readonly<Record<string, BotType<any>>>;

export const registry: Registry = {
  exec: execBot,
  irc: ircBotType,
  quakeworld: quakeworldBotType,
  web: webBotType,
  webhook: webhookBotType,
};
