/**
 * The events a bot receives: an ordered consumer on the BUSTLE stream starting right after the
 * bot's saved position, filtered by its `subscribe` and `kinds`, handed over one at a time (a
 * slow bot slows its own feed, nothing else). The host, not the server, owns the position.
 */
import { DeliverPolicy, jetstream, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEventOn, type BustleEvent } from "../../cluster/envelope.js";
import type { Logger } from "../../cluster/logger.js";
import { SkippedMessages } from "../../cluster/skipped.js";
import { ALL_EVENTS, STREAM_NAME } from "../../cluster/names.js";
import type { CommonBotConfig } from "../bot.js";
import { botWants } from "../context.js";

export interface FeedOptions {
  nc: NatsConnection;
  common: CommonBotConfig;
  /** First stream sequence to read. */
  startSeq: number;
  log: Logger;
  /** A matching event; the feed waits for it before the next. */
  onEvent(event: BustleEvent, seq: number): Promise<void>;
  /** Every consumed sequence, matching or not (the position advances past both). */
  onConsumed(seq: number): void;
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
  const loop = (async () => {
    for await (const m of messages) {
      if (stopping) break;
      let event: BustleEvent | undefined;
      try {
        event = decodeEventOn(m.subject, m.data);
      } catch (err) {
        skipped.skip(m, err);
      }
      if (event && botWants(o.common, event)) {
        try {
          await o.onEvent(event, m.seq);
        } catch (err) {
          o.log.warn("the bot failed to take an event", { seq: m.seq, error: err });
        }
      }
      o.onConsumed(m.seq);
    }
  })();
  return {
    async stop() {
      stopping = true;
      messages.stop();
      await loop.catch(() => {});
    },
  };
}
