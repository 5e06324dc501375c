/**
 * The log writer's own record of how far it got: the last stream sequence written to
 * bustle.log, the log's size and inode after that write. World-readable, so `bustle status`
 * can compare it with the stream head. Replaced atomically and durably (tmp, fsync, rename,
 * fsync of the directory).
 */
import { readFileSync } from "node:fs";
import { replaceFile } from "./durable-file.js";

export interface LogPosition {
  /** Last stream sequence written to the log (0: nothing yet). */
  seq: number;
  /** The log's size in bytes after that line. */
  size: number;
  /** The log file's inode (a different one means the log was rotated or replaced). */
  ino: number;
}

export const LOG_POSITION_FILE = "log-position.json";

export type LoadedLogPosition =
  | { kind: "missing" }
  | { kind: "ok"; pos: LogPosition }
  /** Empty, torn or unreadable (a power cut before the data reached the disk): a fault to recover from. */
  | { kind: "damaged"; error: string };

export function readLogPosition(file: string): LoadedLogPosition {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "missing" };
    return { kind: "damaged", error: `cannot read it (${code ?? (err as Error).message})` };
  }
  if (raw.trim() === "") return { kind: "damaged", error: "it is empty" };
  try {
    const p = JSON.parse(raw) as Partial<LogPosition>;
    if (Number.isSafeInteger(p.seq) && Number.isSafeInteger(p.size) && Number.isSafeInteger(p.ino)) return { kind: "ok", pos: p as LogPosition };
    return { kind: "damaged", error: "it does not hold {seq, size, ino}" };
  } catch {
    return { kind: "damaged", error: "it is not valid JSON (torn)" };
  }
}

export async function writeLogPosition(file: string, pos: LogPosition): Promise<void> {
  await replaceFile(file, JSON.stringify(pos) + "\n", 0o644);
}
