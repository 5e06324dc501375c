/**
 * Reading a stretch of the BUSTLE stream directly, for what the portal's memory does not hold:
 * its history after a restart, and clients reconnecting after a longer absence. Each read uses a
 * short-lived ordered consumer that is deleted afterwards.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEventOn, type BustleEvent } from "../../cluster/envelope.js";
import type { Logger } from "../../cluster/logger.js";
import { SkippedMessages } from "../../cluster/skipped.js";
import { STREAM_NAME } from "../../cluster/names.js";
import { makeEntry, type Entry } from "./history.js";

/** Larger reads are cut to this many stream messages (scanned, not kept), so one call stays bounded. */
const MAX_SCAN = 20_000;

/** Stream reads at once; more wait their turn (many clients reconnecting from long ago cost the same as two). */
const MAX_CONCURRENT_READS = 2;

export class StreamReader {
  private jsm: JetStreamManager | undefined;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly skipped: SkippedMessages;

  constructor(
    private readonly nc: NatsConnection,
    /** Which events this bot would have been given (its subscribe and kinds). */
    private readonly wants: (e: BustleEvent) => boolean,
    private readonly log: Logger,
  ) {
    this.skipped = new SkippedMessages(log);
  }

  /** The stream's last sequence (0 when empty). Rejects when JetStream does not answer. */
  async lastSeq(): Promise<number> {
    this.jsm ??= await jetstreamManager(this.nc, { timeout: 5_000 });
    const info = await this.jsm.streams.info(STREAM_NAME);
    return info.state.last_seq;
  }

  /**
   * The stream sequence of the event `id` if it is the newest on `subject` (the portal's own
   * posts, which its host does not echo back), else undefined. Never rejects.
   */
  async locate(subject: string, id: string): Promise<{ seq: number; event: BustleEvent } | undefined> {
    try {
      this.jsm ??= await jetstreamManager(this.nc, { timeout: 5_000 });
      const m = await this.jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subject });
      if (!m) return undefined;
      const event = decodeEventOn(m.subject, m.data);
      return event.id === id ? { seq: m.seq, event } : undefined;
    } catch (err) {
      this.log.debug("could not find a published event in the stream", { error: err });
      return undefined;
    }
  }

  /**
   * The wanted events with `from <= seq <= to`, oldest first. Payloads that are not valid
   * envelopes or contradict their subject are skipped (counted, logged). Rejects when the stream cannot be read.
   */
  async read(from: number, to: number): Promise<Entry[]> {
    if (this.active >= MAX_CONCURRENT_READS) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await this.readNow(from, to);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async readNow(from: number, to: number): Promise<Entry[]> {
    from = Math.max(1, from, to - MAX_SCAN + 1);
    if (to < from) return [];
    const js = jetstream(this.nc, { timeout: 5_000 });
    const consumer = await js.consumers.get(STREAM_NAME, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const out: Entry[] = [];
    let last = from - 1;
    try {
      while (last < to) {
        const batch = await consumer.fetch({ max_messages: Math.min(to - last, 1000), expires: 3_000 });
        let got = 0;
        let done = false;
        for await (const m of batch) {
          got++;
          last = m.seq;
          if (m.seq <= to) {
            try {
              const event = decodeEventOn(m.subject, m.data);
              if (this.wants(event)) out.push(makeEntry(m.seq, event));
            } catch (err) {
              this.skipped.skip(m, err);
            }
          }
          if (m.seq >= to || m.info.pending === 0) {
            done = true;
            break;
          }
        }
        if (done || got === 0) break;
      }
    } finally {
      await consumer.delete().catch(() => {});
    }
    return out;
  }
}
