/**
 * The irc bot's test bench: a real nats-server with the BUSTLE stream, a real InspIRCd, an `ii`
 * observer, and bots built the way the host builds them (createBotContext on a live connection).
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { join } from "node:path";
import { connectBus, closeBus, type NatsConnection } from "../../../cluster/connection.js";
import { parseConfig } from "../../../cluster/config/load.js";
import { makeEvent, type BustleEvent } from "../../../cluster/envelope.js";
import { silentLogger, createLogger } from "../../../cluster/logger.js";
import type { NatsServer } from "../../../cluster/nats-server.js";
import { ensureStream } from "../../../cluster/stream.js";
import { startServer } from "../../../cluster/servers.js";
import { tempDir, type TempDir } from "../../../cluster/temp.js";
import type { BotState, CommonBotConfig } from "../../../bots/bot.js";
import { createBotContext } from "../../../bots/context.js";
import { ircConfigSchema, type IrcConfig } from "../../../bots/irc/config.js";
import { IrcBot, type IrcBotTuning } from "../../../bots/irc/irc-bot.js";
import { TestIrcd } from "../../fixtures/inspircd.js";
import { Observer } from "../../fixtures/ii-observer.js";

export const NODE = "town";
const log = process.env.BUSTLE_TEST_LOG ? createLogger({ level: "debug" }) : silentLogger;

export interface Bench {
  dir: TempDir;
  nats: NatsServer;
  nc: NatsConnection;
  ircd: TestIrcd;
  observers: Observer[];
  bots: IrcBot[];
}

export async function startBench(opts: { tls?: { cert: string; key: string } } = {}): Promise<Bench> {
  const dir = tempDir("bustle-irc-");
  const bench: Bench = { dir, observers: [], bots: [] } as unknown as Bench;
  bench.nats = await startServer(dir.path);
  bench.nc = await connectBus({ servers: [bench.nats.url], name: "irc-test", logger: silentLogger });
  await ensureStream(bench.nc, {}, silentLogger);
  bench.ircd = await (
    await TestIrcd.prepare({ dir: join(dir.path, "ircd"), ...(opts.tls ? { tls: opts.tls } : {}) })
  ).start();
  return bench;
}

export async function stopBench(b: Bench | undefined): Promise<void> {
  if (!b) return;
  for (const bot of b.bots) await bot.stop().catch(() => {});
  for (const o of b.observers) await o.stop().catch(() => {});
  await b.ircd?.stop();
  await closeBus(b.nc);
  await b.nats?.stop();
  b.dir.remove();
}

/** An `ii` observer in `channel` (joined before any bot, so it is the channel operator). */
export async function observe(b: Bench, channel: string, nick = "observer"): Promise<Observer> {
  const o = await Observer.connect(join(b.dir.path, `ii-${nick}-${b.observers.length}`), b.ircd.port, nick);
  b.observers.push(o);
  await o.join(channel);
  return o;
}

/** The irc section through the real schema (defaults filled, as control.yaml would give it). */
export function ircConfig(section: Record<string, unknown>): IrcConfig {
  return parseConfig(JSON.stringify(section), "test.yaml", ircConfigSchema);
}

export interface TestBot {
  bot: IrcBot;
  states: Array<{ state: BotState; detail?: string | undefined }>;
  common: CommonBotConfig;
  deliver(e: BustleEvent, formatted?: string): void;
}

/** Builds and starts an irc bot on the bench's NATS connection and IRC server. */
export async function startBot(
  b: Bench,
  id: string,
  section: Record<string, unknown>,
  opts: { format?: string; kinds?: string[]; tuning?: IrcBotTuning } = {},
): Promise<TestBot> {
  const common: CommonBotConfig = {
    id,
    type: "irc",
    enabled: true,
    subscribe: ["bustle.ev.>"],
    kinds: opts.kinds,
    format: opts.format ?? "{text}",
  };
  const config = ircConfig({ host: "127.0.0.1", port: b.ircd.port, tls: false, ...section });
  const states: TestBot["states"] = [];
  const ctx = createBotContext({
    node: NODE,
    common,
    config,
    bus: b.nc,
    log: log.child(id),
    stateDir: join(b.dir.path, id),
    report: (state, detail) => states.push({ state, detail }),
  });
  const bot = new IrcBot(ctx, opts.tuning ?? { backoff: { minMs: 300, maxMs: 2_000, stableMs: 60_000 } });
  b.bots.push(bot);
  await bot.start();
  let seq = 0;
  return {
    bot,
    states,
    common,
    deliver: (e, formatted) => void bot.deliver(e, { seq: ++seq, formatted: formatted ?? ctx.format(e) }),
  };
}

export const event = (text: string, kind = "update", actor: string | null = "alice"): BustleEvent =>
  makeEvent({ node: NODE, source: "spool", kind, actor, text });

/** Every event in the stream published by `source` (a bot id), in order. */
export async function streamEvents(nc: NatsConnection, source: string): Promise<BustleEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info("BUSTLE");
  const out: BustleEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage("BUSTLE", { seq }).catch(() => undefined);
    if (!m) continue;
    const e = m.json<BustleEvent>();
    if (e.source === source) out.push(e);
  }
  return out;
}

/** What an IRC user sees without the zero-width spaces the bot adds. */
export const visible = (s: string): string => s.replace(/\u200b/g, "");
