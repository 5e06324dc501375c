/**
 * A 3-node federation (3 nats-servers, 3 relays, BUSTLE at R3) against raw nats.js JetStream R3
 * on the same cluster, in the same run:
 *  - events/s into all three logs: N spool lines appended at once (a third on each node) → all N
 *    in every node's bustle.log, versus N async publishes (window 256, a third through each
 *    server) → three ordered consumers, one per server, each appending lines to its own file;
 *  - origin → all-logs latency at a steady total rate: spool append on one node → the line is in
 *    the last of the three logs, versus publish → the last of the three consumers wrote it.
 * Throughput is measured BENCH_ROUNDS times (3) per path, the two paths alternating (which goes
 * first alternates too), so each bustle round has a raw round next to it on the same machine:
 * the ratio is the median of the rounds' ratios.
 * Usage: npm run bench cluster   (BENCH_EVENTS, BENCH_RATE, BENCH_SECONDS, BENCH_ROUNDS change the load)
 * Both paths are timed the same way: a line counts as arrived when the bench's file follower
 * (inotify + a 2 ms poll, bench/lib/log-watch.ts) sees it in the file — bustle.log for bustle,
 * each raw consumer's own file for raw. (The raw consumer's callback time, before its write, is
 * printed beside it: what the comparison used before the file follower timed both.)
 * `BENCH_SPLIT=1` also splits the published → all-logs time at the steady rate: a plain ordered
 * consumer on each server (what any consumer there could have had; adds load, so off by
 * default), then the line in that node's bustle.log, then the log position recording it.
 * `BENCH_RELAY_NODE_ARGS` passes node flags to the three bustleds (e.g. "--cpu-prof
 * --cpu-prof-dir=DIR", which NODE_OPTIONS refuses). The CPU of every process (the three
 * bustleds, the three nats-servers, this bench) is printed per phase, with CPU per event.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DeliverPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { tempDir } from "../cluster/temp.js";
import { sleep, waitFor } from "../cluster/wait-for.js";
import { LocalFederation, waitRelaysConnected } from "../federation/local.js";
import { UNTHROTTLED_NODE_YAML } from "../relay/local-node.js";
import { logPositionPath } from "../relay/log-position.js";
import { nowMs, watchLines, type LineWatch } from "./lib/log-watch.js";
import { cpuMs } from "./lib/proc-cpu.js";
import { consumeToFile, publishWindowed, type FileConsumer } from "./lib/raw-jetstream.js";
import { fmt, summarize, table, type LatencySummary } from "./lib/stats.js";

const N = Number(process.env.BENCH_EVENTS ?? 9_000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SPLIT = process.env.BENCH_SPLIT === "1";
/** An event's key in a line: b<round>-<node>-<i> in the bulk rounds, s<node>-<i> at the steady rate. */
const KEY_RE = / ((?:b|s)\d+(?:-\d+)+) /;
const RELAY_NODE_ARGS = (process.env.BENCH_RELAY_NODE_ARGS ?? "").split(" ").filter(Boolean);
const PAYLOAD = "x".repeat(160);
const BENCH_USER = {
  user: "bench",
  password: "bench-only-loopback",
  permissions: { publish: [">"], subscribe: [">"] },
};

interface Result {
  /** Events/s into all three, the median of the rounds. */
  throughput: number;
  rounds: number[];
  latency: LatencySummary;
  /** CPU of every process in the bulk and the steady phase. */
  cpu: { bulk: PhaseCpu; steady: PhaseCpu };
  /** raw only: the same latency timed at the consumer's callback (before its write). */
  atCallback?: LatencySummary;
  /** bustle only: spool append → the event is published (seen by a plain subscriber). */
  toStream?: LatencySummary;
  /** bustle only: published → in every log. */
  fromStream?: LatencySummary;
  /** bustle with BENCH_SPLIT: published → in every stream consumer → in every log → in every log position. */
  split?: { consumers: LatencySummary; logs: LatencySummary; positions: LatencySummary };
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
  /** When every sink had `key` (undefined until then). */
  doneAt(key: string): number | undefined {
    const e = this.seen.get(key);
    return e && e.count >= this.sinks ? e.last : undefined;
  }
  keys(): IterableIterator<string> {
    return this.seen.keys();
  }
}

/** CPU milliseconds (user + system) of the processes sharing the machine in one phase. */
interface PhaseCpu {
  events: number;
  seconds: number;
  relays: number[];
  servers: number[];
  bench: number;
}

