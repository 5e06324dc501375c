/**
 * The spool reader: watches `<homesRoot>/<user>/.bustle.spool` for every user and turns new
 * complete lines into events for the node's sink (the durable outbox). Positions are saved
 * in `<stateDir>/spool-offsets.json` only after the sink accepted the events read up to them.
 *
 * Where a spool starts: with no offsets file at all (the first start on this state dir), the
 * spools that already exist are read from their end; any spool first seen later is read from
 * its beginning; known spools resume at their saved offset.
 *
 * Which homes it watches itself (one inotify watch each): every home, unless another watcher
 * already reports that home's spool changes through `poke` (`watchedElsewhere`: the ambient
 * watcher, which watches whole homes anyway). Then only the homes where it has read a spool
 * keep a watch of its own: Node's fs.watch wakes it within a millisecond, where the other
 * watcher batches changes for ~50 ms, so `bustle update` lines stay fast; a spool-less home
 * costs nothing until its first spool appears (the other watcher's poke, or the rescan).
 */
import { lstatSync } from "node:fs";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../cluster/logger.js";
import type { Audit } from "../audit.js";
import type { DiskFaults } from "../disk-fault.js";
import type { EventSink } from "../event-sink.js";
import { createHomeWatchers, isUserName, listHomes } from "./discovery.js";
import { loadOffsets, OffsetsWriter, type SpoolPosition } from "./offsets-store.js";
import { DropSummary, UserRateLimiter } from "./rate-limit.js";
import { SPOOL_NAME } from "./safe-open.js";
import { UserSpool, type SilencedCheck, type SpoolContext } from "./user-spool.js";
import { SpoolScheduler } from "./scheduler.js";

export interface SpoolReaderOptions {
  /** This node's id (part of every event and event id). */
  node: string;
  /** The node's secret event id key (relay/id-key.ts): spool line ids are keyed with it. */
  idKey: Uint8Array;
  homesRoot: string;
  stateDir: string;
  /** relay/event-sink.ts — submit resolves once events are written; offsets are saved after `flushed`. */
  sink: EventSink;
  audit: Audit;
  /** Where the offsets writer reports disk faults (the relay's shared record). */
  faults?: DiskFaults;
  log: Logger;
  rate: { burst: number; perMinute: number };
  /** Longer lines are refused whole and audit-logged. */
  maxLineBytes: number;
  /** Safety-net rescan interval besides inotify. */
  rescanMs: number;
  /** relay/silence.ts: a silenced user's lines are refused (audit reason `silenced`). */
  isSilenced?: SilencedCheck;
  /**
   * True when another watcher reports changes of this home's spool through `poke` (the ambient
   * watcher covers it); its answer may change: call `rewatch(user)` then.
   */
  watchedElsewhere?: (user: string) => boolean;
}

/**
 * `start` loads the offsets, reads every spool once (so spools present at start are known
 * before it resolves), then watches; it rejects only when the state dir is unusable.
 * `stop` stops watching, waits for reads in progress (and their submits) to finish and saves
 * the offsets; the reader can then be dropped. `poke(user)` re-checks one spool (or, without
 * a user, rescans everything) now; a poke during `start` is kept for its end. `rewatch(user)`
 * says `watchedElsewhere` changed its answer for the user: the reader starts or stops watching
 * that home itself, and checks its spool (a change may have fallen between the two watchers).
 */
export interface SpoolReader {
  start(): Promise<void>;
  stop(): Promise<void>;
  poke(user?: string): void;
  rewatch(user: string): void;
}

const RETRY_MS = 1000;
/**
 * Spools kept open between checks (the busiest ones: the least recently read is closed when
 * another needs a handle). Each open handle is one file descriptor; a closed spool is simply
 * opened afresh on its next check.
 */
const MAX_OPEN_SPOOLS = 64;
const SUMMARY_FLUSH_MS = 10_000;
/** Homes a scan looks at before it lets the event loop run (each look is one lstat). */
const LOOKS_PER_TURN = 500;

/**
 * Whether anything is at `path`, by one synchronous lstat that makes no error object when
 * nothing is. A scan checks in full (through the thread pool, with the safety checks) only the
 * spools it knows and the paths where something is: most homes have no spool, and a full check
 * of each of 5,000 every rescan cost 7% of a core and tens of MB of garbage on an idle node.
 * An error other than "nothing there" (EACCES, ENOTDIR) is left to the full check to report.
 */
