/** `bustle-control status [BOT] [--json]`: every configured bot, where it runs and how it is doing. */
import { Command } from "commander";
import { formatDuration } from "../../cluster/duration.js";
import { ConfigError } from "../../cluster/errors.js";
import type { BotStatus } from "../bot-runner.js";
import type { ControlConfig } from "../config/control-config.js";
import type { ServerStatus } from "../api.js";
import { loadConfig, withBus, withConfig } from "./common.js";
import { formatTable } from "./table.js";

/** The configured bots joined with what the control servers report; bots nobody holds are "unplaced". */
export function mergeStatus(config: ControlConfig, servers: ServerStatus[]): BotStatus[] {
  const held = new Map<string, BotStatus>();
  for (const s of servers) for (const b of s.bots) held.set(b.id, b);
  const out = config.bots.map(
    (b): BotStatus =>
      held.get(b.common.id) ?? {
        id: b.common.id,
        type: b.common.type,
        state: b.common.enabled ? "unplaced" : "disabled",
        halted: false,
        restarts: 0,
        node: b.common.placement?.node,
      },
  );
  // Bots a server still runs from an older control.yaml than ours.
  for (const [id, b] of held) if (!config.bots.some((c) => c.common.id === id)) out.push(b);
  return out;
}

export function renderStatus(list: BotStatus[], now = Date.now()): string {
  const rows = [["BOT", "TYPE", "STATE", "NODE", "UPTIME", "RESTARTS", "SEQ", "LAST ERROR"]];
  for (const b of list) {
    const state = [b.state, b.halted ? "halted" : "", b.bot && b.bot !== "connected" ? b.bot : ""]
      .filter(Boolean)
      .join(",");
    rows.push([
      b.id,
      b.type,
      state,
      b.node ?? "-",
      b.since ? formatDuration(now - Date.parse(b.since)) : "-",
      String(b.restarts),
      b.seq === undefined ? "-" : String(b.seq),
      (b.lastError ?? b.detail ?? "").slice(0, 80),
    ]);
  }
  return formatTable(rows);
}

export const statusCommand = withConfig(new Command("status"))
  .description("show each bot's state, node, uptime, restarts and last error")
  .argument("[bot]", "only this bot")
  .option("--json", "print JSON (a list of bot status objects)")
  .action(async (id: string | undefined, opts: { config: string; json?: boolean }) => {
    const file = loadConfig(opts.config, false);
    const { collectStatus } = await import("../client.js");
    const { followedConfig } = await import("./bots-config.js");
    const [config, servers] = await withBus(file, async (nc) => {
      // The bots this node's control server runs: the federation's stored list where it follows one.
      const config = await followedConfig(file, nc);
      if (id !== undefined && !config.bots.some((b) => b.common.id === id)) {
        throw new ConfigError(
          `no bot ${JSON.stringify(id)} in ${opts.config} or the federation's bots config; known: ${config.bots.map((b) => b.common.id).join(", ") || "none"}`,
        );
      }
      return [config, await collectStatus(nc)] as const;
    });
    const list = mergeStatus(config, servers).filter((b) => id === undefined || b.id === id);
    process.stdout.write(opts.json ? JSON.stringify(list, null, 2) + "\n" : renderStatus(list));
  });
