/** `bustle-control halt|resume|reload|restart|stop BOT`: one command to the control server holding the bot. */
import { Command } from "commander";
import { ConfigError } from "../../cluster/errors.js";
import type { Command as BotCommand } from "../api.js";
import { loadConfig, withBus, withConfig, type ConfigOpts } from "./common.js";

const WHAT: Record<Exclude<BotCommand, "status">, string> = {
  halt: "stop delivering events to a bot (it stays connected; events meanwhile are skipped)",
  resume: "deliver again after halt (also starts a stopped bot)",
  reload: "re-read control.yaml and restart the bot with its entry",
  restart: "stop and start the bot (also after it was given up)",
  stop: "stop the bot; it stays stopped (on whichever node) until resume or restart",
};

export function steerCommand(cmd: Exclude<BotCommand, "status">): Command {
  return withConfig(new Command(cmd))
    .description(WHAT[cmd])
    .argument("<bot>", "the bot id")
    .action(async (id: string, opts: ConfigOpts) => {
      const file = loadConfig(opts.config, false);
      const { sendCommand } = await import("../client.js");
      const { followedConfig } = await import("./bots-config.js");
      const reply = await withBus(file, async (nc) => {
        const config = await followedConfig(file, nc);
        if (!config.bots.some((b) => b.common.id === id)) {
          throw new ConfigError(
            `no bot ${JSON.stringify(id)} in ${opts.config} or the federation's bots config; known: ${config.bots.map((b) => b.common.id).join(", ") || "none"}`,
          );
        }
        return sendCommand(nc, id, cmd);
      });
      process.stdout.write(`${reply.message}\n`);
    });
}
