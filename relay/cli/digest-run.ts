/** Runs `bustle digest`: the login switch, or the summary since the last look (then a new mark). */
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { openIndexFd } from "../log-index.js";
import type { DigestOptions } from "./digest.js";
import { formatDigest, humanSpan } from "./digest-format.js";
import { summarise } from "./digest-summary.js";
import { makeFeedFilter } from "./filter.js";
import { loadMuteList } from "./mute-list.js";
import { resolveLogPath } from "./node-config.js";
import { CliError, fsError } from "./run.js";
import { configPath, readUserFile, removeUserFile, statePath, writeUserFile } from "./user-files.js";

export const LOGIN_FLAG = "digest-at-login";
export const LAST_LOOK = "last-look";
/** With no mark yet and no --since: the last day. */
const FIRST_LOOK_MS = 86_400_000;

function loginSwitch(on: boolean): void {
  const path = configPath(LOGIN_FLAG);
  if (on) {
    writeUserFile(path, "shown by /etc/profile.d/bustle.sh at login; bustle digest --off removes this file\n");
    process.stdout.write("your logins will start with the digest (bustle digest --off to stop)\n");
  } else {
    removeUserFile(path);
    process.stdout.write("no digest at login any more (bustle digest --on to have it back)\n");
  }
}

/** The last look, or undefined (no mark, or a mark that is not a time). */
function lastLook(): number | undefined {
  const t = Date.parse((readUserFile(statePath(LAST_LOOK)) ?? "").trim());
  return Number.isNaN(t) ? undefined : t;
}

export async function runDigest(opts: DigestOptions): Promise<void> {
  if (opts.on || opts.off) return loginSwitch(opts.on === true);
  const now = Date.now();
  const mark = opts.since === undefined ? lastLook() : undefined;
  const from = opts.since !== undefined ? now - opts.since : (mark ?? now - FIRST_LOOK_MS);
  const span =
    mark !== undefined
      ? `since you last looked ${humanSpan(now - mark)} ago`
      : `in the last ${humanSpan(now - from).replace(/^1 (\w+)$/, "$1")}`;

  const path = await resolveLogPath(opts);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new CliError(`no bustle.log at ${path} yet — is bustled running?`);
    throw fsError("read", path, err);
  }
  const indexFd = openIndexFd(path);
  try {
    if (!fstatSync(fd).isFile()) throw new CliError(`refusing to read ${path}: it is not a regular file`);
    const keep = makeFeedFilter({ mute: loadMuteList() })?.keep;
    const summary = summarise(fd, fstatSync(fd).size, new Date(from).toISOString(), indexFd, keep);
    process.stdout.write(formatDigest(summary, span, now));
  } finally {
    closeSync(fd);
    if (indexFd !== undefined) closeSync(indexFd);
  }
  writeUserFile(statePath(LAST_LOOK), `${new Date(now).toISOString()}\n`);
}
