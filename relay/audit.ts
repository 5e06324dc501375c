/**
 * The audit log (admin-only): for every event produced on this node and every rejected input,
 * the real actor and where it came from. One JSON object per line, file mode 0600.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync, constants } from "node:fs";
import { dirname } from "node:path";
import type { BustleEvent } from "../cluster/envelope.js";
import { silentLogger, type Logger } from "../cluster/logger.js";
import { createDiskFaults, ShortWrite, type DiskFaults } from "./disk-fault.js";

export interface AuditOrigin {
  /** Where the input came from: a spool path and offset, a watched path's home, a bot id. */
  origin: string;
  /** The real actor (for anonymous events too). */
  actor: string | null;
}

export interface Audit {
  /** An event this node produced. */
  event(e: BustleEvent, from: AuditOrigin): void;
  /** Input that was refused or dropped (bad spool, rate limit, malformed line, ...). */
  rejected(reason: string, from: AuditOrigin, details?: Record<string, unknown>): void;
  /** Anything else worth keeping (input sanitised, events coalesced, a retention gap). */
  note(what: string, details?: Record<string, unknown>): void;
  /** Continues in the file now at the path (after logrotate). */
  reopen(): void;
  close(): void;
}

/** Audit records held while the disk refuses them; beyond this the oldest are dropped (and counted). */
const MAX_HELD_BYTES = 16 * 1024 * 1024;

export interface AuditLogOptions {
  log?: Logger;
  /** Where disk faults are reported (the relay shares one; default: a private one). */
  faults?: DiskFaults;
}

/**
 * Opens (creating with mode 0600) an append-only audit log. Writes never throw: a failed or
 * short write keeps what was not written (a partial record is completed by the next write) and
 * is retried with backoff; a disk fault is reported once (relay/disk-fault.ts).
 */
export function openAuditLog(path: string, o: AuditLogOptions = {}): Audit {
  const log = o.log ?? silentLogger;
  const faults = o.faults ?? createDiskFaults(log);
  mkdirSync(dirname(path), { recursive: true });
  const openFd = () =>
    openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  let fd = openFd();
  // Records of one tick go out in one write (a synchronous write per event cost more CPU than
  // anything else in the relay at 500 events/s); a crash can lose at most that tick's records.
  let buffered: string[] = [];
  let bufferedBytes = 0;
  /** The unwritten rest of a write that came up short: goes out first, so the record is completed. */
  let rest: Buffer | undefined;
  let dropped = 0;
  let scheduled: NodeJS.Immediate | undefined;
  let retrying = false;
  let otherErrorLogged = false;

  let closed = false;
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (closed || (!buffered.length && !rest)) return;
    if (dropped && !rest) {
      buffered.unshift(
        JSON.stringify({
          ts: new Date().toISOString(),
          type: "note",
          what: "audit records dropped while the disk refused writes",
          count: dropped,
        }) + "\n",
      );
      dropped = 0;
    }
    const text = Buffer.concat([rest ?? Buffer.alloc(0), Buffer.from(buffered.join(""))]);
    buffered = [];
    bufferedBytes = 0;
    rest = undefined;
    let n = 0;
    try {
      n = writeSync(fd, text);
      if (n < text.length) throw new ShortWrite(path, n, text.length);
      faults.clear(path);
      otherErrorLogged = false;
    } catch (err) {
      rest = text.subarray(n);
      if (!faults.report(path, err) && !otherErrorLogged) {
        otherErrorLogged = true;
        log.error("cannot write the audit log; holding its records and retrying", { path, error: err });
      }
      if (!retrying) {
        retrying = true;
        void faults.retry(path).then((again) => {
          retrying = false;
          if (again) flush();
        });
      }
    }
  };
  const write = (record: Record<string, unknown>) => {
    const line = JSON.stringify({ ts: new Date().toISOString(), ...record }) + "\n";
    buffered.push(line);
    bufferedBytes += line.length;
    while (bufferedBytes > MAX_HELD_BYTES && buffered.length > 1) {
      bufferedBytes -= buffered.shift()!.length;
      dropped++;
    }
    // While a retry is pending, records only gather: the retry writes them.
    if (!retrying) scheduled ??= setImmediate(flush);
  };
  process.once("exit", flush);
  return {
    event: (e, from) =>
      write({
        type: "event",
        id: e.id,
        kind: e.kind,
        source: e.source,
        actor: from.actor,
        origin: from.origin,
        shown_as: e.actor,
      }),
    rejected: (reason, from, details) =>
      write({ type: "rejected", reason, actor: from.actor, origin: from.origin, ...details }),
    note: (what, details) => write({ type: "note", what, ...details }),
    reopen: () => {
      flush();
      const old = fd;
      try {
        fd = openFd();
      } catch (err) {
        log.error("cannot reopen the audit log; continuing in the old file", { path, error: err });
        return;
      }
      closeSync(old);
    },
    close: () => {
      flush();
      process.off("exit", flush);
      closed = true;
      if (rest || buffered.length)
        log.error("audit records could not be written before stopping", {
          path,
          bytes: (rest?.length ?? 0) + bufferedBytes,
        });
      try {
        fsyncSync(fd);
      } catch {
        /* best effort */
      }
      closeSync(fd);
    },
  };
}

/** An audit that keeps records in memory (unit tests of producers). */
export function memoryAudit(): Audit & { records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  return {
    records,
    event: (e, from) => records.push({ type: "event", id: e.id, kind: e.kind, actor: from.actor, origin: from.origin }),
    rejected: (reason, from, details) =>
      records.push({ type: "rejected", reason, actor: from.actor, origin: from.origin, ...details }),
    note: (what, details) => records.push({ type: "note", what, ...details }),
    reopen: () => {},
    close: () => {},
  };
}
