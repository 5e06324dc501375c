/**
 * Containment for programs we do not control: a line splitter with a bounded buffer, a token
 * bucket for what a program may publish, and a logger that summarises instead of flooding.
 */
import type { Logger } from "../../cluster/logger.js";

/**
 * Splits a byte stream into lines without ever holding more than `maxBytes` of one line: a longer
 * line is dropped whole (reported through `onOversized`) and reading resumes after its newline.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (!this.skipping) {
        if (this.size + piece.length > this.maxBytes) {
          this.skipping = true;
          this.onOversized(this.size + piece.length);
          this.parts = [];
        } else if (piece.length) {
          this.parts.push(piece);
        }
      }
      this.size += piece.length;
      if (nl === -1) return;
      if (!this.skipping) this.onLine(Buffer.concat(this.parts).toString("utf8").replace(/\r$/, ""));
      this.parts = [];
      this.size = 0;
      this.skipping = false;
      start = nl + 1;
    }
  }

  /** What is left without a final newline when the stream ends is a line too. */
  end(): void {
    if (!this.skipping && this.size > 0) this.onLine(Buffer.concat(this.parts).toString("utf8"));
    this.parts = [];
    this.size = 0;
    this.skipping = false;
  }
}

/** A token bucket: `burst` at once, refilled at `perMinute`. The clock is injectable for tests. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.perMinute) / 60_000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Logs the first few occurrences of each reason per window, then one summary line with the count
 * of what it kept quiet about, so a program printing garbage cannot flood the logs.
 */
export class QuietLog {
  private counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly perWindow = 5,
    private readonly windowMs = 10_000,
  ) {}

  warn(reason: string, fields: Record<string, unknown> = {}): void {
    const n = (this.counts.get(reason) ?? 0) + 1;
    this.counts.set(reason, n);
    if (n <= this.perWindow) this.log.warn(reason, fields);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs).unref();
  }

  flush(): void {
    this.timer = undefined;
    for (const [reason, n] of this.counts) {
      if (n > this.perWindow)
        this.log.warn(`${reason} (repeated; ${n - this.perWindow} more not logged)`, { count: n });
    }
    this.counts.clear();
  }
}
