/** The `quakeworld` bot type, for the registry. */
export { quakeworldBot as quakeworldBotType, GAME_KIND } from "./quakeworld-bot.js";
export { quakeworldSchema, type QuakeworldConfig } from "./config.js";
