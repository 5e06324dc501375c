/**
 * Saying things in a game server through rcon, one queue per server, paced so that two rcon
 * packets are never closer than `intervalMs` (mvdsv's sv_rconlim refuses a second one within
 * a second, and says "Bad rcon_password." when it does). A refusal is retried once after a
 * pause, then reported as one clear error; a lost reply is not retried, so nothing is said
 * twice. The queue is bounded: when full, the oldest lines are dropped and counted.
 */
import type { Logger } from "../../cluster/logger.js";
import { request, resolvePeer } from "./udp.js";

export const BAD_RCON = "Bad rcon_password.";

export interface RconOptions {
  host: string;
  port: number;
  /** The server's name, for messages. */
  name: string;
  password: string;
  /** Where the password came from, for messages ("$QW_RCON"). */
  passwordSource: string;
  intervalMs: number;
  log: Logger;
  maxQueue?: number;
  timeoutMs?: number;
  /** Called with a one-line problem (wrong password, no answer), or undefined when rcon works again. */
  onProblem?: (problem: string | undefined) => void;
}

export type RconResult = "ok" | "refused" | "no-answer";

export class RconSayQueue {
  /** Lines waiting, each with its confirmation (called once it was sent, or dropped). */
  private queue: Array<{ line: string; done: () => void }> = [];
  private lastSent = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  private problem: string | undefined;
  /** Lines dropped because the queue was full. */
  dropped = 0;
  /** Lines the server accepted. */
  said = 0;

  constructor(private readonly opts: RconOptions) {}

  /**
   * Queues one console-safe line. Resolves once it has been sent to the server (one attempt,
   * never resent) or dropped from a full queue; never, when stopped first.
   */
  say(line: string): Promise<void> {
    if (this.stopped) return new Promise<void>(() => {});
    const said = new Promise<void>((done) => this.queue.push({ line, done }));
    const max = this.opts.maxQueue ?? 20;
    while (this.queue.length > max) {
      this.queue.shift()!.done();
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 50 === 0)
        this.opts.log.warn(`rcon queue for ${this.opts.name} is full; dropped ${this.dropped} line(s) so far`);
    }
    this.schedule();
    return said;
  }

  stop(): void {
    this.stopped = true;
    this.queue = [];
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.busy || this.timer || this.stopped || this.queue.length === 0) return;
    const wait = Math.max(0, this.lastSent + this.opts.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sendNext();
    }, wait);
  }

  private async sendNext(): Promise<void> {
    const next = this.queue.shift();
    if (next === undefined || this.stopped) return;
    const { line } = next;
    this.busy = true;
    try {
      let result = await this.send(`say ${line}`);
      if (result === "refused" && !this.stopped) {
        // Maybe someone else's rcon hit the rate limit just before ours: one more try, well spaced.
        await new Promise((r) => setTimeout(r, 2 * this.opts.intervalMs));
        if (this.stopped) return;
        result = await this.send(`say ${line}`);
      }
      if (result === "ok") {
        this.said++;
        this.setProblem(undefined);
      } else if (result === "refused") {
        this.setProblem(
          `rcon refused by ${this.opts.name} ("${BAD_RCON}"): the password in ${this.opts.passwordSource} is wrong, or rcon arrives faster than the server's sv_rconlim allows`,
        );
      } else {
        this.setProblem(
          `rcon to ${this.opts.name} (${this.opts.host}:${this.opts.port}) got no answer; the line may or may not have been said, and is not resent`,
        );
      }
    } finally {
      if (!this.stopped) next.done();
      this.busy = false;
      this.schedule();
    }
  }

  /** One rcon command; the packet ends with a NUL so stale bytes of earlier packets never follow it. */
  async send(command: string): Promise<RconResult> {
    this.lastSent = Date.now();
    const peer = await resolvePeer(this.opts.host, this.opts.port).catch(() => undefined);
    if (!peer) return "no-answer";
    this.lastSent = Date.now();
    const reply = await request(peer, `rcon ${this.opts.password} ${command}\0`, {
      timeoutMs: this.opts.timeoutMs ?? 2_000,
      accept: (p) => p[0] === 0x6e, // 'n': a print
    });
    if (!reply) return "no-answer";
    const text = reply.subarray(1).toString("latin1");
    return text.includes(BAD_RCON) ? "refused" : "ok";
  }

  private setProblem(p: string | undefined): void {
    if (p === this.problem) return;
    if (p) this.opts.log.error(p);
    else if (this.problem) this.opts.log.info(`rcon to ${this.opts.name} works again`);
    this.problem = p;
    this.opts.onProblem?.(p);
  }
}
