/**
 * `bustle digest [--since DURATION]`: "while you were away" — since your last look (kept in
 * ~/.local/state/bustle/last-look) or the given span. `--on` / `--off` choose whether the login
 * hook (/etc/profile.d/bustle.sh) shows it when you log in.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../../cluster/duration.js";

export interface DigestOptions {
  since?: number;
  on?: boolean;
  off?: boolean;
  log?: string;
  config?: string;
}

function span(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError("must be a duration like 30m, 2h or 1d");
  return ms;
}

export function digestCommand(): Command {
  return new Command("digest")
    .description("while you were away: what happened since your last look (or --since)")
    .option("--since <DURATION>", "look back this far instead (30m, 2h, 1d)", span)
    .addOption(new Option("--on", "show the digest when you log in").conflicts(["off", "since"]))
    .addOption(new Option("--off", "stop showing it at login").conflicts(["since"]))
    .option("--log <PATH>", "the log to read (default: $BUSTLE_LOG, else the node config's log.path)")
    .option("--config <FILE>", "node.yaml to find the log in")
    .action(async (opts: DigestOptions) => {
      const { runDigest } = await import("./digest-run.js");
      await runDigest(opts);
    });
}
