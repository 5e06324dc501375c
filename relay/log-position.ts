/**
 * The log writer's own record of how far it got: the last stream sequence written to
 * bustle.log, the log's size and inode after that write. World-readable, so `bustle status`
 * can compare it with the stream head. Written atomically (tmp + rename).
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";

export interface LogPosition {
  /** Last stream sequence written to the log (0: nothing yet). */
  seq: number;
  /** The log's size in bytes after that line. */
  size: number;
  /** The log file's inode (a different one means the log was rotated or replaced). */
  ino: number;
}

export const LOG_POSITION_FILE = "log-position.json";

export function readLogPosition(file: string): LogPosition | undefined {
  try {
    const p = JSON.parse(readFileSync(file, "utf8")) as Partial<LogPosition>;
    if (Number.isSafeInteger(p.seq) && Number.isSafeInteger(p.size) && Number.isSafeInteger(p.ino)) return p as LogPosition;
  } catch {
    /* missing or torn: start from nothing */
  }
  return undefined;
}

export async function writeLogPosition(file: string, pos: LogPosition): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(pos) + "\n", { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}

export function writeLogPositionSync(file: string, pos: LogPosition): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(pos) + "\n", { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}
