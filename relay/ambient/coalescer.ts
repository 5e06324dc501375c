/**
 * The ambient coalescer: at most one event per user and kind per window, and at most
 * `maxPerMinute` events tilde-wide in any 60 seconds. Pure logic on a clock value, so tests
 * drive it with plain numbers. What it holds back is counted, for a summary in the audit log.
 */

export type Verdict = "emit" | "coalesced" | "dropped";

export interface CoalescerOptions {
  windowMs: number;
  maxPerMinute: number;
}

/** Counts since the last summary; only keys with non-zero counts appear. */
export interface CoalescerSummary {
  coalesced: number;
  dropped: number;
  /** Per user: kind → how many changes were folded into an event already sent. */
  coalescedBy: Record<string, Record<string, number>>;
  /** Per user: kind → how many events the tilde-wide cap dropped. */
  droppedBy: Record<string, Record<string, number>>;
}

export interface Coalescer {
  /** Decides for one change of `user` falling under `kind` at time `now` (ms). An "emit" opens the window. */
  offer(user: string, kind: string, now: number): Verdict;
  /** Returns and resets the counts (undefined when nothing was held back), and forgets closed windows. */
  takeSummary(now: number): CoalescerSummary | undefined;
}

const MINUTE = 60_000;

export function createCoalescer(opts: CoalescerOptions): Coalescer {
  const lastSent = new Map<string, number>(); // "user\0kind" → time of the last event sent
  const sentTimes: number[] = []; // times of events sent in the last minute, oldest first
  let counts = emptySummary();

  const bump = (table: Record<string, Record<string, number>>, user: string, kind: string) => {
    const row = (table[user] ??= {});
    row[kind] = (row[kind] ?? 0) + 1;
  };

  return {
    offer(user, kind, now) {
      const key = `${user}\0${kind}`;
      const last = lastSent.get(key);
      if (last !== undefined && now - last < opts.windowMs && now >= last) {
        counts.coalesced++;
        bump(counts.coalescedBy, user, kind);
        return "coalesced";
      }
      while (sentTimes.length && now - sentTimes[0]! >= MINUTE) sentTimes.shift();
      if (sentTimes.length >= opts.maxPerMinute) {
        // The user's window stays closed, so their next change may still get through later.
        counts.dropped++;
        bump(counts.droppedBy, user, kind);
        return "dropped";
      }
      sentTimes.push(now);
      lastSent.set(key, now);
      return "emit";
    },
    takeSummary(now) {
      for (const [key, t] of lastSent) if (now - t >= opts.windowMs || now < t) lastSent.delete(key);
      if (counts.coalesced === 0 && counts.dropped === 0) return undefined;
      const out = counts;
      counts = emptySummary();
      return out;
    },
  };
}

function emptySummary(): CoalescerSummary {
  return { coalesced: 0, dropped: 0, coalescedBy: {}, droppedBy: {} };
}