function somethingAt(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
}

export function createSpoolReader(opts: SpoolReaderOptions): SpoolReader {
  const log = opts.log;
  const positions = new Map<string, SpoolPosition>();
  const writer = new OffsetsWriter(
    opts.stateDir,
    () => positions,
    () => opts.sink.flushed?.() ?? Promise.resolve(),
    opts.faults,
  );
  const refused = new Map<string, Set<string>>();
  const spools = new Map<string, UserSpool>();
  /** Spools holding an open handle, least recently used first. */
  const open = new Set<UserSpool>();
  const drops = new DropSummary(opts.audit);
  let saving: Promise<void> = Promise.resolve();
  let stopped = false;
  /** False until start()'s first scan is done: that scan decides where existing spools start. */
  let ready = false;
  let rootMissing = false;
  const timers: NodeJS.Timeout[] = [];
  const retries = new Map<string, NodeJS.Timeout>();
  /** Users poked before start() was done: checked as soon as it is. */
  const early = new Set<string>();

  const ctx: SpoolContext = {
    node: opts.node,
    idKey: opts.idKey,
    homesRoot: opts.homesRoot,
    maxLineBytes: opts.maxLineBytes,
    sink: opts.sink,
    audit: opts.audit,
    log,
    limiter: new UserRateLimiter(opts.rate),
    drops,
    positions,
    saveOffsets() {
      saving = writer.save().catch((err) => log.error("cannot save spool offsets", { err, dir: opts.stateDir }));
    },
    refuse(user, path, reason, detail) {
      const seen = refused.get(path) ?? new Set<string>();
      if (seen.has(reason)) return;
      seen.add(reason);
      refused.set(path, seen);
      opts.audit.rejected(reason, { origin: path, actor: user }, { detail });
      log.warn("spool refused", { user, path, reason, detail });
    },
    clearRefusals(path) {
      refused.delete(path);
    },
    now: () => new Date(),
    isSilenced: opts.isSilenced ?? (() => undefined),
    handles: {
      used(spool) {
        open.delete(spool);
        open.add(spool);
        if (open.size <= MAX_OPEN_SPOOLS) return;
        for (const s of open) {
          if (s === spool || s.busy) continue;
          void s.release();
          break;
        }
      },
      closed(spool) {
        open.delete(spool);
      },
    },
  };

  const spoolOf = (user: string): UserSpool => {
    let s = spools.get(user);
    if (!s) spools.set(user, (s = new UserSpool(ctx, user)));
    return s;
  };

  const scheduler = new SpoolScheduler(async (user, fromEnd) => {
    if (stopped) return;
    const known = positions.has(user);
    try {
      const more = await spoolOf(user).check(fromEnd);
      if (!known && positions.has(user)) watchers.update(user); // its first spool: watched by the reader too
      // More to read: queue another turn behind the other spools.
      if (more) scheduler.kick(user);
    } catch (err) {
      // The relay is stopping while this spool waited for room in a full outbox: its offset
      // stays, and its lines are read on the next start. Not a failure.
      if ((err as Error | undefined)?.name === "OutboxStopping") return;
      // The sink refused (or the disk failed): the position stays, the same lines are re-read
      // with the same ids shortly.
      log.error("spool check failed; will retry", { user, err });
      if (!stopped && !retries.has(user)) {
        retries.set(
          user,
          setTimeout(() => {
            retries.delete(user);
            scheduler.kick(user);
          }, RETRY_MS).unref(),
        );
      }
    }
  });

  /**
   * Checks a spool now, or as soon as start() is done (its first scan decides where spools start).
   * `pathChanged`: the spool's path may name another file now (false only when inotify said the
   * same name's content changed), so the check looks at the path and not only the open file.
   */
  const checkSoon = (user: string, pathChanged = true): void => {
    if (stopped) return;
    if (pathChanged) spoolOf(user).pathChanged();
    if (ready) scheduler.kick(user);
    else early.add(user);
  };

  const elsewhere = opts.watchedElsewhere;
  const watchers = createHomeWatchers(
    opts.homesRoot,
    log,
    () => requestScan(),
    checkSoon,
    elsewhere ? (user) => positions.has(user) || !elsewhere(user) : undefined,
  );

  // Rescans are coalesced: a burst of new homes (or a slow scan) costs one more scan, not many.
  let scanning: Promise<void> | undefined;
  let scanAgain = false;
  function requestScan(): void {
    if (stopped || !ready) return;
    if (scanning) {
      scanAgain = true;
      return;
    }
    scanning = (async () => {
      do {
        scanAgain = false;
        await scan(false);
      } while (scanAgain && !stopped);
    })()
      .catch((err) => log.error("spool rescan failed", { err }))
      .finally(() => (scanning = undefined));
  }

  /** Lists the homes and checks every spool; resolves when those checks are done. */
  async function scan(fromEnd: boolean): Promise<void> {
    if (stopped) return;
    const listed = await listHomes(opts.homesRoot);
    if (!listed.ok) {
      if (!rootMissing)
        log.warn("cannot list the homes root; retrying on each rescan", { path: opts.homesRoot, code: listed.code });
      rootMissing = true;
      return;
    }
    if (rootMissing) log.info("homes root is readable again", { path: opts.homesRoot });
    rootMissing = false;
    const users: string[] = [];
    for (const name of listed.names) {
      if (isUserName(name)) users.push(name);
      else await refuseBadName(name);
    }
    watchers.sync(users);
    const checks: Promise<void>[] = [];
    for (let i = 0; i < users.length; i++) {
      const user = users[i]!;
      if (positions.has(user) || somethingAt(join(opts.homesRoot, user, SPOOL_NAME))) {
        spoolOf(user).pathChanged(); // the safety net looks at every path
        checks.push(scheduler.schedule(user, fromEnd));
      }
      if (i % LOOKS_PER_TURN === LOOKS_PER_TURN - 1) await new Promise(setImmediate); // let events through
    }
    await Promise.all(checks);
  }

  async function refuseBadName(name: string): Promise<void> {
    const path = join(opts.homesRoot, name, SPOOL_NAME);
    const there = await lstat(path).then(
      () => true,
      () => false,
    );
    if (there) ctx.refuse(name, path, "bad-user-name", "the home directory's name is not a plain user name");
  }

  return {
    async start() {
      const loaded = loadOffsets(opts.stateDir);
      if (loaded.kind === "corrupt") {
        log.error("spool offsets file was corrupt; moved aside, starting as on a first start", {
          movedTo: loaded.movedTo,
          error: loaded.error,
        });
        opts.audit.note("spool-offsets-corrupt", { moved_to: loaded.movedTo, error: loaded.error });
      }
      if (loaded.kind === "loaded" && loaded.recovered) {
        log.error(
          "spool offsets file was damaged; moved aside, resuming from its previous version (a few lines may be read again, with the same ids)",
          { movedTo: loaded.recovered.movedTo, error: loaded.recovered.error },
        );
        opts.audit.note("spool-offsets-recovered", {
          moved_to: loaded.recovered.movedTo,
          error: loaded.recovered.error,
        });
      }
      if (loaded.kind === "loaded") for (const [u, p] of loaded.positions) positions.set(u, p);
      const firstStart = loaded.kind !== "loaded";
      await scan(firstStart);
      ready = true;
      for (const user of early) scheduler.kick(user);
      early.clear();
      // Record that this state dir has started once, even with no spools yet.
      if (firstStart) ctx.saveOffsets();
      await saving;
      timers.push(setInterval(requestScan, opts.rescanMs).unref());
      timers.push(setInterval(() => drops.flush(), SUMMARY_FLUSH_MS).unref());
      log.info("spool reader started", { homes: opts.homesRoot, first_start: firstStart, spools: positions.size });
    },
    async stop() {
      stopped = true;
      for (const t of [...timers, ...retries.values()]) clearTimeout(t);
      watchers.close();
      await scanning;
      await scheduler.idle();
      await Promise.all([...open].map((s) => s.release()));
      drops.flush(true);
      const final = writer.saveNow(); // no pause after the last write: it takes the newest positions
      await saving;
      await final.catch((err) => log.error("cannot save spool offsets", { err, dir: opts.stateDir }));
    },
    poke(user) {
      if (user === undefined) requestScan();
      else if (isUserName(user)) checkSoon(user);
    },
    rewatch(user) {
      if (stopped || !isUserName(user)) return;
      watchers.update(user);
      checkSoon(user);
    },
  };
}
