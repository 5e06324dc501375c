/**
 * The durable outbox: events a node produced but JetStream has not yet acknowledged.
 *
 * One append-only journal of JSON lines: `{"e":<event>}` when an event is submitted (`submit`
 * resolves once it is written and publishable; `flushed()` once it is fdatasync'ed), `{"a":[ids]}` when events are acknowledged (not
 * synced: a lost ack record only means a re-send, which JetStream de-duplicates by id).
 * Replaying the journal at start gives the pending events in submission order. The journal is
 * rewritten empty once everything in it is settled and it passed 1 MiB (or at close), and
 * rewritten with only the pending events after 50,000 settled records. Acknowledgement records
 * ride along with the next event write (or go alone after 200 ms); written events are synced
 * when a producer asks (`flushed()`), else within 100 ms.
 *
 * Every append's byte count is checked. A failed or short one is cut back to the last whole
 * record; on a disk fault it is retried with backoff (relay/disk-fault.ts) and the submits
 * behind it wait, so producers stop taking work until the disk takes writes again.
 *
 * It holds at most `maxPending` events (relay/outbox-bound.ts): past it a submit waits, oldest
 * first, and is let in as acknowledgements free room. So a NATS outage costs bounded memory,
 * not the node: the spool reader stops reading (its offsets stay, the spools hold the rest) and
 * reads on once there is room. The journal replay at start loads whatever the journal holds,
 * past the bound too; new submits then wait until it drains.
 */
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { constants, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eventJson, validateEvent, type BustleEvent } from "../cluster/envelope.js";
import type { Logger } from "../cluster/logger.js";
import { createDiskFaults, withDiskRetry, type DiskFaults } from "./disk-fault.js";
import { appendAllSync, replaceFile } from "./durable-file.js";
import type { EventSink } from "./event-sink.js";
import { OutboxBound } from "./outbox-bound.js";

export { OutboxStopping } from "./outbox-bound.js";

export interface Outbox extends EventSink {
  /** Pending events in submission order (a snapshot). */
  pending(): BustleEvent[];
  /** Number of pending events. */
  readonly size: number;
  /** Marks events as acknowledged by JetStream; they are forgotten. */
  ack(ids: readonly string[]): void;
  /**
   * A live view of the pending events in submission order: events submitted while iterating
   * are visited too, acknowledged ones are skipped. Once it reports done it stays done.
   */
  live(): Iterator<BustleEvent>;
  /** Resolves when an event is submitted (or at once if some are pending). */
  whenNonEmpty(): Promise<void>;
  /** Resolves at the next submission of new events. */
  whenAdded(): Promise<void>;
  /** Resolves when every event submitted before the call is on disk (fdatasync). */
  flushed(): Promise<void>;
  /** The bound: past this many held events a submit waits for acknowledgements. */
  readonly maxPending: number;
  /** True from the moment a submit had to wait for room until the outbox drained to half the bound. */
  readonly full: boolean;
  /**
   * The relay is stopping: every submit waiting for room, and any later one that would wait,
   * rejects with OutboxStopping (a spool's offset then stays where it was; its lines are read
   * on the next start). Submits that fit still go in.
   */
  abandonWaits(): void;
  /** Rejects the submits still waiting, writes what is queued, compacts and closes the journal. */
  close(): Promise<void>;
}

/** Options of `openOutbox`. */
export interface OutboxOptions {
  /** Held events past which a submit waits (node.yaml `outbox.max_pending`). Default DEFAULT_MAX_PENDING. */
  maxPending?: number;
}

/**
 * The default bound. A pending event costs about 0.7 KB of heap for a typical spool line and
 * 2.3 KB for a 400-character one (measured: docs/BENCHMARKS.md, the outbox bound section), so
 * 20,000 is some 15 MB, at most about 46 MB: enough for about 20 s of a 1,000 lines/s burst
 * before the spools take over holding the backlog.
 */
export const DEFAULT_MAX_PENDING = 20_000;

const JOURNAL = "outbox.jsonl";
/** Rewrite the journal when it holds this many settled records. */
const COMPACT_AFTER = 50_000;
/**
 * Rewrite it empty once everything is settled and it has grown this big (and at close). Not at
 * every settled moment: at a few events a second the journal is empty after nearly every
 * acknowledgement, and a rewrite (tmp, fsync, rename, fsync dir) per event cost more CPU than
 * the rest of the relay together.
 */
const COMPACT_BYTES = 1024 * 1024;
/**
 * Written events nobody waits a sync for (only producers with a durable position call
 * `flushed()`) are fdatasynced within this long: one sync for all of them, not one per write.
 */
const SYNC_SOON_MS = 100;
/** Acknowledgement records go out with the next event write, or after this long alone. */
const ACK_WRITE_MS = 200;