/** Reads every process's CPU at the start of a phase; `end` gives what each spent since. */
function cpuPhase(fed: LocalFederation): { end(events: number): PhaseCpu } {
  const relayPids = fed.nodes.map((n) => fed.relayPid(n.id));
  const serverPids = fed.servers.map((s) => s.pid);
  const read = (pid: number | undefined) => (pid === undefined ? NaN : cpuMs(pid));
  const benchMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const t0 = nowMs();
  const r0 = relayPids.map(read);
  const s0 = serverPids.map(read);
  const b0 = benchMs();
  return {
    end(events) {
      return {
        events,
        seconds: (nowMs() - t0) / 1000,
        relays: relayPids.map((p, i) => read(p) - r0[i]!),
        servers: serverPids.map((p, i) => read(p) - s0[i]!),
        bench: benchMs() - b0,
      };
    },
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Per key seen by both: `to`'s completion − `from`'s completion. */
function between(from: Arrivals, to: Arrivals): number[] {
  const out: number[] = [];
  for (const k of from.keys()) {
    const a = from.doneAt(k);
    const b = to.doneAt(k);
    if (a !== undefined && b !== undefined) out.push(b - a);
  }
  return out;
}

/**
 * BENCH_SPLIT: an ordered consumer on each server (new messages only) and a poll of each node's
 * log-position.json, so the stream → log time splits into its parts.
 */
async function splitTaps(fed: LocalFederation) {
  const conns = await Promise.all(
    fed.servers.map((s) => connect({ servers: s.url, user: BENCH_USER.user, pass: BENCH_USER.password })),
  );
  const consumers = new Arrivals(3);
  const positions = new Arrivals(3);
  const seqOf = new Map<number, string>();
  const stops = await Promise.all(
    conns.map(async (nc) => {
      const c = await jetstream(nc).consumers.get("BUSTLE", { deliver_policy: DeliverPolicy.New });
      const msgs = await c.consume({
        callback: (m) => {
          const k = KEY_RE.exec(m.string());
          if (!k) return;
          seqOf.set(m.seq, k[1]!);
          consumers.arrive(k[1]!, nowMs());
        },
      });
      return () => msgs.stop();
    }),
  );
  const posFiles = fed.nodes.map((n) => logPositionPath(n.state));
  const recorded = posFiles.map(() => 0);
  const poll = setInterval(() => {
    const at = nowMs();
    posFiles.forEach((f, i) => {
      let seq: number;
      try {
        seq = (JSON.parse(readFileSync(f, "utf8")) as { seq: number }).seq;
      } catch {
        return; // mid-rename
      }
      for (let s = recorded[i]! + 1; s <= seq; s++) {
        const k = seqOf.get(s);
        if (k) positions.arrive(k, at);
      }
      recorded[i] = Math.max(recorded[i]!, seq);
    });
  }, 2);
  return {
    split(published: Arrivals, logs: Arrivals) {
      return {
        consumers: summarize(between(published, consumers)),
        logs: summarize(between(consumers, logs)),
        positions: summarize(between(logs, positions)),
      };
    },
    async stop() {
      clearInterval(poll);
      stops.forEach((s) => s());
      await Promise.all(conns.map((c) => c.close()));
    },
  };
}

/** One path under test, set up once: its throughput rounds, then its steady phase. */
interface Path {
  bulk(round: number): Promise<{ throughput: number; cpu: PhaseCpu }>;
  steady(): Promise<Omit<Result, "throughput" | "rounds" | "cpu"> & { cpu: PhaseCpu }>;
  stop(): Promise<void>;
}

async function rawPath(fed: LocalFederation, dir: string): Promise<Path> {
  const conns: NatsConnection[] = await Promise.all(
    fed.servers.map((s) =>
      connect({ servers: s.url, user: BENCH_USER.user, pass: BENCH_USER.password, noAsyncTraces: true }),
    ),
  );
  const jsm = await jetstreamManager(conns[0]!);
  await jsm.streams.add({ name: "RAW", subjects: ["raw.>"], storage: StorageType.File, num_replicas: 3 });
  let arrivals = new Arrivals(3);
  let atCallback = new Arrivals(3);
  const consumers: FileConsumer[] = [];
  const watches: LineWatch[] = [];
  for (const [i, nc] of conns.entries()) {
    const file = join(dir, `raw-${i}.log`);
    consumers.push(await consumeToFile(nc, "RAW", file, (m) => atCallback.arrive(m.headers?.get("k") ?? "", nowMs())));
    // Timed as bustle.log is: the line seen in the consumer's file by the same follower.
    watches.push(
      watchLines(file, (line, at) => {
        const m = /^(\S+) /.exec(line);
        if (m) arrivals.arrive(m[1]!, at);
      }),
    );
  }
  const publish = (c: number, key: string) => {
    const h = headers();
    h.set("k", key);
    return jetstream(conns[c]!).publish(`raw.n${c}`, `${key} ${PAYLOAD}`, { headers: h, msgID: key });
  };
  let total = 0;
  return {
    // A third of N through each server, 256 unacked at most per publisher.
    async bulk(round) {
      const per = Math.floor(N / 3);
      const cpu = cpuPhase(fed);
      const t0 = nowMs();
      await Promise.all(conns.map((_, c) => publishWindowed(per, 256, (i) => publish(c, `b${round}-${c}-${i}`))));
      total += per * 3;
      await waitFor(() => watches.every((w) => w.count >= total), 120_000, "every message in every raw file", 5);
      return { throughput: (per * 3) / ((nowMs() - t0) / 1000), cpu: cpu.end(per * 3) };
    },
    // RATE/s in total, origins rotating over the three servers.
    async steady() {
      arrivals = new Arrivals(3);
      atCallback = new Arrivals(3);
      const steady = RATE * SECONDS;
      const cpu = cpuPhase(fed);
      const start = nowMs();
      for (let i = 0; i < steady; i++) {
        const wait = start + (i * 1000) / RATE - nowMs();
        if (wait > 0) await sleep(wait);
        const key = `s${i}`;
        const at = nowMs();
        arrivals.origin(key, at);
        atCallback.origin(key, at);
        void publish(i % 3, key).catch(() => {});
      }
      await waitFor(() => arrivals.complete() >= steady, 30_000, "raw steady-rate messages", 5).catch(() => {});
      return {
        latency: summarize(arrivals.latencies()),
        atCallback: summarize(atCallback.latencies()),
        cpu: cpu.end(steady),
      };
    },
    async stop() {
      watches.forEach((w) => w.stop());
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(conns.map((c) => c.close()));
    },
  };
}

async function bustlePath(fed: LocalFederation): Promise<Path> {
  const spools = fed.nodes.map((n) => {
    mkdirSync(join(n.homes, "alice"), { recursive: true });
    const p = join(n.homes, "alice", ".bustle.spool");
    appendFileSync(p, ""); // appears after the relay started: read from its beginning
    return p;
  });
  await sleep(1_500);
  let arrivals = new Arrivals(3);
  const published = new Arrivals(1);
  const watches: LineWatch[] = fed.nodes.map((n) =>
    watchLines(n.log, (line, at) => {
      const m = KEY_RE.exec(line);
      if (m) arrivals.arrive(m[1]!, at);
    }),
  );
  // The taps only time the steady phase, so they start after the bulk rounds: the servers'
  // extra deliveries to them are no part of bustle's throughput (raw has no such tap).
  const tap = await connect({ servers: fed.servers[0]!.url, user: BENCH_USER.user, pass: BENCH_USER.password });
  let taps: Awaited<ReturnType<typeof splitTaps>> | undefined;
  let total = 0;
  return {
    async bulk(round) {
      const per = Math.floor(N / 3);
      const cpu = cpuPhase(fed);
      const t0 = nowMs();
      spools.forEach((p, c) =>
        appendFileSync(p, Array.from({ length: per }, (_, i) => `bulk b${round}-${c}-${i} ${PAYLOAD}\n`).join("")),
      );
      total += per * 3;
      await waitFor(() => watches.every((w) => w.count >= total), 180_000, `${total} lines in every bustle.log`, 5);
      return { throughput: (per * 3) / ((nowMs() - t0) / 1000), cpu: cpu.end(per * 3) };
    },
    async steady() {
      arrivals = new Arrivals(3);
      tap.subscribe("bustle.ev.>", {
        callback: (_, m) => {
          const k = KEY_RE.exec(m.string());
          if (k) published.arrive(k[1]!, nowMs());
        },
      });
      await tap.flush(); // the server has the subscription before the first steady event
      taps = SPLIT ? await splitTaps(fed) : undefined;
      const steady = RATE * SECONDS;
      const cpu = cpuPhase(fed);
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
      const used = cpu.end(steady);
      if (taps) await sleep(500); // the last positions are recorded up to 200 ms after their lines
      return {
        cpu: used,
        latency: summarize(arrivals.latencies()),
        toStream: summarize(published.latencies()),
        fromStream: summarize(between(published, arrivals)),
        split: taps?.split(published, arrivals),
      };
    },
    async stop() {
      await taps?.stop();
      watches.forEach((w) => w.stop());
      await tap.close();
    },
  };
}

/** The paths' throughput rounds, alternating which goes first, then each one's steady phase. */
async function measure(raw: Path, bustle: Path): Promise<{ raw: Result; bustle: Result }> {
  const rounds: Array<{ raw: number; bustle: number }> = [];
  const bulkCpu: { raw: PhaseCpu[]; bustle: PhaseCpu[] } = { raw: [], bustle: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (["raw", "bustle"] as const) : (["bustle", "raw"] as const);
    const round = { raw: 0, bustle: 0 };
    for (const which of order) {
      const b = await (which === "raw" ? raw : bustle).bulk(r);
      round[which] = b.throughput;
      bulkCpu[which].push(b.cpu);
    }
    rounds.push(round);
  }
  const result = async (which: "raw" | "bustle", path: Path): Promise<Result> => {
    const { cpu, ...rest } = await path.steady();
    return {
      ...rest,
      throughput: median(rounds.map((x) => x[which])),
      rounds: rounds.map((x) => x[which]),
      cpu: { bulk: addCpu(bulkCpu[which]), steady: cpu },
    };
  };
  return { raw: await result("raw", raw), bustle: await result("bustle", bustle) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** Several phases' CPU as one. */
function addCpu(phases: PhaseCpu[]): PhaseCpu {
  const add = (a: number[], b: number[]) => a.map((x, i) => x + b[i]!);
  return phases.reduce((a, b) => ({
    events: a.events + b.events,
    seconds: a.seconds + b.seconds,
    relays: add(a.relays, b.relays),
    servers: add(a.servers, b.servers),
    bench: a.bench + b.bench,
  }));
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
  fed.startRelays(RELAY_NODE_ARGS);
  await waitRelaysConnected(fed, 60_000);
  console.log(`3 nodes, 3 nats-servers (R3), ${N} events for throughput, ${RATE}/s for ${SECONDS}s for latency`);
  const rawP = await rawPath(fed, dir.path);
  const bustleP = await bustlePath(fed);
  const { raw, bustle } = await measure(rawP, bustleP).finally(async () => {
    await bustleP.stop();
    await rawP.stop();
  });
  table(
    ["path (3 nodes, R3)", "events/s into all 3 (median)", `p50 ms @${RATE}/s`, `p99 ms @${RATE}/s`, "samples"],
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
  if (bustle.toStream && bustle.fromStream)
    console.log(
      `bustle: spool append → published p50 ${fmt(bustle.toStream.p50, 2)} ms, p99 ${fmt(bustle.toStream.p99, 2)} ms; published → in every log p50 ${fmt(bustle.fromStream.p50, 2)} ms, p99 ${fmt(bustle.fromStream.p99, 2)} ms`,
    );
  if (raw.atCallback)
    console.log(
      `raw, timed at the consumer's callback instead (before its write; not how bustle is timed): p50 ${fmt(raw.atCallback.p50, 2)} ms, p99 ${fmt(raw.atCallback.p99, 2)} ms`,
    );
  const parts = bustle.split;
  if (parts)
    console.log(
      `bustle, published → a plain consumer on every server p50 ${fmt(parts.consumers.p50, 2)} / p99 ${fmt(parts.consumers.p99, 2)} ms; → every bustle.log +${fmt(parts.logs.p50, 2)} / +${fmt(parts.logs.p99, 2)} ms; → every log position +${fmt(parts.positions.p50, 1)} / +${fmt(parts.positions.p99, 1)} ms`,
    );
  const cpuRow = (name: string, c: PhaseCpu) => [
    name,
    c.events,
    fmt(c.seconds, 1),
    c.relays.map((x) => fmt(x, 0)).join(" / "),
    c.servers.map((x) => fmt(x, 0)).join(" / "),
    fmt(c.bench, 0),
    fmt((1000 * sum(c.relays)) / c.events, 0),
    fmt((1000 * sum(c.servers)) / c.events, 0),
    fmt((1000 * (sum(c.relays) + sum(c.servers) + c.bench)) / c.events, 0),
  ];
  table(
    [
      "CPU (user + system)",
      "events",
      "s",
      "bustleds ms",
      "nats-servers ms",
      "bench ms",
      "bustleds µs/ev",
      "servers µs/ev",
      "all µs/ev",
    ],
    [
      cpuRow("raw, bulk", raw.cpu.bulk),
      cpuRow(`raw, ${RATE}/s`, raw.cpu.steady),
      cpuRow("bustle, bulk", bustle.cpu.bulk),
      cpuRow(`bustle, ${RATE}/s`, bustle.cpu.steady),
    ],
  );
  // Paired: each round's bustle against the raw run next to it.
  const ratio = median(bustle.rounds.map((b, i) => b / raw.rounds[i]!));
  console.log(
    `throughput rounds, raw / bustle events/s (ratio): ${raw.rounds.map((r, i) => `${fmt(r, 0)} / ${fmt(bustle.rounds[i]!, 0)} (${fmt(bustle.rounds[i]! / r, 2)})`).join(", ")}`,
  );
  const aim = 2 * raw.latency.p99 + 2;
  console.log(
    `ratio (bustle / raw throughput, median of the rounds' ratios): ${fmt(ratio, 2)}  (aim ≥ 0.8: ${ratio >= 0.8 ? "met" : "not met"}); p99 ${fmt(bustle.latency.p99, 2)} ms (aim ≤ 2× raw p99 + 2 ms = ${fmt(aim, 2)}: ${bustle.latency.p99 <= aim ? "met" : "not met"})`,
  );
} finally {
  await fed.stop();
  dir.remove();
}
