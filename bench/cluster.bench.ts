/**
 * A 3-node federation (3 nats-servers, 3 relays, BUSTLE at R3) against raw nats.js JetStream R3
 * on the same cluster, in the same run:
 *  - events/s into all three logs: N spool lines appended at once (a third on each node) → all N
 *    in every node's bustle.log, versus N async publishes (window 256, a third through each
 *    server) → three ordered consumers, one per server, each appending lines to its own file;
 *  - origin → all-logs latency at a steady total rate: spool append on one node → the line is in
 *    the last of the three logs, versus publish → the last of the three consumers wrote it.
 * Usage: npm run bench cluster   (BENCH_EVENTS, BENCH_RATE, BENCH_SECONDS change the load)
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { tempDir } from "../cluster/temp.js";
import { sleep, waitFor } from "../cluster/wait-for.js";
import { LocalFederation, waitRelaysConnected } from "../federation/local.js";
import { UNTHROTTLED_NODE_YAML } from "../relay/local-node.js";
import { nowMs, watchLines, type LineWatch } from "./lib/log-watch.js";
import { consumeToFile, publishWindowed, type FileConsumer } from "./lib/raw-jetstream.js";
import { fmt, summarize, table, type LatencySummary } from "./lib/stats.js";

const N = Number(process.env.BENCH_EVENTS ?? 9_000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PAYLOAD = "x".repeat(160);
const BENCH_USER = {
  user: "bench",
  password: "bench-only-loopback",
  permissions: { publish: [">"], subscribe: [">"] },
};

interface Result {
  throughput: number;
  latency: LatencySummary;
  /** bustle only: spool append → the event is published (seen by a plain subscriber). */
  toStream?: LatencySummary;
}

/** Arrival times of keyed lines in several sinks; latency = last arrival − origin. */
class Arrivals {
  private readonly seen = new Map<string, { origin: number; count: number; last: number }>();
  constructor(private readonly sinks: number) {}
  origin(key: string, at: number): void {
    const e = this.seen.get(key);
    if (e) e.origin = at;
    else this.seen.set(key, { origin: at, count: 0, last: 0 });
  }
  arrive(key: string, at: number): void {
    const e = this.seen.get(key) ?? { origin: NaN, count: 0, last: 0 };
    e.count++;
    e.last = Math.max(e.last, at);
    this.seen.set(key, e);
  }
  complete(): number {
    let n = 0;
    for (const e of this.seen.values()) if (e.count >= this.sinks) n++;
    return n;
  }
  latencies(): number[] {
    return [...this.seen.values()]
      .filter((e) => e.count >= this.sinks && Number.isFinite(e.origin))
      .map((e) => e.last - e.origin);
  }
}

async function rawBaseline(fed: LocalFederation, dir: string): Promise<Result> {
  const conns: NatsConnection[] = await Promise.all(
    fed.servers.map((s) =>
      connect({ servers: s.url, user: BENCH_USER.user, pass: BENCH_USER.password, noAsyncTraces: true }),
    ),
  );
  const jsm = await jetstreamManager(conns[0]!);
  await jsm.streams.add({ name: "RAW", subjects: ["raw.>"], storage: StorageType.File, num_replicas: 3 });
  let arrivals = new Arrivals(3);
  const consumers: FileConsumer[] = [];
  for (const [i, nc] of conns.entries()) {
    consumers.push(
      await consumeToFile(nc, "RAW", join(dir, `raw-${i}.log`), (m) =>
        arrivals.arrive(m.headers?.get("k") ?? "", nowMs()),
      ),
    );
  }
  const publish = (c: number, key: string) => {
    const h = headers();
    h.set("k", key);
    return jetstream(conns[c]!).publish(`raw.n${c}`, `${key} ${PAYLOAD}`, { headers: h, msgID: key });
  };
  // Throughput: a third of N through each server, 256 unacked at most per publisher.
  const t0 = nowMs();
  await Promise.all(conns.map((_, c) => publishWindowed(Math.floor(N / 3), 256, (i) => publish(c, `b${c}-${i}`))));
  const total = Math.floor(N / 3) * 3;
  await waitFor(() => consumers.every((c) => c.count >= total), 120_000, "raw consumers to receive every message", 5);
  const throughput = total / ((nowMs() - t0) / 1000);
  // Latency at RATE/s in total, origins rotating over the three servers.
  arrivals = new Arrivals(3);
  const steady = RATE * SECONDS;
  const start = nowMs();
  for (let i = 0; i < steady; i++) {
    const wait = start + (i * 1000) / RATE - nowMs();
    if (wait > 0) await sleep(wait);
    const key = `s${i}`;
    arrivals.origin(key, nowMs());
    void publish(i % 3, key).catch(() => {});
  }
  await waitFor(() => arrivals.complete() >= steady, 30_000, "raw steady-rate messages", 5).catch(() => {});
  await Promise.all(consumers.map((c) => c.stop()));
  await Promise.all(conns.map((c) => c.close()));
  return { throughput, latency: summarize(arrivals.latencies()) };
}