/** `faults`: where disk faults are reported (the relay shares one; default: a private one). */
export async function openOutbox(
  dir: string,
  log: Logger,
  faults: DiskFaults = createDiskFaults(log),
  options: OutboxOptions = {},
): Promise<Outbox> {
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, JOURNAL);
  const pending = new Map<string, BustleEvent>();
  let settled = 0;
  if (existsSync(path)) {
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line) continue;
      try {
        const rec = JSON.parse(line) as { e?: unknown; a?: string[] };
        if (rec.e) {
          const e = validateEvent(rec.e);
          pending.set(e.id, e);
        } else if (Array.isArray(rec.a)) {
          for (const id of rec.a) if (pending.delete(id)) settled++;
        }
      } catch {
        // A torn last line after a crash: its submit never resolved, so its producer re-reads it.
        log.warn("outbox: skipped an unreadable journal line (torn write after a crash)");
      }
    }
    if (pending.size) log.info("outbox: recovered unacknowledged events", { count: pending.size });
  }

  let { fh, size } = await withDiskRetry(faults, path, () => rewrite(path, pending));
  // True after a failed append: the tail past `size` may hold a partial record.
  let torn = false;
  let waiters: Array<() => void> = [];
  // Group commit: everything submitted or acknowledged while a write is under way goes into the
  // next single write (+ one fdatasync when it holds events).
  let queuedEvents: Array<{ events: readonly BustleEvent[]; done: (err?: unknown) => void }> = [];
  let queuedAcks: string[] = [];
  let queuedBarriers: Array<(err?: unknown) => void> = [];
  /** True when queued acknowledgements should be written even without events (their timer ran, or closing). */
  let acksDue = false;
  let ackTimer: NodeJS.Timeout | undefined;
  let syncSoon: NodeJS.Timeout | undefined;
  const due = () => queuedEvents.length > 0 || queuedBarriers.length > 0 || (acksDue && queuedAcks.length > 0);
  let cycle: Promise<void> | undefined;
  let closed = false;

  const bound = new OutboxBound({
    max: maxPending,
    log,
    pendingCount: () => pending.size,
    write(events, done) {
      queuedEvents.push({ events, done });
      kick();
    },
  });

  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  // Writes and syncs run as two loops: a submit resolves once its events are written (a
  // crash of the process loses nothing after that); `flushed()` waits for the fdatasync that
  // covers them. So a producer is never held up by the disk's sync latency.
  let writtenGen = 0;
  let syncedGen = 0;
  let syncing: Promise<void> | undefined;
  let syncWaiters: Array<{ gen: number; done: (err?: unknown) => void }> = [];

  async function syncLoop(): Promise<void> {
    for (;;) {
      const target = writtenGen;
      let error: unknown;
      if (syncedGen < target) {
        try {
          await fh.datasync();
          syncedGen = target;
        } catch (err) {
          error = err;
          if (!faults.report(path, err)) log.error("outbox: journal sync failed", { error: err });
        }
      }
      const ready = syncWaiters.filter((w) => w.gen <= target);
      syncWaiters = syncWaiters.filter((w) => w.gen > target);
      for (const w of ready) w.done(error);
      if (error || (syncedGen >= writtenGen && !syncWaiters.length)) break;
    }
  }
  const kickSync = () => {
    syncing ??= syncLoop().finally(() => {
      syncing = undefined;
      // Waiters registered while this loop was finishing would otherwise be stranded.
      if (syncWaiters.length) kickSync();
    });
  };

  /**
   * Appends `text` whole: at once when the journal takes it (then undefined: the common case,
   * which suspends nothing), else through `appendWithRetry`.
   */
  function appendRecords(text: string): Promise<void> | undefined {
    if (torn) return appendWithRetry(text);
    torn = true;
    try {
      size += appendAllSync(fh, text, path);
    } catch {
      return appendWithRetry(text); // cuts the partial record back first (torn), then as below
    }
    torn = false;
    return undefined;
  }

  /**
   * Appends `text` whole. A failed or short write is cut back to the last whole record, and on
   * a disk fault (full, I/O error) retried with backoff until it succeeds: the submits waiting
   * on it wait too, so producers stop taking new work and nothing is lost. Rejects when the
   * fault is not a disk's, or when the relay stops during one.
   */
  function appendWithRetry(text: string): Promise<void> {
    return withDiskRetry(faults, path, async () => {
      if (torn) {
        await fh.truncate(size); // frees what the failed write took; needs no space
        torn = false;
      }
      torn = true;
      try {
        size += appendAllSync(fh, text, path);
      } catch (err) {
        await fh.truncate(size).then(
          () => (torn = false),
          () => {},
        ); // back to the last whole record at once
        throw err;
      }
      torn = false;
    });
  }

  async function flushCycle(): Promise<void> {
    while (due()) {
      acksDue = false;
      const batch = queuedEvents;
      const acks = queuedAcks;
      const barriers = queuedBarriers;
      queuedEvents = [];
      queuedAcks = [];
      queuedBarriers = [];
      let text = acks.length ? JSON.stringify({ a: acks }) + "\n" : "";
      for (const b of batch) for (const e of b.events) text += journalRecord(e);
      try {
        if (text) {
          const slow = appendRecords(text);
          if (slow) await slow;
          writtenGen++;
        }
      } catch (err) {
        log.error("outbox: journal write failed", { error: err });
        for (const b of batch) b.done(err);
        for (const done of barriers) done(err);
        continue;
      }
      settled += acks.length;
      for (const b of batch) for (const e of b.events) pending.set(e.id, e);
      if (batch.length) wake();
      for (const b of batch) b.done();
      // Everything submitted before these barriers is written now: they wait for its sync.
      for (const done of barriers) syncWaiters.push({ gen: writtenGen, done });
      if (barriers.length) kickSync();
      else if (batch.length)
        syncSoon ??= setTimeout(() => {
          syncSoon = undefined;
          kickSync();
        }, SYNC_SOON_MS);
      if ((pending.size === 0 && settled > 0 && size >= COMPACT_BYTES) || settled >= COMPACT_AFTER) await compact();
    }
  }

  /** Rewrites the journal with only the pending events; on failure the old journal goes on. */
  async function compact(): Promise<void> {
    while (syncing) await syncing; // never swap the journal under a running sync
    let fresh: { fh: FileHandle; size: number };
    try {
      fresh = await rewrite(path, pending); // written and synced whole, then renamed
    } catch (err) {
      log.warn("outbox: cannot compact the journal now; appending to the old one", { error: err });
      return;
    }
    await fh.close().catch(() => {});
    ({ fh, size } = fresh);
    torn = false;
    syncedGen = writtenGen;
    settled = 0;
    kickSync(); // settles waiters the rewrite covered
  }

  const kick = () => {
    cycle ??= flushCycle()
      .catch((err) => log.error("outbox: write cycle failed", { error: err }))
      .finally(() => {
        cycle = undefined;
        if (due()) kick();
      });
  };

  return {
    get size() {
      return pending.size;
    },
    maxPending,
    get full() {
      return bound.full;
    },
    abandonWaits() {
      bound.abandon();
    },
    submit(events) {
      const fresh = events.filter((e) => !pending.has(e.id));
      if (!fresh.length) return Promise.resolve();
      if (closed) return Promise.reject(new Error("outbox is closed"));
      return new Promise<void>((resolve, reject) => bound.submit(fresh, (err) => (err ? reject(err) : resolve())));
    },
    pending: () => [...pending.values()],
    live: () => pending.values(),
    ack(ids) {
      let any = false;
      for (const id of ids)
        if (pending.delete(id)) {
          queuedAcks.push(id);
          any = true;
        }
      if (!any) return;
      bound.freed();
      ackTimer ??= setTimeout(() => {
        ackTimer = undefined;
        acksDue = true;
        kick();
      }, ACK_WRITE_MS);
    },
    whenNonEmpty() {
      return pending.size ? Promise.resolve() : new Promise((r) => waiters.push(r));
    },
    whenAdded() {
      return new Promise((r) => waiters.push(r));
    },
    flushed() {
      // A barrier behind everything already queued: it is registered after their write.
      return new Promise<void>((resolve, reject) => {
        queuedBarriers.push((err) => (err ? reject(err) : resolve()));
        kick();
      });
    },
    async close() {
      closed = true;
      bound.abandon();
      clearTimeout(ackTimer);
      clearTimeout(syncSoon);
      acksDue = true;
      kick();
      while (cycle) await cycle;
      if (pending.size === 0 && settled > 0) await compact();
      kickSync();
      while (syncing) await syncing;
      await fh.close();
      wake();
    },
  };
}

/** An event's journal line, `{"e":<envelope>}`: its JSON text is made once and published as it is. */
const journalRecord = (e: BustleEvent): string => `{"e":${eventJson(e)}}\n`;

/** Writes the pending events to a fresh journal (tmp, fsync, rename, fsync dir) and opens it for appending. */
async function rewrite(path: string, pending: Map<string, BustleEvent>): Promise<{ fh: FileHandle; size: number }> {
  let text = "";
  for (const e of pending.values()) text += journalRecord(e);
  await replaceFile(path, text, 0o600);
  return { fh: await open(path, constants.O_WRONLY | constants.O_APPEND, 0o600), size: Buffer.byteLength(text) };
}
