/**
 * The last few events this bot would have relayed, read back from the BUSTLE stream, so that
 * `!bustle` has an answer right after a (re)start. Reads at most `scan` messages backwards;
 * anything going wrong yields fewer texts, never an error.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { decodeEventOn } from "../../cluster/envelope.js";
import { describeError } from "../../cluster/logger.js";
import { STREAM_NAME } from "../../cluster/names.js";
import type { BotContext } from "../bot.js";
import { botWants } from "../context.js";

/** Formatted texts of up to `n` recent wanted events, oldest first. */
export async function recentFromStream(ctx: BotContext<unknown>, n: number, scan = 200): Promise<string[]> {
  const out: string[] = [];
  try {
    const jsm = await jetstreamManager(ctx.bus, { timeout: 5_000 });
    const { state } = await jsm.streams.info(STREAM_NAME);
    for (let seq = state.last_seq; seq >= state.first_seq && seq > state.last_seq - scan && out.length < n; seq--) {
      const m = await jsm.streams.getMessage(STREAM_NAME, { seq }).catch(() => undefined);
      if (!m) continue;
      let e;
      try {
        e = decodeEventOn(m.subject, m.data);
      } catch {
        continue;
      }
      if (botWants(ctx.common, e)) out.unshift(ctx.format(e));
    }
  } catch (err) {
    ctx.log.debug("no history for !bustle", { error: describeError(err) });
  }
  return out;
}