async function bustleFederation(fed: LocalFederation): Promise<Result> {
  const spools = fed.nodes.map((n) => {
    mkdirSync(join(n.homes, "alice"), { recursive: true });
    const p = join(n.homes, "alice", ".bustle.spool");
    appendFileSync(p, ""); // appears after the relay started: read from its beginning
    return p;
  });
  await sleep(1_500);
  let arrivals = new Arrivals(3);
  let published = new Arrivals(1);
  const tap = await connect({ servers: fed.servers[0]!.url, user: BENCH_USER.user, pass: BENCH_USER.password });
  tap.subscribe("bustle.ev.>", {
    callback: (_, m) => {
      const k = / ((?:b|s)\d+-\d+) /.exec(m.string());
      if (k) published.arrive(k[1]!, nowMs());
    },
  });
  const watches: LineWatch[] = fed.nodes.map((n) =>
    watchLines(n.log, (line, at) => {
      const m = / ((?:b|s)\d+-\d+) /.exec(line);
      if (m) arrivals.arrive(m[1]!, at);
    }),
  );
  try {
    const per = Math.floor(N / 3);
    const t0 = nowMs();
    spools.forEach((p, c) =>
      appendFileSync(p, Array.from({ length: per }, (_, i) => `bulk b${c}-${i} ${PAYLOAD}\n`).join("")),
    );
    await waitFor(() => watches.every((w) => w.count >= per * 3), 180_000, `${per * 3} lines in every bustle.log`, 5);
    const throughput = (per * 3) / ((nowMs() - t0) / 1000);
    arrivals = new Arrivals(3);
    published = new Arrivals(1);
    const steady = RATE * SECONDS;
    const start = nowMs();
    for (let i = 0; i < steady; i++) {
      const wait = start + (i * 1000) / RATE - nowMs();
      if (wait > 0) await sleep(wait);
      const key = `s${i % 3}-${i}`;
      const at = nowMs();
      arrivals.origin(key, at);
      published.origin(key, at);
      appendFileSync(spools[i % 3]!, `steady ${key} ${PAYLOAD}\n`);
    }
    await waitFor(() => arrivals.complete() >= steady, 60_000, "steady-rate lines in every log", 5).catch(() => {});
    return { throughput, latency: summarize(arrivals.latencies()), toStream: summarize(published.latencies()) };
  } finally {
    watches.forEach((w) => w.stop());
    await tap.close();
  }
}

const dir = tempDir("bustle-bench-cluster-");
const fed = await LocalFederation.create({
  dir: dir.path,
  nodes: 3,
  nodeYamlExtra: UNTHROTTLED_NODE_YAML,
  extraUsers: [BENCH_USER],
});
try {
  await fed.startServers();
  fed.startRelays();
  await waitRelaysConnected(fed, 60_000);
  console.log(`3 nodes, 3 nats-servers (R3), ${N} events for throughput, ${RATE}/s for ${SECONDS}s for latency`);
  const raw = await rawBaseline(fed, dir.path);
  const bustle = await bustleFederation(fed);
  table(
    ["path (3 nodes, R3)", "events/s into all 3", `p50 ms @${RATE}/s`, `p99 ms @${RATE}/s`, "samples"],
    [
      [
        "raw nats.js publish → 3 consumers → files",
        fmt(raw.throughput, 0),
        fmt(raw.latency.p50, 2),
        fmt(raw.latency.p99, 2),
        raw.latency.n,
      ],
      [
        "bustle spool → stream → 3 bustle.logs",
        fmt(bustle.throughput, 0),
        fmt(bustle.latency.p50, 2),
        fmt(bustle.latency.p99, 2),
        bustle.latency.n,
      ],
    ],
  );
  if (bustle.toStream)
    console.log(
      `bustle: spool append → published p50 ${fmt(bustle.toStream.p50, 2)} ms, p99 ${fmt(bustle.toStream.p99, 2)} ms (the rest is stream → the last log)`,
    );
  const ratio = bustle.throughput / raw.throughput;
  const aim = 2 * raw.latency.p99 + 2;
  console.log(
    `ratio (bustle / raw throughput): ${fmt(ratio, 2)}  (aim ≥ 0.8: ${ratio >= 0.8 ? "met" : "not met"}); p99 ${fmt(bustle.latency.p99, 2)} ms (aim ≤ 2× raw p99 + 2 ms = ${fmt(aim, 2)}: ${bustle.latency.p99 <= aim ? "met" : "not met"})`,
  );
} finally {
  await fed.stop();
  dir.remove();
}
