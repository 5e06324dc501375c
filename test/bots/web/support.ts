/**
 * Test support for the portal and webhook bots: a real nats-server with the BUSTLE stream, a bot
 * context on it, and the bot host's own feed loop handing the bot every event it wants, with its
 * stream sequence.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "../../../cluster/connection.js";
import { decodeEvent, type BustleEvent } from "../../../cluster/envelope.js";
import { silentLogger, type Logger } from "../../../cluster/logger.js";
import { STREAM_NAME } from "../../../cluster/names.js";
import type { BotContext, CommonBotConfig } from "../../../bots/bot.js";
import { createBotContext } from "../../../bots/context.js";
import { feedBot } from "../../../bench/lib/feed-bot.js";

import type { Bus } from "../../support/bus.js";
export { publishEvent, startBus, type Bus } from "../../support/bus.js";

export function common(id: string, type: string, extra: Partial<CommonBotConfig> = {}): CommonBotConfig {
  return { id, type, enabled: true, subscribe: ["bustle.ev.>"], format: "{text}", ...extra };
}

export function context<C>(
  bus: Bus,
  c: CommonBotConfig,
  config: C,
  stateDir: string,
  log: Logger = silentLogger,
): BotContext<C> {
  return createBotContext({ node: "portal", common: c, config, bus: bus.nc, log, stateDir });
}

/** Every event in the stream, oldest first. */
export async function streamEvents(nc: NatsConnection): Promise<Array<{ seq: number; event: BustleEvent }>> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
  if (last === 0) return [];
  const c = await jetstream(nc).consumers.get(STREAM_NAME, { deliver_policy: DeliverPolicy.All });
  const out: Array<{ seq: number; event: BustleEvent }> = [];
  const it = await c.fetch({ max_messages: last, expires: 3_000 });
  for await (const m of it) {
    out.push({ seq: m.seq, event: decodeEvent(m.data) });
    if (m.seq >= last) break;
  }
  await c.delete().catch(() => {});
  return out;
}

export type { Feed } from "../../../control/host/feed.js";

/**
 * Delivers to `bot` every wanted event after the stream's current end (as the host does after
 * `start()`), in order, through the host's own feed loop. Stop it before stopping the bot.
 */
export const feed = feedBot;
