/**
 * What the quakeworld tests share: a real nats-server with the BUSTLE stream, the bot built on
 * a real connection with createBotContext, the bot host's own feed loop (every event the bot
 * wants, formatted with its template), a logger that keeps its lines, and a scripted QuakeWorld
 * player (the bot's own client in player mode) that records what it hears.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "../../../cluster/connection.js";
import { decodeEvent, type BustleEvent } from "../../../cluster/envelope.js";
import { createLogger, silentLogger, type Logger } from "../../../cluster/logger.js";
import { STREAM_NAME } from "../../../cluster/names.js";
import type { Bot, BotState, CommonBotConfig } from "../../../bots/bot.js";
import { createBotContext } from "../../../bots/context.js";
import { startFeed, streamLastSeq } from "../../../control/host/feed.js";
import { quakeToText } from "../../../bots/quakeworld/charset.js";
import { QwClient } from "../../../bots/quakeworld/client.js";
import { quakeworldSchema, type QuakeworldConfig } from "../../../bots/quakeworld/config.js";
import { quakeworldBot } from "../../../bots/quakeworld/quakeworld-bot.js";
import { INVALID } from "../../../cluster/config/schema.js";

import type { Bus } from "../../support/bus.js";
export { startBus, type Bus } from "../../support/bus.js";

/** A logger whose lines (parsed) are kept in `lines`. */
export function memoryLog(): { log: Logger; lines: Array<{ level: string; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  return { lines, log: createLogger({ level: "debug", write: (l) => void lines.push(JSON.parse(l)) }) };
}

/** Validates a `quakeworld:` section as control.yaml would; throws with the problems. */
export function qwConfig(section: unknown): QuakeworldConfig {
  const problems: string[] = [];
  const r = quakeworldSchema.check(section, ["quakeworld"], {
    report: (p, m) => void problems.push(`${p.join(".")}: ${m}`),
  });
  if (r === INVALID) throw new Error(problems.join("; "));
  return Object.freeze(r);
}

export interface RunningBot {
  bot: Bot;
  common: CommonBotConfig;
  states: Array<{ state: BotState; detail?: string | undefined }>;
  stop(): Promise<void>;
}

/** Builds the bot as the host does, starts it and feeds it every later event from the stream. */
export async function runBot(
  bus: Bus,
  id: string,
  section: unknown,
  log: Logger,
  stateDir: string,
  extra: Partial<CommonBotConfig> = {},
): Promise<RunningBot> {
  const common: CommonBotConfig = {
    id,
    type: "quakeworld",
    enabled: true,
    subscribe: ["bustle.ev.>"],
    format: "{text}",
    ...extra,
  };
  const states: RunningBot["states"] = [];
  const ctx = createBotContext({
    node: "town",
    common,
    config: qwConfig(section),
    bus: bus.nc,
    log,
    stateDir,
    report: (state, detail) => void states.push({ state, detail }),
  });
  const bot = quakeworldBot.create(ctx);
  await bot.start();
  const feed = await startFeed({
    nc: bus.nc,
    common,
    startSeq: (await streamLastSeq(bus.nc)) + 1,
    log,
    onEvent: async (event, seq) => bot.deliver(event, { seq, formatted: ctx.format(event) }),
    onConsumed: () => {},
  });
  return {
    bot,
    common,
    states,
    stop: async () => {
      await feed.stop();
      await bot.stop();
    },
  };
}

/** Every event in the stream, oldest first. */
export async function streamEvents(nc: NatsConnection): Promise<BustleEvent[]> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
  if (last === 0) return [];
  const c = await jetstream(nc).consumers.get(STREAM_NAME, { deliver_policy: DeliverPolicy.All });
  const out: BustleEvent[] = [];
  for await (const m of await c.fetch({ max_messages: last, expires: 3_000 })) {
    out.push(decodeEvent(m.data));
    if (m.seq >= last) break;
  }
  await c.delete().catch(() => {});
  return out;
}

/** Game events published by bot `id`. */
export const gameEvents = async (nc: NatsConnection, id: string): Promise<BustleEvent[]> =>
  (await streamEvents(nc)).filter((e) => e.source === id && e.kind === "game");

/** A scripted player (or spectator) that keeps every chat line it hears, as readable text. */
export class TestPlayer {
  readonly heard: string[] = [];
  readonly client: QwClient;

  constructor(port: number, name: string, opts: { spectator?: boolean; log?: Logger } = {}) {
    this.client = new QwClient({
      host: "127.0.0.1",
      port,
      name,
      spectator: opts.spectator ?? false,
      log: opts.log ?? silentLogger,
      backoff: { initialMs: 300, maxMs: 2_000 },
      silenceMs: 4_000,
      onPrint: (level, text) => {
        if (level === 3) this.heard.push(quakeToText(text));
      },
    });
  }

  start(): this {
    this.client.start();
    return this;
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}
