/**
 * From a batch of file changes in one home to ambient events: rules (first match wins),
 * the opt-out file, the coalescer, the event sink and the audit log. Only the home's user and
 * the rule's kind and text leave this module: never a file name or contents.
 */
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { makeEvent, type BustleEvent } from "../../cluster/envelope.js";
import type { Logger } from "../../cluster/logger.js";
import type { Audit } from "../audit.js";
import type { EventSink } from "../event-sink.js";
import type { AmbientRule } from "./config.js";
import type { Coalescer } from "./coalescer.js";
import type { ChangeEvent } from "./home-watch.js";
import type { Home } from "./homes.js";
import { OPTOUT_NAME, SPOOL_NAME, renderText, type CompiledRules } from "./rules.js";

export const AMBIENT_SOURCE = "fs";

export interface ActivityOptions {
  node: string;
  rules: CompiledRules;
  coalescer: Coalescer;
  sink: EventSink;
  audit: Audit;
  log: Logger;
  clock: () => number;
  windowMs: number;
  onSpoolChange?: ((user: string) => void) | undefined;
  /** A change to the home's root itself (it was removed or moved away). */
  onHomeGone(home: Home): void;
}

export interface Activity {
  /** Handles one batch from the watch library; never throws. */
  handle(home: Home, events: readonly ChangeEvent[]): void;
  /** Writes what was coalesced or dropped since the last call as one audit note. */
  flushSummary(): void;
  /** Resolves when every event handed to the sink so far is settled. */
  idle(): Promise<void>;
}

/** True when the user has opted out — or when that cannot be told (privacy wins). */
export function optedOut(home: Home): boolean {
  try {
    lstatSync(join(home.real, OPTOUT_NAME));
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Ambient events handed to the sink and not yet taken, at most. A full outbox (NATS away for a
 * long while) makes submits wait; ambient events live nowhere else, so past this many new ones
 * are dropped, said once and counted in one audit note when the sink takes events again. At the
 * default tilde-wide cap (30 a minute) that is more than half an hour of activity; spool lines
 * are never dropped (their spools hold them).
 */
export const MAX_WAITING_EVENTS = 1_000;

export function createActivity(opts: ActivityOptions): Activity {
  const pending = new Set<Promise<void>>();
  let waiting = 0;
  /** Events dropped (or refused at shutdown) since the sink filled: reported once it takes events again. */
  let shed = 0;
  const reportShed = () => {
    if (!shed) return;
    opts.audit.note("ambient events dropped while the outbox was full", {
      count: shed,
      max_waiting: MAX_WAITING_EVENTS,
    });
    opts.log.warn("ambient events were dropped while the outbox was full", { count: shed });
    shed = 0;
  };

  const handle = (home: Home, events: readonly ChangeEvent[]) => {
    const prefix = home.real + "/";
    const matched = new Map<string, AmbientRule>(); // kind → the first rule that fired for it
    let spool = false;
    for (const ev of events) {
      if (!ev.path.startsWith(prefix)) {
        if (ev.path === home.real && ev.type === "delete") opts.onHomeGone(home);
        continue;
      }
      const rel = ev.path.slice(prefix.length);
      if (rel === SPOOL_NAME) {
        spool = true;
        continue;
      }
      if (ev.type === "delete") continue; // removing things is not news
      const rule = opts.rules.match(rel, ev.type, () => isRegularFile(ev.path));
      if (rule && !matched.has(rule.kind)) matched.set(rule.kind, rule);
    }
    if (spool && opts.onSpoolChange) {
      try {
        opts.onSpoolChange(home.user);
      } catch (err) {
        opts.log.warn("the spool reader's change hook failed", { user: home.user, err });
      }
    }
    // Checked at event time: `bustle optout` (or a touch) silences the very next change.
    if (matched.size === 0 || optedOut(home)) return;
    const now = opts.clock();
    const out: BustleEvent[] = [];
    for (const [kind, rule] of matched) {
      if (opts.coalescer.offer(home.user, kind, now) !== "emit") continue;
      const event = makeEvent({
        node: opts.node,
        source: AMBIENT_SOURCE,
        kind,
        actor: rule.anon ? null : home.user,
        text: renderText(rule, home.user),
        ts: new Date(now),
      });
      out.push(event);
    }
    if (out.length) submit(home, out);
  };

  /** Hands events to the sink; the audit log records them once the sink holds them. */
  const submit = (home: Home, events: BustleEvent[]) => {
    if (waiting + events.length > MAX_WAITING_EVENTS) {
      if (!shed)
        opts.log.warn("the outbox is full: new ambient events are dropped until it takes events again", {
          waiting,
        });
      shed += events.length;
      return;
    }
    waiting += events.length;
    const p = opts.sink
      .submit(events)
      .then(
        () => {
          for (const e of events) opts.audit.event(e, { origin: home.path, actor: home.user });
        },
        (err: unknown) => {
          // Stopping while they waited for room: counted with the dropped ones, not one line per batch.
          if ((err as Error | undefined)?.name === "OutboxStopping") shed += events.length;
          else opts.log.warn("the event sink refused ambient events; they are lost", { count: events.length, err });
        },
      )
      .finally(() => {
        waiting -= events.length;
        pending.delete(p);
        if (waiting === 0) reportShed();
      });
    pending.add(p);
  };

  return {
    handle(home, events) {
      try {
        handle(home, events);
      } catch (err) {
        opts.log.error("could not turn file changes into ambient events", { user: home.user, err });
      }
    },
    flushSummary() {
      const s = opts.coalescer.takeSummary(opts.clock());
      if (!s) return;
      opts.audit.note("ambient changes held back", {
        window_ms: opts.windowMs,
        coalesced: s.coalesced,
        dropped: s.dropped,
        coalesced_by: s.coalescedBy,
        dropped_by: s.droppedBy,
      });
    },
    idle: async () => {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
