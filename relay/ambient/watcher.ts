/**
 * The ambient watcher: every home directory under the homes root, watched with @parcel/watcher,
 * turned into `fs` events. At start every ordinary home is watched by one subscription on the
 * whole root (the library's cost is per subscription: each has its own crawl, promise and a
 * libuv handle that every wake-up of the event loop scans), and its changes are handed out per
 * home. Homes it cannot cover (symlinked, unreadable, made later, or all of them when that one
 * subscription fails) get a subscription of their own, so one home's trouble stays its own.
 * Homes that appear or disappear are picked up from the root's changes plus a periodic rescan.
 * When the kernel's inotify limit is reached it says so once, keeps what is watched, and
 * retries the rest slowly (the degraded mode in docs/ambient.md).
 */
import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "../../cluster/logger.js";
import type { Audit } from "../audit.js";
import type { EventSink } from "../event-sink.js";
import { createActivity, type Activity } from "./activity.js";
import { createCoalescer } from "./coalescer.js";
import type { AmbientConfig } from "./config.js";
import { watchTree, type ChangeEvent, type TreeWatch } from "./home-watch.js";
import { listHomes, type Home } from "./homes.js";
import { classifyWatchError, instancesMessage, limitMessage } from "./inotify.js";
import { compileRules, unwatchedInRoot, type CompiledRules } from "./rules.js";

export interface AmbientWatcherOptions {
  node: string;
  homesRoot: string;
  config: AmbientConfig;
  sink: EventSink;
  audit: Audit;
  log: Logger;
  /** Milliseconds now (tests of coalescing); default Date.now. */
  clock?: () => number;
  /** Called when a user's ~/.bustle.spool changes, so the spool reader reacts at once. The spool is never activity. */
  onSpoolChange?: (user: string) => void;
  /**
   * Called when the watcher starts or stops watching a home (`watches(user)` says which), so the
   * spool reader can leave that home's spool to `onSpoolChange` or watch it itself again. Not
   * called from stop().
   */
  onCoverageChange?: (user: string) => void;
  /** How often the homes root is re-read as a safety net, and failed homes retried (default 30 s). */
  rescanMs?: number;
  /** How long to wait before retrying homes after the inotify limit was reached (default 5 min). */
  limitRetryMs?: number;
}

/**
 * `start()` resolves once every home present is watched (or has failed and is queued for a
 * retry); it rejects only on a programming error. `stop()` unwatches everything, writes the last
 * coalescing summary and waits for events already handed to the sink. The caller calls stop().
 * `watches(user)`: whether that home is watched now (its spool changes reach `onSpoolChange`).
 */
export interface AmbientWatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  watches(user: string): boolean;
}

const SUBSCRIBE_CONCURRENCY = 3;

/** Most names of non-home entries in the root the shared subscription leaves out; past it, each home is watched alone. */
const MAX_LEFT_OUT = 200;

interface Watched {
  home: Home;
  /** The home's own subscription; undefined when the shared one on the root covers it. */
  watch: TreeWatch | undefined;
}

