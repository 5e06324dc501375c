/**
 * One relay node against a raw nats.js JetStream baseline on the same nats-server, same run:
 *  - sustained events/s: N spool lines appended at once → all N in bustle.log, versus
 *    N async publishes (window 256) → an ordered consumer appending each to a file;
 *  - latency at a steady rate: spool append → log line, versus publish → line written.
 * Usage: npm run bench node   (BENCH_EVENTS, BENCH_RATE, BENCH_SECONDS to change the load)
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import { RelayProcess, writeRelayConfig } from "../cluster/testing/relay-process.js";
import { startServer } from "../cluster/testing/servers.js";
import { tempDir } from "../cluster/testing/temp.js";
import { sleep, waitFor } from "../cluster/testing/wait-for.js";
import { fmt, summarize, table, type LatencySummary } from "./lib/stats.js";
import { nowMs, watchLines } from "./lib/log-watch.js";
import { consumeToFile, publishWindowed } from "./lib/raw-jetstream.js";

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PAYLOAD = "x".repeat(160);

async function rawBaseline(url: string, dir: string): Promise<{ throughput: number; latency: LatencySummary }> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "RAW", subjects: ["raw.>"], storage: StorageType.File });
  const js = jetstream(nc);
  const sent = new Map<number, number>();
  const latencies: number[] = [];
  const consumer = await consumeToFile(nc, "RAW", join(dir, "raw.log"), (m) => {
    const t = sent.get(Number(m.headers?.get("n") ?? -1));
    if (t !== undefined) latencies.push(nowMs() - t);
  });
  const publish = (n: number) => {
    const h = headers();
    h.set("n", String(n));
    return js.publish("raw.x", `${n} ${PAYLOAD}`, { headers: h, msgID: `m${n}` });
  };
  const t0 = nowMs();
  await publishWindowed(N, 256, publish);
  await waitFor(() => consumer.count >= N, 120_000, `${N} raw messages consumed`, 5);
  const throughput = N / ((nowMs() - t0) / 1000);
  // Steady rate: one publish every 1/RATE s; latency = publish → the consumer has it.
  for (let i = 0; i < RATE * SECONDS; i++) {
    sent.set(N + i, nowMs());
    void publish(N + i).catch(() => {});
    await sleep(1000 / RATE);
  }
  await waitFor(() => consumer.count >= N + RATE * SECONDS, 10_000, "steady-rate raw messages", 5).catch(() => {});
  await consumer.stop();
  await nc.close();
  return { throughput, latency: summarize(latencies) };
}

async function bustleNode(url: string, dir: string): Promise<{ throughput: number; latency: LatencySummary }> {
  const files = writeRelayConfig(join(dir, "node"), "town", { servers: [url] });
  mkdirSync(join(files.homes, "alice"), { recursive: true });
  const spool = join(files.homes, "alice", ".bustle.spool");
  const relay = await new RelayProcess(files).start();
  const latencies: number[] = [];
  const watch = watchLines(files.log, (line, at) => {
    const m = / t=(\d+\.\d+) /.exec(line);
    if (m) latencies.push(at - Number(m[1]));
  });
  try {
    appendFileSync(spool, ""); // the spool exists before the load starts: read from its beginning
    await sleep(500);
    const t0 = nowMs();
    appendFileSync(spool, Array.from({ length: N }, (_, i) => `bulk ${i} ${PAYLOAD}\n`).join(""));
    await waitFor(() => watch.count >= N, 120_000, `${N} lines in bustle.log`, 5);
    const throughput = N / ((nowMs() - t0) / 1000);
    for (let i = 0; i < RATE * SECONDS; i++) {
      appendFileSync(spool, `steady t=${nowMs().toFixed(3)} ${i}\n`);
      await sleep(1000 / RATE);
    }
    await waitFor(() => watch.count >= N + RATE * SECONDS, 30_000, "steady-rate lines", 5);
    return { throughput, latency: summarize(latencies) };
  } finally {
    watch.stop();
    await relay.stop();
  }
}

const dir = tempDir("bustle-bench-node-");
const server = await startServer(dir.path);
try {
  console.log(`one node, one nats-server (R1), ${N} events for throughput, ${RATE}/s for ${SECONDS}s for latency`);
  const raw = await rawBaseline(server.url, dir.path);
  const node = await bustleNode(server.url, dir.path);
  table(["path", "events/s", `p50 ms @${RATE}/s`, `p99 ms @${RATE}/s`, "samples"], [
    ["raw nats.js publish → consume → file", fmt(raw.throughput, 0), fmt(raw.latency.p50, 2), fmt(raw.latency.p99, 2), raw.latency.n],
    ["bustle spool → outbox → stream → bustle.log", fmt(node.throughput, 0), fmt(node.latency.p50, 2), fmt(node.latency.p99, 2), node.latency.n],
  ]);
  console.log(`ratio (bustle / raw throughput): ${fmt(node.throughput / raw.throughput, 2)}  (aim ≥ 0.5; p99 aim < 50 ms)`);
} finally {
  await server.stop();
  dir.remove();
}
