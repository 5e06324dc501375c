/**
 * A bot fed as its host feeds it, without a host: every wanted event after the stream's current
 * end, in order, through the host's own feed loop (control/host/feed.ts), each with its stream
 * sequence and formatted text. For benchmarks and tests that run one bot in their own process.
 */
import type { NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import type { Bot, CommonBotConfig } from "../../bots/bot.js";
import { formatEvent } from "../../bots/format.js";
import { startFeed, streamLastSeq, type Feed } from "../../control/host/feed.js";

/** Resolves once the feed reads; stop it (feed.stop()) before stopping the bot. */
export async function feedBot(nc: NatsConnection, c: CommonBotConfig, bot: Bot): Promise<Feed> {
  return startFeed({
    nc,
    common: c,
    startSeq: (await streamLastSeq(nc)) + 1,
    log: silentLogger,
    onEvent: async (event, seq) => bot.deliver(event, { seq, formatted: formatEvent(c.format, event) }),
    onConsumed: () => {},
  });
}
