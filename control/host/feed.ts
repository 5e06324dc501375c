/**
 * The events a bot receives: an ordered consumer on the BUSTLE stream starting right after the
 * bot's saved position, filtered by its `subscribe` and `kinds`, handed over in order. A bot
 * confirms each event (delivered, or durably queued) and the position only moves over what is
 * confirmed; at most `maxUnconfirmed` wait for confirmation at once (a slow bot slows its own
 * feed, nothing else). The host, not the server, owns the position.
 */
import { DeliverPolicy, jetstream, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEventOn, type BustleEvent } from "../../cluster/envelope.js";
import type { Logger } from "../../cluster/logger.js";
import { SkippedMessages } from "../../cluster/skipped.js";
import { ALL_EVENTS, STREAM_NAME } from "../../cluster/names.js";
import type { CommonBotConfig } from "../../bots/bot.js";
import { botWants } from "../../bots/context.js";

export interface FeedOptions {
  nc: NatsConnection;
  common: CommonBotConfig;
  /** First stream sequence to read. */
  startSeq: number;
  log: Logger;
  /**
   * A matching event, handed over in stream order. Resolves when the bot has confirmed it (done,
   * or durably queued); the feed hands over the next ones meanwhile, up to `maxUnconfirmed`.
   * A rejection while the feed runs counts as done (logged); one after `stop()` does not.
   */
  onEvent(event: BustleEvent, seq: number): Promise<void>;
  /**
   * The position may advance to `seq`: every event up to it is confirmed or was not for this bot.
   * Never called past an unconfirmed event, so a host killed meanwhile resumes from there.
   */
  onConsumed(seq: number): void;
  /** Events handed over and not yet confirmed, at most. Default 1000. */
  maxUnconfirmed?: number;
}

export interface Feed {
  /** Stops reading; resolves once the current event is handed over. */
  stop(): Promise<void>;
}

/** The stream's last sequence (the start point of a bot that never ran: new events only). */
export async function streamLastSeq(nc: NatsConnection): Promise<number> {
  const js = jetstream(nc);
  const s = await js.streams.get(STREAM_NAME);
  const info = await s.info();
  return info.state.last_seq;
}

export async function startFeed(o: FeedOptions): Promise<Feed> {
  const js = jetstream(o.nc);
  // Server 2.9 takes one filter subject: with one `subscribe` entry filter on the server, else on our side.
  const filter = o.common.subscribe.length === 1 ? o.common.subscribe[0]! : ALL_EVENTS;
  const consumer = await js.consumers.get(STREAM_NAME, {
    filter_subjects: filter,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, o.startSeq),
  });
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 100 });
  let stopping = false;
  const skipped = new SkippedMessages(o.log);
  // Handed-over sequences in stream order; the position advances over the confirmed prefix.
  const order: Array<{ seq: number; done: boolean }> = [];
  const window = o.maxUnconfirmed ?? 1000;
  let unconfirmed = 0;
  let room: (() => void) | undefined;
  const settle = () => {
    let last: number | undefined;
    while (order.length && order[0]!.done) last = order.shift()!.seq;
    if (last !== undefined) o.onConsumed(last);
  };
  const loop = (async () => {
    for await (const m of messages) {
      if (stopping) break;
      let event: BustleEvent | undefined;
      try {
        event = decodeEventOn(m.subject, m.data);
      } catch (err) {
        skipped.skip(m, err);
      }
      const entry = { seq: m.seq, done: true };
      order.push(entry);
      if (event && botWants(o.common, event)) {
        entry.done = false;
        unconfirmed++;
        let confirmed: Promise<void>;
        try {
          confirmed = o.onEvent(event, m.seq);
        } catch (err) {
          confirmed = Promise.reject(err);
        }
        confirmed
          .then(
            () => (entry.done = true),
            (err: unknown) => {
              if (stopping) return; // stopped before it was done: it is handed over again next time
              o.log.warn("the bot failed to take an event", { seq: m.seq, error: err });
              entry.done = true;
            },
          )
          .finally(() => {
            unconfirmed--;
            room?.();
            settle();
          });
        while (unconfirmed >= window && !stopping) await new Promise<void>((r) => (room = r));
      }
      settle();
    }
  })();
  return {
    async stop() {
      stopping = true;
      messages.stop();
      room?.();
      await loop.catch(() => {});
    },
  };
}
