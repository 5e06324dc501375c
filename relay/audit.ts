/**
 * The audit log (admin-only): for every event produced on this node and every rejected input,
 * the real actor and where it came from. One JSON object per line, file mode 0600.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync, constants } from "node:fs";
import { dirname } from "node:path";
import type { BustleEvent } from "../cluster/envelope.js";

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

/** Opens (creating with mode 0600) an append-only audit log. */
export function openAuditLog(path: string): Audit {
  mkdirSync(dirname(path), { recursive: true });
  const openFd = () => openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  let fd = openFd();
  // Records of one tick go out in one write (a synchronous write per event cost more CPU than
  // anything else in the relay at 500 events/s); a crash can lose at most that tick's records.
  let buffered: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = () => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (!buffered.length) return;
    const text = buffered.join("");
    buffered = [];
    writeSync(fd, text);
  };
  const write = (record: Record<string, unknown>) => {
    buffered.push(JSON.stringify({ ts: new Date().toISOString(), ...record }) + "\n");
    scheduled ??= setImmediate(flush);
  };
  process.once("exit", flush);
  return {
    event: (e, from) => write({ type: "event", id: e.id, kind: e.kind, source: e.source, actor: from.actor, origin: from.origin, shown_as: e.actor }),
    rejected: (reason, from, details) => write({ type: "rejected", reason, actor: from.actor, origin: from.origin, ...details }),
    note: (what, details) => write({ type: "note", what, ...details }),
    reopen: () => {
      flush();
      const old = fd;
      fd = openFd();
      closeSync(old);
    },
    close: () => {
      flush();
      process.off("exit", flush);
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
    rejected: (reason, from, details) => records.push({ type: "rejected", reason, actor: from.actor, origin: from.origin, ...details }),
    note: (what, details) => records.push({ type: "note", what, ...details }),
    reopen: () => {},
    close: () => {},
  };
}
