/**
 * Runs spool checks: never two at once for the same user (so one spool's submits stay in file
 * order), at most a few at once overall (a rescan of a thousand homes must not open a thousand
 * files together), and a check asked for while one runs is run once more afterwards.
 */

type Check = (user: string, fromEnd: boolean) => Promise<void>;

interface Slot {
  running: boolean;
  again: boolean;
  fromEnd: boolean;
  /** Resolved when the slot goes idle. */
  waiters: Array<() => void>;
}

export class SpoolScheduler {
  private readonly slots = new Map<string, Slot>();
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly check: Check,
    private readonly concurrency = 8,
  ) {}

  /** Checks `user`'s spool soon; resolves once a check that began after this call has finished. */
  schedule(user: string, fromEnd: boolean): Promise<void> {
    const slot = this.slotOf(user);
    const done = new Promise<void>((resolve) => slot.waiters.push(resolve));
    this.want(user, slot, fromEnd);
    return done;
  }

  /**
   * Checks `user`'s spool soon, like `schedule`, for a caller that does not wait for it (a
   * wake-up per appended line: no promise made for nobody).
   */
  kick(user: string): void {
    this.want(user, this.slotOf(user), false);
  }

  private slotOf(user: string): Slot {
    let slot = this.slots.get(user);
    if (!slot) this.slots.set(user, (slot = { running: false, again: false, fromEnd: false, waiters: [] }));
    return slot;
  }

  private want(user: string, slot: Slot, fromEnd: boolean): void {
    slot.fromEnd ||= fromEnd;
    if (slot.running) slot.again = true;
    else void this.run(user, slot);
  }

  /** Resolves when no check is running or waiting. */
  async idle(): Promise<void> {
    await Promise.all(
      [...this.slots.values()].filter((s) => s.running).map((s) => new Promise<void>((r) => s.waiters.push(r))),
    );
  }

  private async run(user: string, slot: Slot): Promise<void> {
    slot.running = true;
    try {
      do {
        slot.again = false;
        const fromEnd = slot.fromEnd;
        slot.fromEnd = false;
        const waiters = slot.waiters.length ? slot.waiters.splice(0) : NO_WAITERS;
        // A freed slot is handed straight to the longest waiter, so a spool that asks again at
        // once queues behind the others instead of grabbing its slot back.
        if (this.active >= this.concurrency) await new Promise<void>((r) => this.queue.push(r));
        else this.active++;
        try {
          await this.check(user, fromEnd);
        } catch {
          // The check reports its own failures; the scheduler keeps going.
        } finally {
          const next = this.queue.shift();
          if (next) next();
          else this.active--;
        }
        for (const w of waiters) w();
      } while (slot.again);
    } finally {
      slot.running = false;
      for (const w of slot.waiters.splice(0)) w();
    }
  }
}

/** What a check nobody waits for settles (no array made per line). */
const NO_WAITERS: ReadonlyArray<() => void> = [];
