/**
 * `bustled silence USER [--for DURATION] [--reason TEXT]`, `bustled unsilence USER`,
 * `bustled silenced`: the admin's side of relay/silence.ts. They edit `<state>/silenced.json`
 * (the running relay picks it up within a second) and the user's `~/.bustle.silenced` note.
 */
import { Command, InvalidArgumentError } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseDuration } from "../cluster/duration.js";
import { BustleError } from "../cluster/errors.js";
import { safeText } from "../cluster/text.js";
import { loadNodeConfig, type NodeConfig } from "./config.js";
import {
  inForce,
  noteText,
  readSilences,
  removeSilenceNote,
  writeSilenceNote,
  writeSilences,
  type SilenceList,
} from "./silence.js";
import { isUserName } from "./spool/discovery.js";

class SilenceError extends BustleError {}

function user(value: string): string {
  if (!isUserName(value)) throw new InvalidArgumentError("must be a user name (as in their home folder's name)");
  return value;
}

function span(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError("must be a duration like 30m, 2h or 7d");
  return ms;
}

function load(config: NodeConfig): SilenceList {
  try {
    return readSilences(config.state.dir);
  } catch (err) {
    throw new SilenceError(`cannot read the silence list in ${config.state.dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The list without silences that have ended. */
const current = (list: SilenceList, now: number): SilenceList =>
  Object.fromEntries(Object.entries(list).filter(([, s]) => inForce(s, now)));

const configOption = (cmd: Command) =>
  cmd.option("-c, --config <file>", "node.yaml (default: $BUSTLE_CONFIG)", process.env.BUSTLE_CONFIG);

export function silenceCommands(): Command[] {
  const silence = configOption(new Command("silence"))
    .description("refuse a local user's spool lines (audit-logged) until --for ends or unsilence; no restart")
    .argument("<USER>", "the user", user)
    .option("--for <DURATION>", "how long (30m, 2h, 7d); default: until unsilenced", span)
    .option("--reason <TEXT>", "why (the user is told)")
    .action((name: string, opts: { config?: string; for?: number; reason?: string }) => {
      const config = loadNodeConfig(opts.config);
      const now = Date.now();
      const s = {
        until: opts.for === undefined ? null : new Date(now + opts.for).toISOString(),
        reason: opts.reason ? safeText(opts.reason, 200) : null,
        at: new Date(now).toISOString(),
      };
      writeSilences(config.state.dir, { ...current(load(config), now), [name]: s });
      const home = join(config.homes.root, name);
      let told = "";
      if (existsSync(home)) {
        try {
          writeSilenceNote(home, noteText(config.node.id, s));
          told = `; told in ${join(home, ".bustle.silenced")}`;
        } catch (err) {
          told = `; could not leave the note in ${home}: ${(err as Error).message}`;
        }
      }
      process.stdout.write(
        `silenced ${name} on ${config.node.id} ${s.until ? `until ${s.until}` : "until unsilenced"}` +
          `${s.reason ? ` (reason: ${s.reason})` : ""}${told}\n`,
      );
    });

  const unsilence = configOption(new Command("unsilence"))
    .description("let a silenced user post again")
    .argument("<USER>", "the user", user)
    .action((name: string, opts: { config?: string }) => {
      const config = loadNodeConfig(opts.config);
      const list = current(load(config), Date.now());
      const was = name in list;
      delete list[name];
      writeSilences(config.state.dir, list);
      const home = join(config.homes.root, name);
      if (existsSync(home)) removeSilenceNote(home);
      process.stdout.write(was ? `${name} may post again\n` : `${name} was not silenced\n`);
    });

  const silenced = configOption(new Command("silenced"))
    .description("list the users silenced on this node")
    .action((opts: { config?: string }) => {
      const config = loadNodeConfig(opts.config);
      const list = Object.entries(current(load(config), Date.now()));
      if (!list.length) return void process.stdout.write("nobody is silenced\n");
      for (const [name, s] of list) {
        process.stdout.write(
          `${name}\t${s.until ? `until ${s.until}` : "until unsilenced"}\tsince ${s.at}${s.reason ? `\t${s.reason}` : ""}\n`,
        );
      }
    });
  return [silence, unsilence, silenced];
}
