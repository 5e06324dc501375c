/**
 * Disk faults (a full filesystem, an I/O error) of the relay's durable writers, in one place.
 *
 * A writer whose write fails calls `report(path, err)`: for a disk fault it gets `true`, the
 * fault is said ONCE, loudly (which path, which error, what the relay does about it), and it is
 * recorded in `<state>/disk-fault.json` so that `bustle status` shows it while it lasts. The
 * writer then keeps what it could not write, waits `retry(path)` (a backoff) and tries again;
 * its first successful write calls `clear(path)`, which says the relay resumed. Nothing a writer
 * holds is dropped, and the producers stop taking new work (their submits wait), so spool
 * offsets stay where they are until the disk takes writes again.
 *
 * The fault file is created at start, padded to a fixed size and later overwritten in place:
 * rewriting bytes a file already owns needs no free space, so it can be updated on a full disk.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync, constants } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../cluster/logger.js";

/** Error codes that mean "the disk cannot take this write now" (not a bug, not bad input). */
const DISK_CODES = new Set(["ENOSPC", "EDQUOT", "EIO", "EROFS", "EFBIG", "ESHORTWRITE"]);

export const DISK_FAULT_FILE = "disk-fault.json";
const FAULT_FILE_BYTES = 2048;

/** A write that wrote fewer bytes than asked (the kernel says ENOSPC only on the next one). */
export class ShortWrite extends Error {
  readonly code = "ESHORTWRITE";
  constructor(
    readonly path: string,
    readonly wrote: number,
    readonly wanted: number,
  ) {
    super(`short write to ${path}: ${wrote} of ${wanted} bytes (the filesystem is probably full)`);
    this.name = "ShortWrite";
  }
}

export const isDiskError = (err: unknown): boolean =>
  DISK_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? "");

/** What `<state>/disk-fault.json` holds while a fault lasts. */
export interface DiskFaultRecord {
  path: string;
  code: string;
  message: string;
  /** ISO time the fault began. */
  since: string;
  /** Other paths faulted at the same time. */
  more: number;
}

export interface DiskFaults {
  /** A write of `path` failed. True when it is a disk fault (then the writer should retry). */
  report(path: string, err: unknown): boolean;
  /** A write of `path` succeeded: its fault (if any) is over. */
  clear(path: string): void;
  /** Waits before the next attempt at `path` (200 ms doubling to 5 s). False once the relay is stopping: give up. */
  retry(path: string): Promise<boolean>;
  /** Stops every retry (shutdown): waiting writers give up and reject what they hold. */
  abandon(): void;
  /** True while some write is faulted. */
  readonly active: boolean;
  /** True once `abandon()` was called. */
  readonly abandoned: boolean;
  /** Clears the fault file (a stopped relay has no fault) and closes it. */
  close(): void;
}

interface Fault {
  code: string;
  message: string;
  since: Date;
  attempts: number;
}

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code ?? "EIO";
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** `stateDir`: where the fault file lives (undefined: nowhere, for unit tests of one writer). */
export function createDiskFaults(log: Logger, stateDir?: string): DiskFaults {
  const faults = new Map<string, Fault>();
  const file = stateDir === undefined ? undefined : join(stateDir, DISK_FAULT_FILE);
  let fd: number | undefined;
  let abandoned = false;
  const sleepers = new Set<() => void>();

  if (file) {
    try {
      mkdirSync(stateDir!, { recursive: true });
      fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
      record();
    } catch (err) {
      log.warn("cannot create the disk fault file; `bustle status` will not show disk faults", { file, error: err });
    }
  }

  /** Overwrites the fault file in place with the current state (never grows it). */
  function record(): void {
    if (fd === undefined) return;
    const [first] = faults;
    const body: { fault: DiskFaultRecord | null } = { fault: null };
    if (first) {
      const [path, f] = first;
      body.fault = {
        path,
        code: f.code,
        message: f.message.slice(0, 600),
        since: f.since.toISOString(),
        more: faults.size - 1,
      };
    }
    const text = JSON.stringify(body);
    const buf = Buffer.alloc(FAULT_FILE_BYTES, " ");
    buf.write(text.slice(0, FAULT_FILE_BYTES - 1));
    buf[FAULT_FILE_BYTES - 1] = 0x0a;
    try {
      writeSync(fd, buf, 0, buf.length, 0);
    } catch (err) {
      log.warn("cannot update the disk fault file", { file, error: err });
    }
  }

  return {
    report(path, err) {
      if (!isDiskError(err)) return false;
      const known = faults.get(path);
      if (known) {
        known.attempts++;
        return true;
      }
      faults.set(path, { code: codeOf(err), message: messageOf(err), since: new Date(), attempts: 1 });
      // Said once per fault, loudly: this is what the admin has to act on.
      log.error(
        `DISK FAULT: cannot write ${path} (${codeOf(err)}: ${messageOf(err)}). ` +
          "bustled stops taking new events from spools (their offsets stay, nothing is lost) and retries; " +
          "it resumes by itself once the filesystem takes writes again — free space there.",
        { path, code: codeOf(err) },
      );
      record();
      return true;
    },
    clear(path) {
      const f = faults.get(path);
      if (!f) return;
      faults.delete(path);
      log.warn(`disk fault over: ${path} takes writes again; resuming`, {
        path,
        lasted_ms: Date.now() - f.since.getTime(),
        attempts: f.attempts,
      });
      record();
    },
    retry(path) {
      if (abandoned) return Promise.resolve(false);
      const attempts = faults.get(path)?.attempts ?? 1;
      const ms = Math.min(5_000, 200 * 2 ** Math.min(attempts - 1, 5));
      return new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          sleepers.delete(wake);
          resolve(!abandoned);
        };
        const t = setTimeout(wake, ms);
        sleepers.add(wake);
      });
    },
    abandon() {
      abandoned = true;
      for (const wake of [...sleepers]) wake();
    },
    get active() {
      return faults.size > 0;
    },
    get abandoned() {
      return abandoned;
    },
    close() {
      faults.clear();
      record();
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * Runs `fn` until it succeeds: a disk fault is reported and retried with backoff (so the
 * caller, and whoever waits on it, holds still while the disk is full); other errors, and any
 * error once the relay is stopping, reject.
 */
export async function withDiskRetry<T>(faults: DiskFaults, path: string, fn: () => Promise<T>): Promise<T> {
  let faulted = false;
  for (;;) {
    try {
      const v = await fn();
      // Only the retry that met the fault ends it (another write to the same path succeeding,
      // a sync say, does not mean this one would).
      if (faulted) faults.clear(path);
      return v;
    } catch (err) {
      if (!faults.report(path, err) || !(await faults.retry(path))) throw err;
      faulted = true;
    }
  }
}

/** The current fault as `bustle status` reads it: undefined when none (or no file). */
export function readDiskFault(stateDir: string): DiskFaultRecord | undefined {
  const file = join(stateDir, DISK_FAULT_FILE);
  if (!existsSync(file)) return undefined;
  // Written in place while we read: a torn read is retried once.
  for (let i = 0; i < 2; i++) {
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as { fault?: DiskFaultRecord | null };
      return parsed.fault ?? undefined;
    } catch {
      /* try again */
    }
  }
  return undefined;
}
