/**
 * The outbox's bound on the events it holds (relay/outbox.ts): past `max` held events a submit
 * waits, oldest first, and is let in piece by piece as acknowledgements free room, so the outbox
 * never holds more than `max` (however big a producer's batch) — only a journal replayed at
 * start may hold more. Backpressure, never loss: a waiting spool read does not move its offset,
 * so the spool itself holds the backlog until NATS is back.
 *
 * Said once when a submit first has to wait ("outbox full") and once when it has drained: down
 * to half the bound with nobody waiting, and no submit waiting for a quiet second after that.
 * While spools catch up it sits at the line, nobody waiting one moment and the next read waiting
 * the moment after; that is one episode, not a message per acknowledgement. Every check is O(1)
 * per submit and per acknowledgement batch.
 */
import type { BustleEvent } from "../cluster/envelope.js";
import type { Logger } from "../cluster/logger.js";

type Done = (err?: unknown) => void;

/** A submit refused because the relay is stopping while it waited for room (nothing of it was written). */
export class OutboxStopping extends Error {
  constructor() {
    super("the relay is stopping: events waiting for room in the outbox were not taken (spool lines are read again)");
    this.name = "OutboxStopping";
  }
}

export interface OutboxBoundOptions {
  max: number;
  log: Logger;
  /** Events the outbox holds written (its pending map); the bound adds those let in and not yet written. */
  pendingCount(): number;
  /** Queues events for the journal; `done` once they are written and pending, or failed. */
  write(events: readonly BustleEvent[], done: Done): void;
  /** How long nobody may wait before the outbox counts as drained. Default 1 s. */
  quietMs?: number;
}

/** A submit waiting for room: let in piece by piece, settled once its last piece is written. */
interface Waiting {
  events: readonly BustleEvent[];
  taken: number;
  unsettled: number;
  error: unknown;
  done: Done;
}

export class OutboxBound {
  /** Let in, not yet written: held, but not in the pending map yet. */
  private unwritten = 0;
  private readonly waiting: Waiting[] = [];
  private isFull = false;
  private abandoned = false;
  /** Runs out the quiet time after which a full outbox that has room counts as drained. */
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: OutboxBoundOptions) {}

  /** True from the first submit that had to wait until the outbox drained to half the bound. */
  get full(): boolean {
    return this.isFull;
  }

  /** Events held: pending plus let in and not yet written. */
  get held(): number {
    return this.o.pendingCount() + this.unwritten;
  }

  /** Lets `events` in now when they fit and nobody waits, else queues them behind the waiting ones. */
  submit(events: readonly BustleEvent[], done: Done): void {
    if (!this.waiting.length && this.held + events.length <= this.o.max) return this.write(events, done);
    if (this.abandoned) return done(new OutboxStopping());
    this.waiting.push({ events, taken: 0, unsettled: 0, error: undefined, done });
    clearTimeout(this.drainTimer); // not drained after all: the same episode goes on
    this.drainTimer = undefined;
    if (!this.isFull) {
      this.isFull = true;
      this.o.log.warn(`outbox full: ${this.held} events waiting for NATS; spools are read again once it drains`, {
        pending: this.held,
        max_pending: this.o.max,
      });
    }
    this.letIn();
  }

  /** Room was freed (acknowledgements): lets waiting submits in, and says when the outbox has drained. */
  freed(): void {
    this.letIn();
    if (this.isFull && !this.drainTimer && !this.waiting.length && this.held <= this.o.max / 2)
      this.drainTimer = setTimeout(() => {
        this.drainTimer = undefined;
        this.isFull = false;
        this.o.log.warn(`outbox drained: ${this.held} events waiting for NATS; spools are read at full speed again`, {
          pending: this.held,
          max_pending: this.o.max,
        });
      }, this.o.quietMs ?? 1_000).unref();
  }

  /** The relay is stopping: waiting submits, and later ones that would wait, reject with OutboxStopping. */
  abandon(): void {
    this.abandoned = true;
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    for (const w of this.waiting.splice(0)) {
      w.error ??= new OutboxStopping();
      w.taken = w.events.length; // nothing more of it goes in
      if (w.unsettled === 0) w.done(w.error);
    }
  }

  private write(events: readonly BustleEvent[], done: Done): void {
    this.unwritten += events.length;
    this.o.write(events, (err) => {
      this.unwritten -= events.length; // pending now (the same count), or failed: room again
      done(err);
      if (err) this.freed();
    });
  }

  private letIn(): void {
    while (this.waiting.length) {
      const room = this.o.max - this.held;
      if (room <= 0) return;
      const w = this.waiting[0]!;
      const n = Math.min(room, w.events.length - w.taken);
      const part = n === w.events.length ? w.events : w.events.slice(w.taken, w.taken + n);
      w.taken += n;
      w.unsettled++;
      if (w.taken === w.events.length) this.waiting.shift();
      this.write(part, (err) => {
        w.error ??= err;
        if (--w.unsettled === 0 && w.taken === w.events.length) w.done(w.error);
      });
    }
  }
}
