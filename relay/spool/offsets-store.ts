/**
 * The spool reader's positions, one per user, in `<stateDir>/spool-offsets.json`. Written
 * atomically and durably (temporary file, fsync, rename, fsync of the directory), the previous
 * version kept as `spool-offsets.json.prev`: a file found empty or unreadable (a power cut
 * before its data reached the disk) is replaced by that one — an older position only means a
 * few lines are read again, with the same ids, which the stream drops as copies.
 * Writes are coalesced: a save requested while one is running is folded into the next one; a
 * disk fault is retried with backoff until it passes (relay/disk-fault.ts).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { createDiskFaults, isDiskError, type DiskFaults } from "../disk-fault.js";
import { replaceFile } from "../durable-file.js";
import { silentLogger } from "../../cluster/logger.js";

/** Where one user's spool has been read up to. */
export interface SpoolPosition {
  /** The file's identity when this position was taken (rotation changes it). */
  dev: number;
  ino: number;
  /**
   * A hash of the (up to 64) bytes just before `offset`. Inode numbers get reused and files get
   * refilled in place; when these bytes changed, the file is not the one we were reading.
   */
  tail: string;
  /** Bumped on truncation or rotation; part of every event id. */
  generation: number;
  /** Byte offset after the last line handed to the sink (always a line start). */
  offset: number;
}

/** How many bytes before a position's offset its `tail` covers. */
export const TAIL_BYTES = 64;

/** The `tail` of a position: a hash of the bytes just before its offset. */
export const hashTail = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("base64url").slice(0, 22);

/**
 * A position the reader took itself, holding the bytes before its offset rather than their hash:
 * the next check compares those bytes (a memcmp), and the hash (a SHA-256) is made only when the
 * offsets are saved, not once per line read (two hashes per line were ~4 % of the relay's main
 * thread at 500 lines/s: docs/BENCHMARKS.md, the node section of 2026-12-02).
 */
export class ReadPosition implements SpoolPosition {
  private hash: string | undefined;

  /** `before`: the (up to TAIL_BYTES) bytes just before `offset`; kept, not copied. */
  constructor(
    readonly dev: number,
    readonly ino: number,
    readonly generation: number,
    readonly offset: number,
    private readonly before: Uint8Array,
  ) {}

  get tail(): string {
    this.hash ??= hashTail(this.before);
    return this.hash;
  }

  /** Whether `bytes` are the bytes before the offset when this position was taken. */
  tailIs(bytes: Uint8Array): boolean {
    return Buffer.compare(this.before, bytes) === 0;
  }
}

/** Whether the bytes before `p.offset` are still `bytes` (the file was not replaced or refilled). */
export function tailMatches(p: SpoolPosition, bytes: Uint8Array): boolean {
  return p instanceof ReadPosition ? p.tailIs(bytes) : hashTail(bytes) === p.tail;
}

export type LoadedOffsets =
  | { kind: "missing" }
  /** `recovered`: the file was damaged (moved aside) and its previous version was used. */
  | { kind: "loaded"; positions: Map<string, SpoolPosition>; recovered?: { movedTo: string; error: string } }
  | { kind: "corrupt"; movedTo: string; error: string };

export const OFFSETS_FILE = "spool-offsets.json";

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads the offsets file. A damaged file is moved aside (kept for the admin); then its previous
 * version is used when it is sound, else the result is `corrupt`.
 */
export function loadOffsets(stateDir: string): LoadedOffsets {
  const path = join(stateDir, OFFSETS_FILE);
  const main = readPositions(path);
  if (main.kind !== "corrupt") return main;
  const movedTo = `${path}.corrupt-${Date.now()}`;
  renameSync(path, movedTo);
  const prev = readPositions(`${path}.prev`);
  if (prev.kind === "loaded") return { ...prev, recovered: { movedTo, error: main.error } };
  return { kind: "corrupt", movedTo, error: main.error };
}

