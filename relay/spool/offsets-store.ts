/**
 * The spool reader's positions, one per user, in `<stateDir>/spool-offsets.json`. Written
 * atomically and durably (temporary file, fsync, rename, fsync of the directory), the previous
 * version kept as `spool-offsets.json.prev`: a file found empty or unreadable (a power cut
 * before its data reached the disk) is replaced by that one — an older position only means a
 * few lines are read again, with the same ids, which the stream drops as copies.
 * Writes are coalesced: a save requested while one is running is folded into the next one; a
 * disk fault is retried with backoff until it passes (relay/disk-fault.ts).
 */
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

const MIN_INTERVAL_MS = 250;

/** Saves snapshots of the positions; `save` resolves once a write that includes the current state is on disk. */
export class OffsetsWriter {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
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
  ) {
    this.path = join(stateDir, OFFSETS_FILE);
  }

  save(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) {
      // After a write, the next one waits a little: under a steady stream of lines the offsets
      // file would otherwise be rewritten (and fsynced) back to back. A lagging file only means
      // a few lines are read again, with the same ids, after a crash.
      this.running = this.write()
        .then(() => new Promise((r) => setTimeout(r, MIN_INTERVAL_MS)))
        .finally(() => (this.running = undefined)) as Promise<void>;
      return this.running;
    }
    // One write is running with an older snapshot: queue exactly one more after it.
    this.queued = this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.save();
      });
    return this.queued;
  }

  private async write(): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    // A fresh snapshot on every attempt: a retry after a disk fault writes the newest positions.
    for (;;) {
      const spools: Record<string, SpoolPosition> = {};
      for (const [user, p] of [...this.snapshot()].sort(([a], [b]) => (a < b ? -1 : 1))) spools[user] = { ...p };
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
