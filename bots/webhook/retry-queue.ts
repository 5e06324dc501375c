/**
 * A bounded, ordered queue with one sender: each item is tried until it succeeds, is refused
 * for good, or runs out of attempts, waiting with exponential backoff (and jitter) in between.
 * When the queue is full the oldest item is dropped. Every drop is counted by reason and
 * reported to `onDrop`.
 */

export type Outcome =
  | { ok: true }
  /** Try again later; `afterMs` (from a Retry-After) overrides the backoff when given. */
  | { ok: false; retry: true; reason: string; afterMs?: number | undefined }
  /** Never try this item again (the receiver refused it). */
  | { ok: false; retry: false; reason: string };

export type DropReason = "queue_full" | "refused" | "gave_up" | "stopped";

export interface RetryQueueOptions<T> {
  capacity: number;
  attempts: number;
  initialMs: number;
  maxMs: number;
  send(item: T, attempt: number, signal: AbortSignal): Promise<Outcome>;
  onDrop(item: T, reason: DropReason, detail: string): void;
  /** Called after each attempt (for health reports). */
  onAttempt?(item: T, outcome: Outcome, attempt: number): void;
  random?: () => number;
}

export class RetryQueue<T> {
  private readonly items: T[] = [];
  readonly dropped: Record<DropReason, number> = { queue_full: 0, refused: 0, gave_up: 0, stopped: 0 };
  delivered = 0;
  private running = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: RetryQueueOptions<T>) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.stopped) return this.o.onDrop(item, "stopped", "the bot is stopping");
    this.items.push(item);
    if (this.items.length > this.o.capacity) {
      // The oldest waiting one goes; the head may be in flight and is left to finish.
      const [old] = this.items.splice(this.running && this.items.length > 1 ? 1 : 0, 1) as [T];
      this.dropped.queue_full++;
      this.o.onDrop(old, "queue_full", `more than ${this.o.capacity} events waiting`);
    }
    if (!this.running) void this.run();
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.running && this.items.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops sending (aborting an attempt in flight) and returns what was still waiting, oldest first. */
  stop(): T[] {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    return this.items.splice(0);
  }

  /** The wait before attempt `attempt + 1`: initial·2^(attempt-1), capped, with ±25% jitter. */
  backoffMs(attempt: number): number {
    const base = Math.min(this.o.maxMs, this.o.initialMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(base * (0.75 + 0.5 * (this.o.random ?? Math.random)()));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.items.length > 0) {
        const item = this.items[0]!;
        let attempt = 0;
        for (;;) {
          attempt++;
          let outcome: Outcome;
          try {
            outcome = await this.o.send(item, attempt, this.abort.signal);
          } catch (err) {
            outcome = { ok: false, retry: true, reason: (err as Error).message };
          }
          if (this.stopped) return; // the item stays queued; stop() hands it back
          this.o.onAttempt?.(item, outcome, attempt);
          if (outcome.ok) {
            this.delivered++;
            break;
          }
          if (!outcome.retry) {
            this.dropped.refused++;
            this.o.onDrop(item, "refused", outcome.reason);
            break;
          }
          if (attempt >= this.o.attempts) {
            this.dropped.gave_up++;
            this.o.onDrop(item, "gave_up", `${attempt} attempts failed, last: ${outcome.reason}`);
            break;
          }
          await this.sleep(Math.min(this.o.maxMs, outcome.afterMs ?? this.backoffMs(attempt)));
          if (this.stopped) return;
          // While waiting, the queue may have overflowed and dropped this very item.
          if (this.items[0] !== item) break;
        }
        if (this.items[0] === item) this.items.shift();
      }
    } finally {
      this.running = false;
      if (this.items.length === 0 || this.stopped) for (const r of this.idleWaiters.splice(0)) r();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}
