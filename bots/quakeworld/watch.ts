/**
 * Polling one server's status. Each answer goes to the headline coalescer; a server that stops
 * answering is logged once ("not answering; polling every …"), polled with exponential backoff
 * (up to 5 minutes, never a spin), and logged once more when it answers again.
 */
import type { Logger } from "../../cluster/logger.js";
import { Headlines, type Headline } from "./headlines.js";
import { parseStatus, STATUS_QUERY, type QwStatus } from "./status.js";
import { request, resolvePeer } from "./udp.js";

export interface WatchOptions {
  host: string;
  port: number;
  name: string;
  pollMs: number;
  windowMs: number;
  log: Logger;
  onHeadline: (h: Headline) => void;
  /** Up (answering) or down; called on changes only. */
  onReachable?: (up: boolean) => void;
  timeoutMs?: number;
  maxBackoffMs?: number;
}

export class StatusWatch {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private up: boolean | undefined;
  private readonly headlines: Headlines;
  /** The last status seen (for tests and `status`). */
  last: QwStatus | undefined;
  /** Replies ignored (spoofed, malformed). */
  ignored = 0;

  constructor(private readonly opts: WatchOptions) {
    this.headlines = new Headlines({ name: opts.name, windowMs: opts.windowMs });
  }

  start(): void {
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const status = await this.query().catch(() => undefined);
    if (this.stopped) return;
    if (status) {
      if (this.up === false) this.opts.log.info(`${this.opts.name} answers again`);
      this.setUp(true);
      this.failures = 0;
      this.last = status;
      const h = this.headlines.observe(
        { players: status.players.length, map: status.map, maxclients: status.maxclients },
        Date.now(),
      );
      if (h) this.opts.onHeadline(h);
    } else {
      this.failures++;
      // One lost datagram is normal on the internet; three in a row is a server that is down.
      if (this.failures === 3) {
        this.opts.log.warn(
          `${this.opts.name} (${this.opts.host}:${this.opts.port}) is not answering status queries; polling with backoff up to ${Math.round(this.maxBackoff() / 1000)}s until it does`,
        );
        this.setUp(false);
      }
    }
    this.timer = setTimeout(() => void this.poll(), this.nextDelay());
  }

  private maxBackoff(): number {
    return Math.max(this.opts.pollMs, this.opts.maxBackoffMs ?? 300_000);
  }

  private nextDelay(): number {
    if (this.failures < 3) return this.opts.pollMs;
    return Math.min(this.maxBackoff(), this.opts.pollMs * 2 ** (this.failures - 2));
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.opts.onReachable?.(up);
  }

  private async query(): Promise<QwStatus | undefined> {
    const peer = await resolvePeer(this.opts.host, this.opts.port);
    const reply = await request(peer, STATUS_QUERY, {
      timeoutMs: this.opts.timeoutMs ?? Math.min(2_000, Math.max(500, this.opts.pollMs / 2)),
      accept: (p) => parseStatus(p) !== undefined,
      onIgnored: () => this.ignored++,
    });
    return reply ? parseStatus(reply) : undefined;
  }
}
