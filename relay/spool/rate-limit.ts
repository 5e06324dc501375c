/**
 * Per-user token buckets for spool lines, and a summary of what was dropped so that a flood
 * costs a bounded number of audit lines (a few individual records, then one count per user
 * per window). The clock is passed in so tests can drive it.
 */
import type { Audit } from "../audit.js";

export interface RateSettings {
  /** Lines a user may write at once. */
  burst: number;
  /** Sustained lines per minute. */
  perMinute: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class UserRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: RateSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `user`; false when the user is over their rate. */
  take(user: string): boolean {
    const t = this.now();
    const b = this.buckets.get(user) ?? { tokens: this.rate.burst, at: t };
    b.tokens = Math.min(this.rate.burst, b.tokens + ((t - b.at) / 60_000) * this.rate.perMinute);
    b.at = t;
    this.buckets.set(user, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

interface DropWindow {
  since: number;
  /** Drops audited one by one in this window. */
  individual: number;
  /** Drops counted but not yet written. */
  pending: number;
  origin: string;
  firstOffset?: number;
}

/** How many dropped lines per user and window get their own audit record before counting starts. */
export const INDIVIDUAL_DROPS = 3;
export const DROP_WINDOW_MS = 60_000;

/** Audits rate-limited lines: the first few individually, the rest as one count per window. */
export class DropSummary {
  private readonly windows = new Map<string, DropWindow>();

  constructor(
    private readonly audit: Audit,
    private readonly now: () => number = Date.now,
  ) {}

  dropped(user: string, origin: string, offset: number): void {
    const t = this.now();
    let w = this.windows.get(user);
    if (w && t - w.since >= DROP_WINDOW_MS) {
      this.flushOne(user, w);
      w = undefined;
    }
    if (!w) {
      w = { since: t, individual: 0, pending: 0, origin };
      this.windows.set(user, w);
    }
    if (w.individual < INDIVIDUAL_DROPS) {
      w.individual++;
      this.audit.rejected("rate-limited", { origin: `${origin}@${offset}`, actor: user });
    } else {
      w.pending++;
      w.firstOffset ??= offset;
      w.origin = origin;
    }
  }

  /** Writes the counts of windows that have ended (or of all windows with `all`). */
  flush(all = false): void {
    const t = this.now();
    for (const [user, w] of this.windows) {
      if (all || t - w.since >= DROP_WINDOW_MS) {
        this.flushOne(user, w);
        this.windows.delete(user);
      }
    }
  }

  private flushOne(user: string, w: DropWindow): void {
    if (w.pending === 0) return;
    this.audit.rejected(
      "rate-limited",
      { origin: `${w.origin}@${w.firstOffset ?? 0}`, actor: user },
      {
        dropped: w.pending,
        since: new Date(w.since).toISOString(),
        summary: true,
      },
    );
    w.pending = 0;
  }
}