function readPositions(
  path: string,
):
  | { kind: "missing" }
  | { kind: "loaded"; positions: Map<string, SpoolPosition> }
  | { kind: "corrupt"; error: string } {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw err;
  }
  try {
    if (raw.trim() === "") throw new Error("the file is empty");
    const parsed = JSON.parse(raw) as { v?: unknown; spools?: Record<string, unknown> };
    if (parsed.v !== 1 || typeof parsed.spools !== "object" || parsed.spools === null)
      throw new Error("not a version 1 offsets file");
    const positions = new Map<string, SpoolPosition>();
    for (const [user, value] of Object.entries(parsed.spools)) {
      const p = value as Record<string, unknown>;
      if (!isCount(p.dev) || !isCount(p.ino) || !isCount(p.generation) || !isCount(p.offset))
        throw new Error(`bad entry for ${JSON.stringify(user)}`);
      const tail = typeof p.tail === "string" ? p.tail : "";
      positions.set(user, { dev: p.dev, ino: p.ino, tail, generation: p.generation, offset: p.offset });
    }
    return { kind: "loaded", positions };
  } catch (err) {
    return { kind: "corrupt", error: (err as Error).message };
  }
}

/**
 * Writes follow each other at least this far apart: under a steady stream of lines the offsets
 * file would otherwise be rewritten (a dozen thread-pool calls, two fsyncs, and a journal sync
 * before it) back to back. A lagging file only means that, after a crash, up to this long of
 * lines are read again, with the same ids, and the stream drops the copies.
 */
export const SAVE_INTERVAL_MS = 1000;

/**
 * Saves snapshots of the positions; `save` resolves once a write that includes the current state
 * is on disk. A save asked for within SAVE_INTERVAL_MS of the last write waits out the rest of
 * it (folded with every other save asked for meanwhile); `saveNow` does not wait (stopping).
 */
export class OffsetsWriter {
  /** The write under way and the pause after it; a save asked for meanwhile is queued behind it. */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Ends the pause after the last write early (set while it runs). */
  private endPause: (() => void) | undefined;
  /** Set by saveNow: no more pauses. */
  private hurry = false;
  private readonly path: string;

  /**
   * `beforeWrite` runs after the snapshot is taken and before it is written: the reader passes
   * the sink's `flushed`, so a saved offset never runs ahead of the events on disk.
   */
  constructor(
    private readonly stateDir: string,
    private readonly snapshot: () => Map<string, SpoolPosition>,
    private readonly beforeWrite: () => Promise<void> = async () => {},
    private readonly faults: DiskFaults = createDiskFaults(silentLogger),
    private readonly intervalMs = SAVE_INTERVAL_MS,
  ) {
    this.path = join(stateDir, OFFSETS_FILE);
  }

  save(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) {
      const written = this.write();
      this.running = written
        .catch(() => {})
        .then(() => this.pause())
        .finally(() => (this.running = undefined));
      return written;
    }
    // One write is running with an older snapshot (or just ran): queue exactly one more after it.
    this.queued = this.running.then(() => {
      this.queued = undefined;
      return this.save();
    });
    return this.queued;
  }

  /** Saves without waiting for the pause after the last write; resolves once it is on disk. */
  saveNow(): Promise<void> {
    this.hurry = true;
    this.endPause?.();
    return this.save();
  }

  private pause(): Promise<void> {
    if (this.hurry) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.intervalMs);
      this.endPause = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.endPause = undefined));
  }

  private async write(): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    // A fresh snapshot on every attempt: a retry after a disk fault writes the newest positions.
    for (;;) {
      const spools: Record<string, SpoolPosition> = {};
      for (const [user, p] of [...this.snapshot()].sort(([a], [b]) => (a < b ? -1 : 1)))
        spools[user] = { dev: p.dev, ino: p.ino, tail: p.tail, generation: p.generation, offset: p.offset };
      try {
        await this.beforeWrite();
      } catch (err) {
        // The sink could not sync (it reports its own disk fault): the offsets wait for it.
        if (isDiskError(err) && (await this.faults.retry(this.path))) continue;
        throw err;
      }
      try {
        await replaceFile(this.path, JSON.stringify({ v: 1, spools }, null, 1) + "\n", 0o600, true);
        this.faults.clear(this.path);
        return;
      } catch (err) {
        if (!this.faults.report(this.path, err) || !(await this.faults.retry(this.path))) throw err;
      }
    }
  }
}
