/**
 * `bustle` with no sub-command: the last N lines of bustle.log, then every new one. This file
 * only declares the flags; the work (and its imports) load when the feed actually runs.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { action } from "./run.js";

/** The feed's parsed flags. */
export interface FeedOptions {
  lines: number;
  follow: boolean;
  plain: boolean;
  node?: string;
  grep?: string;
  log?: string;
  config?: string;
}

function count(value: string): number {
  if (!/^\d{1,7}$/.test(value)) throw new InvalidArgumentError("must be a whole number (0–9999999)");
  return Number(value);
}

/** The root `bustle` command with the feed's flags; the entry adds the sub-commands. */
export function feedCommand(): Command {
  return new Command("bustle")
    .description("the bustle feed: what is happening across the tildes (last lines, then live)")
    .option("-n, --lines <N>", "how many recent lines to show first", count, 10)
    .option("--no-follow", "print the recent lines and exit")
    .option("--plain", "no animation or colour: lines exactly as in the log", false)
    .option("--node <ID>", "only lines from this node")
    .option("--grep <TEXT>", "only lines containing TEXT (any case)")
    .option("--log <PATH>", "the log to read (default: $BUSTLE_LOG, else the node config's log.path)")
    .addOption(new Option("--config <FILE>", "node.yaml to find the log in (default: $BUSTLE_CONFIG or /etc/bustle/node.yaml)"))
    // Operands left over are a mistyped sub-command: say so instead of "too many arguments".
    .allowExcessArguments(true)
    .action(action(async (opts: FeedOptions, cmd: Command) => {
      if (cmd.args.length) cmd.error(`unknown command '${cmd.args[0]}'`, { exitCode: 2, code: "bustle.unknownCommand" });
      const { runFeed } = await import("./feed-run.js");
      await runFeed(opts);
    }));
}
