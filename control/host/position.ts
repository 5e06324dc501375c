/**
 * A bot's position in the BUSTLE stream, kept in JetStream KV so that a bot that moves to
 * another node resumes where it left off. Writes are coalesced (at most one per `everyMs`) and
 * flushed on stop, so after a crash a few events may be delivered again, never skipped.
 */
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../cluster/logger.js";
import { BOTS_BUCKET, positionKey } from "../../cluster/names.js";

export class PositionStore {
  private saved = 0;
  private current = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly log: Logger,
    private readonly everyMs: number,
  ) {}

  static async open(nc: NatsConnection, botId: string, log: Logger, everyMs = 500): Promise<PositionStore> {
    const kv = await new Kvm(nc).open(BOTS_BUCKET);
    return new PositionStore(kv, positionKey(botId), log, everyMs);
  }

  /** The last sequence this bot consumed, or undefined when it never ran. */
  async load(): Promise<number | undefined> {
    const e = await this.kv.get(this.key);
    if (e?.operation !== "PUT") return undefined;
    try {
      const seq = (e.json() as { seq?: unknown }).seq;
      if (typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0) {
        this.saved = this.current = seq;
        return seq;
      }
    } catch {
      /* a damaged record counts as none */
    }
    this.log.warn("ignoring a damaged position record", { key: this.key });
    return undefined;
  }

  get seq(): number {
    return this.current;
  }

  advance(seq: number): void {
    if (seq <= this.current) return;
    this.current = seq;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.everyMs);
  }

  /** Writes the current position now (used at first start and on stop). Never throws. */
  save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const seq = this.current;
      if (seq === this.saved && seq !== 0) return;
      try {
        await this.kv.put(this.key, JSON.stringify({ seq, at: new Date().toISOString() }));
        this.saved = seq;
      } catch (err) {
        this.log.warn("could not save the bot's stream position", { error: err });
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.save();
  }
}
