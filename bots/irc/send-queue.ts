/**
 * The outbound send queue. irc-framework writes every call straight to the socket, and a server
 * disconnects a client that floods ("Excess Flood"), so every PRIVMSG goes through here:
 *
 * - a token bucket: `burst` lines at once, then one line per `perMs`;
 * - paused while the connection is not registered, and per target until the channel is joined;
 * - bounded: at most `capacity` lines wait. An event that does not fit is not queued but
 *   counted, and once that target's queue has drained one summary line says how many were
 *   left out ("…and 37 more things happened"). A burst therefore ends in a summary instead of
 *   minutes of backlog or silent loss.
 */

export interface QueueClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The wall clock and real timers. */
export const realClock: QueueClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Pacing, bound and the two callbacks the queue drives. */
export interface SendQueueOptions {
  burst: number;
  perMs: number;
  /** Lines that may wait (events are queued whole or not at all). */
  capacity: number;
  /** Writes one line; only called while running and with `ready(target)` true. */
  send(target: string, line: string): void;
  /** The summary for `count` left-out events. */
  summary(count: number): string;
  /** Whether lines for `target` may go now (the channel is joined). Default: always. */
  ready?(target: string): boolean;
  clock?: QueueClock;
}

interface Item {
  target: string;
  line: string;
  /** Called once this line is written (set on an event's last line: its confirmation). */
  written?: (() => void) | undefined;
}

/** "…and 37 more things happened". */
export const defaultSummary = (n: number): string => `…and ${n} more ${n === 1 ? "thing" : "things"} happened`;

/** Starts paused. The owner calls `resume()` when registered and `clear()` on stop (it cancels the timer). */
export class SendQueue {
  private readonly items: Item[] = [];
  private readonly dropped = new Map<string, number>();
  private tokens: number;
  private refilledAt: number;
  private paused = true;
  private cancelTimer: (() => void) | undefined;
  private readonly clock: QueueClock;
  /** Lines written so far (for status and tests). */
  sent = 0;

  constructor(private readonly opts: SendQueueOptions) {
    if (opts.burst < 1 || opts.perMs <= 0 || opts.capacity < 1)
      throw new RangeError("send queue needs burst ≥ 1, perMs > 0, capacity ≥ 1");
    this.clock = opts.clock ?? realClock;
    this.tokens = opts.burst;
    this.refilledAt = this.clock.now();
  }

  /** Lines waiting. */
  get pending(): number {
    return this.items.length;
  }

  /** Events left out and not yet summarised, over all targets. */
  get unsummarised(): number {
    let n = 0;
    for (const v of this.dropped.values()) n += v;
    return n;
  }

  /** True when no further line fits; callers may then `skip` an event without rendering it. */
  get full(): boolean {
    return this.items.length >= this.opts.capacity;
  }

  /** Counts an event for `target` that was not queued (it shows up in the summary). */
  skip(target: string): void {
    this.dropped.set(target, (this.dropped.get(target) ?? 0) + 1);
  }

  /**
   * Queues one event's lines for `target`, all or nothing. Returns false when the queue is full
   * (the event is then counted for the target's summary). `written` is called once the last
   * line has been written to the connection.
   */
  enqueue(target: string, lines: readonly string[], written?: () => void): boolean {
    if (!lines.length) {
      written?.();
      return true;
    }
    if (this.items.length + lines.length > this.opts.capacity) {
      this.skip(target);
      written?.(); // left out by the queue's policy (counted in the summary): done with
      return false;
    }
    lines.forEach((line, i) =>
      this.items.push({ target, line, written: i === lines.length - 1 ? written : undefined }),
    );
    this.pump();
    return true;
  }

  /** Stops writing (not registered). Lines keep waiting. */
  pause(): void {
    this.paused = true;
    this.cancel();
  }

  /** Writes again; also call it when a target becomes ready. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Forgets everything waiting (on stop). */
  clear(): void {
    this.items.length = 0;
    this.dropped.clear();
    this.cancel();
  }

  private cancel(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + (now - this.refilledAt) / this.opts.perMs);
    this.refilledAt = now;
  }

  private isReady(target: string): boolean {
    return this.opts.ready ? this.opts.ready(target) : true;
  }

  /** A summary for every target whose lines have all gone out but that had events left out. */
  private addSummaries(): void {
    for (const [target, n] of this.dropped) {
      if (this.items.some((i) => i.target === target)) continue;
      this.dropped.delete(target);
      this.items.push({ target, line: this.opts.summary(n) });
    }
  }

  private pump(): void {
    if (this.paused) return;
    this.cancel();
    this.refill();
    for (;;) {
      this.addSummaries();
      const at = this.items.findIndex((i) => this.isReady(i.target));
      if (at < 0) return; // nothing sendable: resume() is called when a channel is joined
      if (this.tokens < 1) {
        this.cancelTimer = this.clock.setTimer(
          () => {
            this.cancelTimer = undefined;
            this.pump();
          },
          Math.ceil((1 - this.tokens) * this.opts.perMs),
        );
        return;
      }
      const [item] = this.items.splice(at, 1);
      this.tokens -= 1;
      this.sent++;
      this.opts.send(item!.target, item!.line);
      item!.written?.();
    }
  }
}
