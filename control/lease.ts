/**
 * Exactly-once placement: a bot runs only where its lease is held. A lease is a key in a
 * JetStream KV bucket whose `max_age` is the lease TTL. A candidate campaigns with `create`
 * (fails while someone holds it), the holder renews with `update` at the revision it last wrote
 * (about four times per TTL), and decisions rest only on the outcome of those writes, never on
 * a read. A holder that cannot renew gives the bot up at `last successful renewal sent + TTL −
 * TTL/3`, before the key can have expired on the servers; a new holder waits `grace` after
 * winning before starting, so the old copy is gone even if it was slow to die.
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { Logger } from "../cluster/logger.js";

export { LEASE_BUCKET } from "../cluster/names.js";

export interface LeaseTiming {
  ttl: number;
  grace: number;
}

export interface LeaseEvents {
  /** The lease is ours and the grace has passed: start the work. */
  acquired(): void;
  /** The work must be gone by `until` (epoch ms, this machine's clock) unless renewed again. */
  renewed?(until: number): void;
  /** The lease is no longer ours: stop the work at once (synchronously if at all possible). */
  lost(reason: string): void;
}

/** What the lease key holds: who has it (shown by status and logs). */
export interface LeaseHolder {
  holder: string;
  node: string;
  pid: number;
}

const isWrongSequence = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence || (err.code as number) === 10164);

export class Lease {
  private rev = 0;
  private lastOkSent = 0;
  private held = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly value: string;

  constructor(
    private readonly kv: KV,
    readonly key: string,
    holder: LeaseHolder,
    private readonly timing: LeaseTiming,
    private readonly events: LeaseEvents,
    private readonly log: Logger,
  ) {
    this.value = JSON.stringify(holder);
  }

  /** The time (epoch ms) by which the work must be gone unless the lease is renewed. */
  get until(): number {
    return this.lastOkSent + this.timing.ttl - this.timing.ttl / 3;
  }

  /** True while the work may run (acquired, grace passed, not lost). */
  get isHeld(): boolean {
    return this.held;
  }

  private get pollMs(): number {
    return Math.min(1_000, this.timing.ttl / 4);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0, () => this.campaign());
  }

  private schedule(ms: number, fn: () => Promise<void>): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => void fn().catch((err) => this.log.warn("lease step failed", { error: err })), ms);
  }

  private armDeadline(): void {
    clearTimeout(this.deadline);
    const at = this.lastOkSent + this.timing.ttl - this.timing.ttl / 3;
    this.deadline = setTimeout(() => this.lose("could not renew the lease in time"), Math.max(0, at - Date.now()));
    this.events.renewed?.(at);
  }

  private async campaign(): Promise<void> {
    const sent = Date.now();
    try {
      this.rev = await this.kv.create(this.key, this.value);
    } catch (err) {
      if (!isWrongSequence(err)) this.log.debug("lease campaign failed", { key: this.key, error: err });
      return this.schedule(this.pollMs, () => this.campaign());
    }
    if (!this.running) return void (await this.deleteOwn());
    this.lastOkSent = sent;
    this.armDeadline();
    this.log.info("lease won; starting after the grace period", { key: this.key, graceMs: this.timing.grace });
    this.schedule(this.timing.ttl / 4, () => this.renew());
    setTimeout(() => {
      if (this.running && this.rev && !this.held && this.deadline) {
        this.held = true;
        this.events.acquired();
      }
    }, this.timing.grace);
  }

  private async renew(): Promise<void> {
    const sent = Date.now();
    const rev = this.rev;
    try {
      this.rev = await this.kv.update(this.key, this.value, rev, Math.max(500, this.timing.ttl / 4));
      if (!this.running) return void (await this.deleteOwn());
      this.lastOkSent = sent;
      this.armDeadline();
    } catch (err) {
      if (!this.running || rev !== this.rev) return;
      if (isWrongSequence(err)) return this.lose("the lease was taken over");
      this.log.warn("lease renewal failed; retrying", { key: this.key, error: err });
    }
    this.schedule(this.timing.ttl / 4, () => this.renew());
  }

  private lose(reason: string): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.rev = 0;
    const was = this.held;
    this.held = false;
    this.log.warn("lease lost", { key: this.key, reason });
    if (was) this.events.lost(reason);
    this.schedule(this.pollMs, () => this.campaign());
  }

  private async deleteOwn(): Promise<void> {
    const rev = this.rev;
    this.rev = 0;
    if (!rev) return;
    try {
      await this.kv.delete(this.key, { previousSeq: rev });
    } catch (err) {
      this.log.debug("could not release the lease (it will expire)", { key: this.key, error: err });
    }
  }

  /**
   * Stops campaigning and gives the lease back (deleted at our revision, so another server can
   * take over at once). Call only after the work has stopped.
   */
  async release(): Promise<void> {
    this.running = false;
    this.held = false;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    this.deadline = undefined;
    await this.deleteOwn();
  }
}