export function createAmbientWatcher(opts: AmbientWatcherOptions): AmbientWatcher {
  const log = opts.log;
  const clock = opts.clock ?? Date.now;
  const rescanMs = opts.rescanMs ?? 30_000;
  const limitRetryMs = opts.limitRetryMs ?? 300_000;
  const watched = new Map<string, Watched>(); // user → its live watch
  const retryAt = new Map<string, number>(); // user → when a failed home may be tried again
  const warned = new Set<string>(); // users whose failure was already logged
  let rules: CompiledRules;
  let activity: Activity;
  let rootWatch: FSWatcher | undefined;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  let limitReported = false;
  let limitUntil = 0;
  let rootMissing = false;
  let syncing: Promise<void> | undefined;
  let again = false;
  let rootWarned = false;
  let shared: TreeWatch | undefined; // the one subscription on the whole root, while it lasts
  let sharedFailed = false; // it failed once: from then on every home is watched alone

  /** Every change to `watched` goes through these two: the spool reader follows them. */
  const cover = (user: string, w: Watched) => {
    const had = watched.has(user);
    watched.set(user, w);
    if (!had) told(user);
  };
  const uncover = (user: string) => {
    if (watched.delete(user)) told(user);
  };
  const told = (user: string) => {
    if (stopped || !opts.onCoverageChange) return;
    try {
      opts.onCoverageChange(user);
    } catch (err) {
      log.warn("the spool reader's coverage hook failed", { user, err });
    }
  };

  const unwatch = async (user: string) => {
    const w = watched.get(user);
    if (!w) return;
    uncover(user);
    log.debug("no longer watching a home directory", { user });
    await w.watch?.close(); // a home the shared subscription covers: its changes are ignored from now on
  };

  /** Hands the shared subscription's changes to the homes it covers; a change in the root itself asks for a scan. */
  const onSharedChanges = (events: ChangeEvent[]) => {
    const prefix = opts.homesRoot + "/";
    const byHome = new Map<Watched, ChangeEvent[]>();
    const replaced = new Set<string>();
    let rootChanged = false;
    for (const ev of events) {
      if (!ev.path.startsWith(prefix)) continue;
      const slash = ev.path.indexOf("/", prefix.length);
      const user = ev.path.slice(prefix.length, slash < 0 ? undefined : slash);
      const w = watched.get(user);
      if (slash < 0) {
        // An entry of the root came, went or was replaced: a scan tells which. A home of ours
        // may have been removed and made again, on the same inode number and with the two
        // folded into one "update" by the library, which then watches only what was made after
        // it noticed: such a home is let go here and watched alone by the scan.
        rootChanged = true;
        if (w && !w.watch) replaced.add(user);
      }
      if (!w || w.watch) continue; // not a home, or one with a subscription of its own
      const list = byHome.get(w);
      if (list) list.push(ev);
      else byHome.set(w, [ev]);
    }
    for (const [w, list] of byHome) activity.handle(w.home, list);
    for (const user of replaced) if (!watched.get(user)?.watch) uncover(user);
    if (rootChanged) void requestSync();
  };

  /** The shared subscription died: the homes it covered are watched alone from the next scan on. */
  const dropShared = (err: unknown) => {
    if (!shared) return;
    log.warn(
      "stopped watching the homes root as one tree; watching each home directory on its own from the next scan",
      { err },
    );
    void shared.close();
    shared = undefined;
    sharedFailed = true;
    for (const [user, w] of watched) {
      if (w.watch) continue;
      uncover(user);
      retryAt.set(user, Date.now() + rescanMs);
    }
  };

  /**
   * Tries one subscription on the whole root for the ordinary homes of a first scan. Only while
   * no other subscription exists: then a failure closes the library's inotify instance and
   * frees every watch it added halfway (it would keep them otherwise).
   */
  const tryShared = async (homes: Home[], skipped: string[]): Promise<void> => {
    const covered: Home[] = [];
    const leftOut = [...skipped, ...excluded];
    for (const h of homes) {
      if (h.real === h.path && h.listable)
        covered.push(h); // opened by the listing just now
      else leftOut.push(h.user);
    }
    if (covered.length === 0 || leftOut.length > MAX_LEFT_OUT) return;
    try {
      shared = await watchTree({
        dir: opts.homesRoot,
        unwatched: unwatchedInRoot(rules, leftOut),
        onChanges: onSharedChanges,
        onFailure: dropShared,
      });
    } catch (err) {
      sharedFailed = true;
      log.info("cannot watch the homes root as one tree; watching each home directory on its own", { err });
      return;
    }
    if (stopped) return; // stop() closes it
    for (const home of covered) cover(home.user, { home, watch: undefined });
    log.debug("watching home directories with one subscription on the homes root", {
      homes: covered.length,
      alone: homes.length - covered.length,
    });
  };

  /** Tries to watch one home; false when the inotify limit stops this pass. */
  const tryWatch = async (home: Home, total: number, failed: () => number): Promise<boolean> => {
    try {
      const watch = await watchTree({
        dir: home.real,
        unwatched: rules.unwatched,
        onChanges: (events) => activity.handle(home, events),
        onFailure: (err) => {
          // The library has already dropped this home's watches; the next scan watches it anew
          // (not at once: a failing inotify thread must not turn into a crawl loop).
          log.warn("stopped watching a home directory; retrying on the next scan", { user: home.user, err });
          if (watched.get(home.user)?.watch === watch) uncover(home.user);
          retryAt.set(home.user, Date.now() + rescanMs);
        },
      });
      if (stopped) {
        await watch.close();
        return true;
      }
      cover(home.user, { home, watch });
      log.debug("watching a home directory", { user: home.user });
      retryAt.delete(home.user);
      if (warned.delete(home.user)) log.info("watching a home directory again", { user: home.user });
      return true;
    } catch (err) {
      const kind = classifyWatchError(err);
      if (kind === "limit" || kind === "instances") {
        limitUntil = Date.now() + limitRetryMs;
        if (!limitReported) {
          limitReported = true;
          log.error(kind === "limit" ? limitMessage(total - watched.size, total, limitRetryMs) : instancesMessage());
        }
        return false;
      }
      if (kind !== "vanished" && !warned.has(home.user)) {
        warned.add(home.user);
        log.warn("cannot watch a home directory; retrying later", { user: home.user, err });
      } else log.debug("still cannot watch a home directory", { user: home.user, err });
      const n = failed();
      retryAt.set(home.user, Date.now() + Math.min(600_000, rescanMs * 2 ** Math.min(n, 5)));
      return true;
    }
  };

  const failures = new Map<string, number>();
  const excluded = new Set(opts.config.exclude ?? []);

  const syncOnce = async () => {
    let listing;
    try {
      listing = await listHomes(opts.homesRoot);
      if (rootMissing) {
        log.info("the homes root is readable again", { root: opts.homesRoot });
        rootWatch?.close(); // it watched the old directory, if any: the timer makes a new one
        rootWatch = undefined;
      }
      rootMissing = false;
    } catch (err) {
      if (!rootMissing)
        log.error(`cannot read the homes root ${opts.homesRoot}; ambient events wait until it is readable`, { err });
      rootMissing = true;
      if (shared) {
        // It watched the old directory: when the root is back, its homes are watched anew.
        void shared.close();
        shared = undefined;
        for (const [user, w] of watched) if (!w.watch) uncover(user);
      }
      return;
    }
    const present = new Map(listing.homes.filter((h) => !excluded.has(h.user)).map((h) => [h.user, h]));
    for (const user of [...watched.keys()]) {
      const now = present.get(user);
      if (!now || now.identity !== watched.get(user)!.home.identity || now.real !== watched.get(user)!.home.real)
        await unwatch(user);
    }
    for (const user of [...retryAt.keys()]) {
      if (present.has(user)) continue;
      retryAt.delete(user);
      failures.delete(user);
    }
    const limited = Date.now() < limitUntil; // retries run on real time; `clock` is the coalescer's
    if (limitReported && !limited)
      log.debug("retrying home directories left unwatched by the inotify limit", {
        unwatched: present.size - watched.size,
      });
    // The first scan (or the first after the root came back) tries one subscription for all.
    if (!shared && !sharedFailed && watched.size === 0 && !limited)
      await tryShared([...present.values()], listing.skipped);
    if (stopped) return;
    if (!shared && !rootWatch) watchRoot(); // without the shared subscription, new homes are seen by a watch of the root
    const todo = [...present.values()].filter((home) => !watched.has(home.user));
    const due = limited ? [] : todo.filter((home) => (retryAt.get(home.user) ?? 0) <= Date.now());
    const blocked = todo.length - due.length;
    // A few at a time: the library crawls one home on the thread pool while the next is set up
    // here, and the thread pool stays free for the outbox and the spool reader.
    let next = 0;
    let hitLimit = false;
    const worker = async () => {
      while (next < due.length && !hitLimit && !stopped) {
        const home = due[next++]!;
        if (watched.has(home.user)) continue;
        if (
          !(await tryWatch(home, present.size, () => {
            const n = (failures.get(home.user) ?? 0) + 1;
            failures.set(home.user, n);
            return n;
          }))
        )
          hitLimit = true; // the limit: the rest wait for limitUntil
        else if (watched.has(home.user)) failures.delete(home.user);
      }
    };
    await Promise.all(Array.from({ length: SUBSCRIBE_CONCURRENCY }, worker));
    if (hitLimit || stopped) return;
    if (limitReported && !limited && blocked === 0 && watched.size === present.size) {
      limitReported = false;
      log.info("every home directory is watched again", { homes: watched.size });
    }
  };

  /** Serialises syncs; a request during a sync runs one more afterwards. */
  const requestSync = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        again = false;
        await syncOnce().catch((err) => log.error("home directory scan failed", { err }));
      } while (again && !stopped);
    })().finally(() => (syncing = undefined));
    return syncing;
  };

  const watchRoot = () => {
    try {
      rootWatch = watch(opts.homesRoot, { persistent: false }, () => void requestSync());
      rootWatch.on("error", () => {
        rootWatch?.close();
        rootWatch = undefined; // the rescan timer carries on alone
      });
    } catch (err) {
      if (!rootWarned)
        log.warn("cannot watch the homes root for new homes; they are found by the periodic rescan instead", {
          root: opts.homesRoot,
          err,
        });
      rootWarned = true;
    }
  };

  return {
    watches: (user) => watched.has(user),
    async start() {
      if (!opts.config.enabled) {
        log.info("ambient activity is disabled (ambient.enabled: false)");
        return;
      }
      rules = compileRules(opts.config.rules);
      const coalescer = createCoalescer({ windowMs: opts.config.window, maxPerMinute: opts.config.max_per_minute });
      activity = createActivity({
        node: opts.node,
        rules,
        coalescer,
        sink: opts.sink,
        audit: opts.audit,
        log,
        clock,
        windowMs: opts.config.window,
        onSpoolChange: opts.onSpoolChange,
        // The library's watch died with the directory; a home made again under the same name
        // (even on the same inode number) needs a new one.
        onHomeGone: (home) => {
          if (watched.get(home.user)?.home !== home) return;
          void unwatch(home.user).then(() => requestSync());
        },
      });
      const began = Date.now();
      await requestSync();
      if (stopped) return; // stop() came during the first scan
      if (!shared && !rootWatch && !rootMissing) watchRoot();
      timers.push(
        setInterval(() => {
          if (!shared && !rootWatch && !rootMissing) watchRoot();
          void requestSync();
        }, rescanMs).unref(),
      );
      timers.push(setInterval(() => activity.flushSummary(), 60_000).unref());
      log.info("watching home directories for ambient activity", {
        root: opts.homesRoot,
        homes: watched.size,
        ms: Date.now() - began,
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      rootWatch?.close();
      await syncing;
      await shared?.close();
      await Promise.all([...watched.keys()].map(unwatch));
      if (activity) {
        activity.flushSummary();
        await activity.idle();
      }
    },
  };
}
