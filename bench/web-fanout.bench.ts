/**
 * The live page's fan-out: 1,000 concurrent Server-Sent Events clients on one `web` portal,
 * beside the raw bus (a plain core NATS subscriber) in the same run. For each event: publish
 * time → arrival at the NATS subscriber, and → arrival at each SSE client (publish → JetStream →
 * the portal's feed → 1,000 sockets). The portal runs in its own process so its memory (read
 * from its own /metrics) is only its own.
 * Usage: npm run bench web-fanout   or   node build/<dir>/bench/web-fanout.bench.js
 *   FANOUT_CLIENTS (1000), FANOUT_EVENTS (50), FANOUT_RATE (20 per second)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../cluster/config/load.js";
import { closeBus, connectBus } from "../cluster/connection.js";
import { jetstream } from "@nats-io/jetstream";
import { decodeEvent, encodeEvent, makeEvent, subjectOf } from "../cluster/envelope.js";
import { silentLogger } from "../cluster/logger.js";
import { ALL_EVENTS } from "../cluster/names.js";
import { freePort } from "../cluster/net.js";
import { ensureStream } from "../cluster/stream.js";
import { startServer } from "../cluster/servers.js";
import { tempDir } from "../cluster/temp.js";
import { waitFor } from "../cluster/wait-for.js";
import { webSectionSchema, type WebConfig } from "../bots/web/config.js";
import { WebBot } from "../bots/web/web-bot.js";
import { createBotContext } from "../bots/context.js";
import { feedBot } from "./lib/feed-bot.js";
import { openSse, type SseClient } from "./lib/sse-client.js";
import { fmt, summarize, table } from "./lib/stats.js";

const CLIENTS = Number(process.env.FANOUT_CLIENTS ?? 1000);
const EVENTS = Number(process.env.FANOUT_EVENTS ?? 50);
const RATE = Number(process.env.FANOUT_RATE ?? 20);
const DEADLINE_MS = 150_000;

/** The portal process: a web bot on the given bus and port, fed like the host feeds it. */
async function portal(natsUrl: string, port: number, stateDir: string): Promise<void> {
  const nc = await connectBus({ servers: [natsUrl], name: "bench portal", logger: silentLogger });
  const c = { id: "web-bench", type: "web", enabled: true, subscribe: ["bustle.ev.>"], format: "{text}" };
  const config = parseConfig(
    `{listen: "127.0.0.1:${port}", max_clients: ${CLIENTS + 100}, history: 500}`,
    "bench.yaml",
    webSectionSchema,
  ) as WebConfig;
  const bot = new WebBot(createBotContext({ node: "bench", common: c, config, bus: nc, log: silentLogger, stateDir }));
  await bot.start();
  // The bot host's feed loop, from the stream's end, handing the bot every event as the host does.
  const f = await feedBot(nc, c, bot);
  process.stdout.write("ready\n");
  const quit = async () => {
    await f.stop();
    await bot.stop();
    await closeBus(nc);
    process.exit(0);
  };
  process.on("SIGTERM", () => void quit());
  process.stdin.on("end", () => void quit()).resume();
}

