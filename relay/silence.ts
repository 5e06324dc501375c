/**
 * Silenced users: `<state>/silenced.json`, written by `bustled silence` / `unsilence`, watched
 * by the running relay (it rereads the file when it changes, checking a few times a second), so
 * a silence takes effect within a second without a restart. A silenced user's spool lines are
 * refused and audit-logged by the spool reader; nothing of them reaches the stream. A silence
 * with an end expires by itself.
 *
 * The user is told in their home: `~/.bustle.silenced` (a note the admin's command writes and
 * unsilence removes; `bustle update`/`shout` show it once).
 */
import {
  chownSync,
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../cluster/logger.js";
import type { Audit } from "./audit.js";

export const SILENCED_FILE = "silenced.json";
export const SILENCE_NOTE = ".bustle.silenced";
const CHECK_MS = 250;

export interface Silence {
  /** ISO time it ends, or null for "until unsilenced". */
  until: string | null;
  reason: string | null;
  /** When it was set. */
  at: string;
}

export type SilenceList = Record<string, Silence>;

export const silencedPath = (stateDir: string): string => join(stateDir, SILENCED_FILE);

/** The list in the file; {} when there is none. Throws on a corrupt file (the admin must see it). */
export function readSilences(stateDir: string): SilenceList {
  let text: string;
  try {
    text = readFileSync(silencedPath(stateDir), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  const v = JSON.parse(text) as unknown;
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error(`${silencedPath(stateDir)} is not a JSON object`);
  return v as SilenceList;
}

/** Replaces the list atomically (tmp + rename), mode 0600. */
export function writeSilences(stateDir: string, list: SilenceList): void {
  mkdirSync(stateDir, { recursive: true });
  const path = silencedPath(stateDir);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(list, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** True while the silence holds at `now`. */
export const inForce = (s: Silence | undefined, now: number): s is Silence =>
  s !== undefined && (s.until === null || Date.parse(s.until) > now);

/** The one-line note a silenced user reads. */
export function noteText(node: string, s: Silence): string {
  const until = s.until === null ? "until an admin lifts it" : `until ${s.until}`;
  return (
    `you are silenced on ${node} ${until}${s.reason ? ` (reason: ${s.reason})` : ""}: your updates and shouts are not posted\n` +
    `until=${s.until ?? "never"} at=${s.at}\n`
  );
}

/**
 * Writes the note into the user's home as that home's owner, never through a link the user
 * planted: any old note (or link) is removed, the new one is created exclusively without
 * following links, then given to the user.
 */
export function writeSilenceNote(home: string, text: string): void {
  const path = join(home, SILENCE_NOTE);
  const owner = statSync(home);
  removeSilenceNote(home);
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  if (process.getuid?.() === 0) chownSync(path, owner.uid, owner.gid);
}

export function removeSilenceNote(home: string): void {
  const path = join(home, SILENCE_NOTE);
  try {
    lstatSync(path);
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** The running relay's view of the list. `check(user)` is the spool reader's predicate; stop() ends the watch. */
export interface SilenceWatch {
  check(user: string): Silence | undefined;
  stop(): void;
}

export function watchSilences(stateDir: string, audit: Audit, log: Logger, now: () => number = Date.now): SilenceWatch {
  const path = silencedPath(stateDir);
  let list: SilenceList = {};
  let seen = "";
  const reload = () => {
    let stamp: string;
    try {
      const st = statSync(path);
      stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      stamp = "none";
    }
    if (stamp === seen) return;
    seen = stamp;
    try {
      list = readSilences(stateDir);
      audit.note("silenced users", { users: Object.keys(list) });
      if (Object.keys(list).length) log.info("silenced users", { users: Object.keys(list) });
    } catch (err) {
      // Keep the last good list: a half-edited file must not lift every silence.
      log.error("cannot read the silence list; keeping the previous one", { path, error: err });
    }
  };
  reload();
  const timer = setInterval(reload, CHECK_MS);
  timer.unref();
  return {
    check(user) {
      const s = list[user];
      return inForce(s, now()) ? s : undefined;
    },
    stop: () => clearInterval(timer),
  };
}
