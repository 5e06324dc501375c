/**
 * Appending one line to `~/.bustle.spool`: a single O_APPEND write, so concurrent `bustle`
 * runs never interleave, and no symlinks or special files (O_NOFOLLOW, fstat check), so a
 * planted link cannot make us write somewhere else. Needs no relay and no NATS.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CliError, fsError, homeDir } from "./run.js";

export const SPOOL_NAME = ".bustle.spool";
/** What the relay keeps of a text; longer texts are cut (with "…"). */
export const TEXT_LIMIT = 400;

export interface SpoolLine {
  kind: "update" | "shout";
  text: string;
  anon: boolean;
}

/** The exact line written: `{"kind":…,"text":…,"anon":…}` and a newline. */
export const spoolLine = (l: SpoolLine): string => JSON.stringify({ kind: l.kind, text: l.text, anon: l.anon }) + "\n";

/** Joins the words given on the command line, refusing an empty text. */
export function textFromArgs(words: string[]): string {
  const text = words.join(" ").trim();
  if (text === "") throw new CliError("nothing to say: give some text, e.g. bustle update working on my garden");
  return text;
}

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * Appends the line to `<home>/.bustle.spool` (created 0600 when missing; an older, looser spool
 * is made 0600 too: others must not see who posted an anonymous shout) and returns the path.
 * Throws CliError when the spool is a symlink, not a regular file, not ours, or unwritable.
 */
export function appendSpool(line: SpoolLine, home = homeDir()): string {
  const path = join(home, SPOOL_NAME);
  const data = Buffer.from(spoolLine(line), "utf8");
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not hang; fstat below refuses it anyway.
    fd = openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw fsError("create", path, err);
    try {
      fd = openSync(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK);
    } catch (err2) {
      throw fsError("open", path, err2);
    }
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new CliError(`refusing to write ${path}: it is not a regular file (remove it and try again)`);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid)
      throw new CliError(
        `refusing to write ${path}: it belongs to another user (uid ${st.uid}); the relay would ignore it`,
      );
    // Private: the relay reads it with its capability (CAP_DAC_READ_SEARCH) or as root.
    if (st.mode & 0o077) fchmodSync(fd, st.mode & 0o700);
    let written: number;
    try {
      written = writeSync(fd, data, 0, data.length);
    } catch (err) {
      throw fsError("write to", path, err);
    }
    if (written !== data.length)
      throw new CliError(
        `short write to ${path} (${written} of ${data.length} bytes); the relay will skip the torn line`,
      );
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A warning line when the relay will shorten the text, else undefined. */
export function lengthWarning(text: string): string | undefined {
  const n = Array.from(text).length;
  return n > TEXT_LIMIT ? `bustle: warning: your text has ${n} characters; it will be cut to ${TEXT_LIMIT}` : undefined;
}