async function memory(
  port: number,
): Promise<{ rss: number; heap: number; fanoutSum: number; fanouts: number; fanoutMax: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} ([\\d.e+-]+)`, "m").exec(text)?.[1] ?? NaN);
  return {
    rss: read("bustle_web_process_resident_memory_bytes"),
    heap: read("bustle_web_process_heap_used_bytes"),
    fanoutSum: read("bustle_web_broadcast_seconds_sum"),
    fanouts: read("bustle_web_broadcast_seconds_count"),
    fanoutMax: read("bustle_web_broadcast_seconds_max"),
  };
}

async function main(): Promise<void> {
  const dir = tempDir("bustle-bench-");
  const server = await startServer(dir.path);
  const nc = await connectBus({ servers: [server.url], name: "bench", logger: silentLogger });
  let child: ChildProcess | undefined;
  const clients: SseClient[] = [];
  const timer = setTimeout(() => {
    console.error(`web-fanout: did not finish within ${DEADLINE_MS / 1000}s`);
    child?.kill("SIGKILL");
    void server.stop().finally(() => process.exit(1));
  }, DEADLINE_MS);
  try {
    await ensureStream(nc, {}, silentLogger);
    const port = await freePort();
    child = spawn(process.execPath, [fileURLToPath(import.meta.url), "portal", server.url, String(port), dir.path], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).on("line", (l) => l === "ready" && resolve());
      child!.once("exit", (code) => reject(new Error(`portal exited with ${code}`)));
    });
    const idle = await memory(port);

    const sentAt = new Map<string, number>();
    const raw: number[] = [];
    const web: number[] = [];
    /** Per event: its first and last arrival among the clients (the portal's own path, and the whole spread). */
    const firstLast = new Map<string, { first: number; last: number }>();
    const sub = nc.subscribe(ALL_EVENTS, {
      callback: (_err, m) => {
        const t = performance.now();
        const id = decodeEvent(m.data).id;
        const t0 = sentAt.get(id);
        if (t0 !== undefined) raw.push(t - t0);
      },
    });
    const t0Open = performance.now();
    for (let i = 0; i < CLIENTS; i++) {
      const c = openSse(`http://127.0.0.1:${port}/events`);
      c.onMessage = (m) => {
        const t = performance.now();
        // A regex, not JSON.parse: the 1,000 clients share this process with the raw subscriber.
        const id = /"id":"([^"]+)"/.exec(m.data)?.[1] ?? "";
        const t0 = sentAt.get(id);
        if (t0 === undefined) return;
        web.push(t - t0);
        const fl = firstLast.get(id);
        if (!fl) firstLast.set(id, { first: t - t0, last: t - t0 });
        else fl.last = t - t0;
      };
      clients.push(c);
    }
    const statuses = await Promise.all(clients.map((c) => c.opened));
    const openMs = performance.now() - t0Open;
    if (statuses.some((s) => s !== 200))
      throw new Error(`some clients were refused: ${statuses.filter((s) => s !== 200).length}`);
    await waitFor(
      async () =>
        ((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { clients: number }).clients === CLIENTS,
      20_000,
      "every client registered",
    );
    const connected = await memory(port);

    const t0Run = performance.now();
    const js = jetstream(nc);
    // Warm-up (not measured): the first publishes pay for JetStream's and the sockets' first use.
    for (let i = 0; i < 3; i++) {
      const e = makeEvent({ node: "town", source: "spool", kind: "update", actor: "alice", text: `warm-up ${i}` });
      await js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id });
    }
    await waitFor(() => clients.every((c) => c.messages.length >= 3), 20_000, "the warm-up events at every client");
    for (let i = 0; i < EVENTS; i++) {
      const event = makeEvent({ node: "town", source: "spool", kind: "update", actor: "alice", text: `fan-out ${i}` });
      const at = performance.now();
      sentAt.set(event.id, at);
      await js.publish(subjectOf(event), encodeEvent(event), { msgID: event.id });
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / RATE - (performance.now() - at))));
    }
    await waitFor(() => web.length >= CLIENTS * EVENTS && raw.length >= EVENTS, 30_000, "every delivery").catch(
      () => undefined,
    );
    const runMs = performance.now() - t0Run;
    const busy = await memory(port);
    await sub.drain();

    const r = summarize(raw);
    const w = summarize(web);
    const first = summarize([...firstLast.values()].map((x) => x.first));
    const lastOf = summarize([...firstLast.values()].map((x) => x.last));
    console.log(
      `${CLIENTS} SSE clients (opened in ${fmt(openMs, 0)} ms), ${EVENTS} events at ${RATE}/s, ${runMs.toFixed(0)} ms`,
    );
    table(
      ["path", "deliveries", "p50 ms", "p99 ms", "max ms"],
      [
        ["raw bus: core NATS subscriber", `${r.n}/${EVENTS}`, fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.max, 2)],
        [
          `live page: SSE × ${CLIENTS}, every delivery`,
          `${w.n}/${CLIENTS * EVENTS}`,
          fmt(w.p50, 2),
          fmt(w.p99, 2),
          fmt(w.max, 2),
        ],
        [
          "live page: first client per event",
          `${first.n}/${EVENTS}`,
          fmt(first.p50, 2),
          fmt(first.p99, 2),
          fmt(first.max, 2),
        ],
        [
          `live page: last of ${CLIENTS} per event`,
          `${lastOf.n}/${EVENTS}`,
          fmt(lastOf.p50, 2),
          fmt(lastOf.p99, 2),
          fmt(lastOf.max, 2),
        ],
      ],
    );
    const mb = (b: number) => fmt(b / 1_048_576, 1);
    table(
      ["portal memory", "RSS MB", "heap MB"],
      [
        ["idle (no clients)", mb(idle.rss), mb(idle.heap)],
        [`${CLIENTS} clients connected`, mb(connected.rss), mb(connected.heap)],
        ["after the run", mb(busy.rss), mb(busy.heap)],
      ],
    );
    console.log(`≈ ${fmt((connected.rss - idle.rss) / CLIENTS / 1024, 1)} KiB RSS per connected client`);
    const fanouts = busy.fanouts - connected.fanouts;
    console.log(
      `portal's own fan-out (writing one event to all ${CLIENTS} sockets): mean ${fmt(((busy.fanoutSum - connected.fanoutSum) / fanouts) * 1000, 2)} ms, max ${fmt(busy.fanoutMax * 1000, 2)} ms over ${fanouts} events`,
    );
  } finally {
    clearTimeout(timer);
    for (const c of clients) c.close();
    child?.stdin?.end();
    if (child && child.exitCode === null) await new Promise((r) => child!.once("exit", r));
    await closeBus(nc).catch(() => {});
    await server.stop();
    dir.remove();
  }
}

if (process.argv[2] === "portal") {
  await portal(process.argv[3]!, Number(process.argv[4]), process.argv[5]!);
} else {
  await main();
}
