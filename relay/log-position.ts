/**
 * The log writer's own record of how far it got: the last stream sequence written to
 * bustle.log, the log's size and inode after that write. World-readable, so `bustle status`
 * can compare it with the stream head. Replaced atomically and durably (tmp, fsync, rename,
 * fsync of the directory).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
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

/** Where the log writer keeps its position in a node's state dir (every reader takes the path from here). */
export const logPositionPath = (stateDir: string): string => join(stateDir, LOG_POSITION_FILE);

/** The file as read, before either reader checks its shape. */
type PositionFile =
  | { kind: "missing" }
  | { kind: "unreadable"; reason: string }
  | { kind: "empty" }
  | { kind: "torn" }
  | { kind: "json"; value: { [K in keyof LogPosition]?: unknown } };

function readPositionFile(file: string): PositionFile {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "missing" };
    return { kind: "unreadable", reason: code ?? (err as Error).message };
  }
  if (raw.trim() === "") return { kind: "empty" };
  try {
    return { kind: "json", value: (JSON.parse(raw) ?? {}) as { [K in keyof LogPosition]?: unknown } };
  } catch {
    return { kind: "torn" };
  }
}

/** The log writer's own reading: all three fields, or a fault to recover from. */
export function readLogPosition(file: string): LoadedLogPosition {
  const f = readPositionFile(file);
  switch (f.kind) {
    case "missing":
      return f;
    case "unreadable":
      return { kind: "damaged", error: `cannot read it (${f.reason})` };
    case "empty":
      return { kind: "damaged", error: "it is empty" };
    case "torn":
      return { kind: "damaged", error: "it is not valid JSON (torn)" };
    case "json": {
      const p = f.value;
      if (Number.isSafeInteger(p.seq) && Number.isSafeInteger(p.size) && Number.isSafeInteger(p.ino))
        return { kind: "ok", pos: p as LogPosition };
      return { kind: "damaged", error: "it does not hold {seq, size, ino}" };
    }
  }
}

/** How far a node's bustle.log is, as `bustle status` and `bustle-cluster status` report it. */
export interface LogPositionHealth {
  file: string;
  /** The last stream sequence written to bustle.log. */
  seq: number;
  /** bustle.log's size in bytes at that point. */
  size: number;
  /** Events in the stream not yet in the log (stream last_seq − seq); undefined without stream info. */
  lag: number | undefined;
}

/**
 * A reader's view of the position (any user, any time): seq and size against the stream head
 * `streamLastSeq` when it is known, or one line saying why there is none.
 */
export function logPositionHealth(
  file: string,
  streamLastSeq: number | undefined,
): LogPositionHealth | { error: string } {
  const f = readPositionFile(file);
  if (f.kind === "missing") return { error: `no log position at ${file} yet (has the log writer run?)` };
  if (f.kind === "unreadable") return { error: `cannot read ${file}: ${f.reason}` };
  if (f.kind !== "json") return { error: `${file} is not valid JSON` };
  const { seq, size } = f.value;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || !Number.isSafeInteger(size) || (size as number) < 0) {
    return { error: `${file} does not hold {"seq": N, "size": B}` };
  }
  return {
    file,
    seq: seq as number,
    size: size as number,
    lag: streamLastSeq === undefined ? undefined : Math.max(0, streamLastSeq - (seq as number)),
  };
}

export async function writeLogPosition(file: string, pos: LogPosition): Promise<void> {
  await replaceFile(file, JSON.stringify(pos) + "\n", 0o644);
}
