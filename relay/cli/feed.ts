/**
 * `bustle` with no sub-command: the last N lines of bustle.log, then every new one. This file
 * only declares the flags; the work (and its imports) load when the feed actually runs.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { isKind } from "../../cluster/names.js";

/** The feed's parsed flags. */
export interface FeedOptions {
  lines: number;
  follow: boolean;
  plain: boolean;
  node?: string;
  grep?: string;
  kind?: string[];
  notKind?: string[];
  /** Show muted lines too. */
  all: boolean;
  log?: string;
  config?: string;
}

function count(value: string): number {
  if (!/^\d{1,7}$/.test(value)) throw new InvalidArgumentError("must be a whole number (0–9999999)");
  return Number(value);
}

function kinds(value: string, previous: string[] | undefined): string[] {
  const list = value
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  const bad = list.find((k) => !isKind(k));
  if (bad !== undefined || list.length === 0)
    throw new InvalidArgumentError(`${JSON.stringify(bad ?? value)} is not a kind (like shout, update, activity)`);
  return [...(previous ?? []), ...list];
}

/** The root `bustle` command with the feed's flags; the entry adds the sub-commands. */
export function feedCommand(): Command {
  return (
    new Command("bustle")
      .description("the bustle feed: what is happening across the tildes (last lines, then live)")
      .option("-n, --lines <N>", "how many recent lines to show first", count, 10)
      .option("--no-follow", "print the recent lines and exit")
      .option("--plain", "no animation or colour: lines exactly as in the log", false)
      .option("--node <ID>", "only lines from this node")
      .option("--grep <TEXT>", "only lines containing TEXT (any case)")
      .option("--kind <KINDS>", "only these kinds (comma-separated: shout,update)", kinds)
      .option("--not-kind <KINDS>", "leave out these kinds (comma-separated: activity)", kinds)
      .option("--all", "show muted lines too (see bustle mute)", false)
      .option("--log <PATH>", "the log to read (default: $BUSTLE_LOG, else the node config's log.path)")
      .addOption(
        new Option(
          "--config <FILE>",
          "node.yaml to find the log in (default: $BUSTLE_CONFIG or /etc/bustle/node.yaml)",
        ),
      )
      // Operands left over are a mistyped sub-command: say so instead of "too many arguments".
      .allowExcessArguments(true)
      .action(async (opts: FeedOptions, cmd: Command) => {
        if (cmd.args.length)
          cmd.error(`unknown command '${cmd.args[0]}'`, { exitCode: 2, code: "bustle.unknownCommand" });
        const { runFeed } = await import("./feed-run.js");
        await runFeed(opts);
      })
  );
}
