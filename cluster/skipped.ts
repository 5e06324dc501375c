/**
 * What a consumer does with a stream message it will not use: it counts it by reason, tells its
 * owner (the relay writes an audit record) and logs a warning — the first one, then at most one
 * a minute with the count since, so a member flooding the stream cannot flood the journal.
 * The consumer then moves past the message like any other.
 */
import { SubjectMismatch } from "./errors.js";
import type { Logger } from "./logger.js";

/** Also the audit record's reason (and so bustled's `bustle_rejected_total{reason}`). */
export type SkipReason = "subject-mismatch" | "invalid-event";

export interface SkippedMessage {
  reason: SkipReason;
  seq: number;
  subject: string;
  error: string;
}

const WARN_EVERY_MS = 60_000;

export class SkippedMessages {
  readonly counts: Record<SkipReason, number> = { "subject-mismatch": 0, "invalid-event": 0 };
  private lastWarn = -Infinity;
  private sinceWarn = 0;

  constructor(
    private readonly log: Logger,
    /** Where the consumer reports each skip (an audit log); called for every one. */
    private readonly report: (skip: SkippedMessage) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one skipped message; `err` is what decoding it threw. */
  skip(m: { seq: number; subject: string }, err: unknown): void {
    const reason: SkipReason = err instanceof SubjectMismatch ? "subject-mismatch" : "invalid-event";
    const skip: SkippedMessage = {
      reason,
      seq: m.seq,
      subject: m.subject,
      error: err instanceof Error ? err.message : String(err),
    };
    this.counts[reason]++;
    this.sinceWarn++;
    this.report(skip);
    const t = this.now();
    if (t - this.lastWarn < WARN_EVERY_MS) return;
    this.log.warn(
      reason === "subject-mismatch"
        ? "skipped an event whose payload does not match its subject"
        : "skipped a stream message that is not a valid event",
      { ...skip, skipped_since_last_warning: this.sinceWarn },
    );
    this.lastWarn = t;
    this.sinceWarn = 0;
  }
}
