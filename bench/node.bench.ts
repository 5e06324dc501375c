/**
 * One relay node against a raw nats.js JetStream baseline on the same nats-server, same run:
 *  - sustained events/s: N spool lines appended at once → all N in bustle.log, versus
 *    N async publishes (window 256) → a consumer appending each to a file. Three rounds,
 *    alternating the two, and the median of each (a single round of a few seconds is noisy on
 *    a shared 2-core machine);
 *  - latency at steady rates (200, 500, 1,000 and 5,000/s by default): spool append → log line,
 *    versus publish → consumer has it;
 *  - relay CPU per event: user + system time of the bustled process (/proc/<pid>/stat) during
 *    each steady-rate run and each throughput round, divided by its events;
 *  - the crash row: a user writes CRASH_EVENTS lines at CRASH_RATE/s while bustled is killed
 *    (kill -9) twice and restarted; then bustle.log must hold every line once, in order.
 * Usage: npm run bench node   (BENCH_EVENTS, BENCH_RATES (or BENCH_RATE), BENCH_SECONDS, BENCH_ROUNDS,
 *   CRASH_EVENTS (50,000), CRASH_RATE (5,000); CRASH_EVENTS=0 leaves the crash row out;
 *   BENCH_RELAY_NODE_ARGS: node flags for the measured bustled, after its own (so they can override a V8 size), e.g. "--cpu-prof --cpu-prof-dir=/tmp/p",
 *   which NODE_OPTIONS refuses)
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager, StorageType, type JetStreamClient } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { RelayProcess, writeRelayConfig } from "../relay/local-node.js";
import { startServer } from "../cluster/servers.js";
import { tempDir } from "../cluster/temp.js";
import { sleep, waitFor } from "../cluster/wait-for.js";
import { fmt, percentile, summarize, table, type LatencySummary } from "./lib/stats.js";
import { nowMs, watchLines, type LineWatch } from "./lib/log-watch.js";
import { consumeToFile, publishWindowed } from "./lib/raw-jetstream.js";
import { cpuMs, findPid } from "./lib/proc-cpu.js";

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATES = (process.env.BENCH_RATES ?? process.env.BENCH_RATE ?? "200,500,1000,5000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAYLOAD = "x".repeat(160);
const CRASH_EVENTS = Number(process.env.CRASH_EVENTS ?? 50_000);
const CRASH_RATE = Number(process.env.CRASH_RATE ?? 5_000);
const RELAY_NODE_ARGS = (process.env.BENCH_RELAY_NODE_ARGS ?? "").split(" ").filter(Boolean);

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** Calls `send(i)` for i in [0, rate × SECONDS) at `rate` per second (several per timer tick at high rates). */
async function paced(rate: number, send: (i: number) => void): Promise<number> {
  const n = rate * SECONDS;
  const start = nowMs();
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / rate - nowMs();
    if (wait > 0) await sleep(wait);
    send(i);
  }
  return n;
}

/** The raw path: a stream of its own, a consumer writing a file, publishes with a window. */
class RawPath {
  private round = 0;
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly dir: string,
  ) {}

  static async open(url: string, dir: string): Promise<RawPath> {
    const nc = await connect({ servers: url, noAsyncTraces: true });
    return new RawPath(nc, jetstream(nc), dir);
  }

  private publish(subject: string, n: number) {
    const h = headers();
    h.set("n", String(n));
    return this.js.publish(subject, `${n} ${PAYLOAD}`, { headers: h, msgID: `${subject}-${n}` });
  }

  private async stream(onMsg: (n: number) => void = () => {}) {
    const name = `RAW${++this.round}`;
    const jsm = await jetstreamManager(this.nc);
    await jsm.streams.add({ name, subjects: [`raw${this.round}.>`], storage: StorageType.File });
    const consumer = await consumeToFile(this.nc, name, join(this.dir, `${name}.log`), (m) =>
      onMsg(Number(m.headers?.get("n") ?? -1)),
    );
    return {
      subject: `raw${this.round}.x`,
      consumer,
      remove: async () => {
        await consumer.stop();
        await jsm.streams.delete(name);
      },
    };
  }

  /** N publishes → all N written by the consumer; events/s. */
  async throughput(): Promise<number> {
    const { subject, consumer, remove } = await this.stream();
    const t0 = nowMs();
    await publishWindowed(N, 256, (i) => this.publish(subject, i));
    await waitFor(() => consumer.count >= N, 120_000, `${N} raw messages consumed`, 5);
    const rate = N / ((nowMs() - t0) / 1000);
    await remove();
    return rate;
  }

  /** `rate` publishes a second; latency = publish → the consumer has it. */
  async latency(rate: number): Promise<LatencySummary> {
    const sent = new Map<number, number>();
    const latencies: number[] = [];
    const { subject, consumer, remove } = await this.stream((n) => {
      const t = sent.get(n);
      if (t !== undefined) latencies.push(nowMs() - t);
    });
    const n = await paced(rate, (i) => {
      sent.set(i, nowMs());
      void this.publish(subject, i).catch(() => {});
    });
    await waitFor(() => consumer.count >= n, 10_000, "steady-rate raw messages", 5).catch(() => {});
    await remove();
    return summarize(latencies);
  }

  close() {
    return this.nc.close();
  }
}

/** The bustle path: a real bustled; lines appended to a user's spool, counted in bustle.log. */
class BustlePath {
  private latencies: number[] = [];
  /** Relay CPU ms per event of the last run. */
  cpuPerEvent = NaN;
  private readonly pid: number;
  private constructor(
    private readonly relay: RelayProcess,
    private readonly spool: string,
    private readonly watch: LineWatch,
  ) {
    const pid = findPid(relay.files.config);
    if (pid === undefined) throw new Error("cannot find the bustled process");
    this.pid = pid;
  }

  static async open(url: string, dir: string): Promise<BustlePath> {
    const files = writeRelayConfig(join(dir, "node"), "town", { servers: [url] });
    mkdirSync(join(files.homes, "alice"), { recursive: true });
    const relay = await new RelayProcess(files, [], [], RELAY_NODE_ARGS).start();
    const spool = join(files.homes, "alice", ".bustle.spool");
    appendFileSync(spool, ""); // exists before the load starts: read from its beginning
    await sleep(500);
    const path: BustlePath = new BustlePath(
      relay,
      spool,
      watchLines(files.log, (line, at) => {
        const m = / t=(\d+\.\d+) /.exec(line);
        if (m) path.latencies.push(at - Number(m[1]));
      }),
    );
    return path;
  }

  async throughput(): Promise<number> {
    const target = this.watch.count + N;
    const cpu0 = cpuMs(this.pid);
    const t0 = nowMs();
    appendFileSync(this.spool, Array.from({ length: N }, (_, i) => `bulk ${i} ${PAYLOAD}\n`).join(""));
    await waitFor(() => this.watch.count >= target, 120_000, `${N} lines in bustle.log`, 5);
    const rate = N / ((nowMs() - t0) / 1000);
    this.cpuPerEvent = (cpuMs(this.pid) - cpu0) / N;
    return rate;
  }

  async latency(rate: number): Promise<LatencySummary> {
    this.latencies = [];
    const cpu0 = cpuMs(this.pid);
    const before = this.watch.count;
    const n = await paced(rate, (i) => appendFileSync(this.spool, `steady t=${nowMs().toFixed(3)} ${i} ${PAYLOAD}\n`));
    await waitFor(() => this.watch.count >= before + n, 30_000, "steady-rate lines", 5);
    this.cpuPerEvent = (cpuMs(this.pid) - cpu0) / n;
    return summarize(this.latencies);
  }

  async close() {
    this.watch.stop();
    await this.relay.stop();
  }
}

/**
 * kill -9 of bustled twice (at 20% and 60% of the lines, restarted 300 ms later) while one user
 * writes CRASH_EVENTS numbered lines at CRASH_RATE/s on a server of its own; then counts what
 * bustle.log holds: lines lost, doubled, out of order.
 */
async function crashRow(dir: string): Promise<{ lost: number; doubled: number; disordered: number; seconds: number }> {
  const server = await startServer(dir, "crash");
  const files = writeRelayConfig(join(dir, "crash-node"), "town", { servers: [server.url] });
  mkdirSync(join(files.homes, "alice"), { recursive: true });
  const spool = join(files.homes, "alice", ".bustle.spool");
  appendFileSync(spool, "");
  const relay = await new RelayProcess(files).start();
  // Read whole each time, not followed: after a crash the relay may cut an unrecorded tail and
  // write it again, and only the file as it stands counts.
  let numbers: number[] = [];
  const readLog = () => {
    numbers = [];
    for (const m of readFileSync(files.log, "utf8").matchAll(/ crash (\d+)\n/g)) numbers.push(Number(m[1]));
    return numbers;
  };
  try {
    await sleep(500);
    const kills = new Set([Math.floor(CRASH_EVENTS * 0.2), Math.floor(CRASH_EVENTS * 0.6)]);
    const perTick = Math.max(1, Math.round(CRASH_RATE / 200)); // a batch every 5 ms
    const t0 = nowMs();
    const restarts: Array<Promise<unknown>> = [];
    for (let n = 0, tick = 0; n < CRASH_EVENTS; tick++) {
      const wait = t0 + tick * 5 - nowMs();
      if (wait > 0) await sleep(wait);
      const batch: string[] = [];
      for (let i = 0; i < perTick && n < CRASH_EVENTS; i++, n++) {
        batch.push(`crash ${n}\n`);
        if (kills.has(n))
          restarts.push(
            relay
              .kill()
              .then(() => sleep(300))
              .then(() => relay.start(false)),
          );
      }
      appendFileSync(spool, batch.join(""));
    }
    await Promise.all(restarts);
    await waitFor(
      () => new Set(readLog()).size >= CRASH_EVENTS,
      120_000,
      `${CRASH_EVENTS} lines in bustle.log after two kill -9`,
      250,
    ).catch(() => {});
    const seconds = (nowMs() - t0) / 1000;
    await sleep(1_000); // a straggling duplicate would land now
    readLog();
    const distinct = new Set(numbers).size;
    let disordered = 0;
    for (let i = 1; i < numbers.length; i++) if (numbers[i]! < numbers[i - 1]!) disordered++;
    return { lost: CRASH_EVENTS - distinct, doubled: numbers.length - distinct, disordered, seconds };
  } finally {
    await relay.stop();
    await server.stop();
  }
}

const dir = tempDir("bustle-bench-node-");
const server = await startServer(dir.path);
try {
  console.log(
    `one node, one nats-server (R1): ${ROUNDS} rounds of ${N} events for throughput; ${RATES.join(", ")}/s for ${SECONDS}s each for latency and relay CPU`,
  );
  const raw = await RawPath.open(server.url, dir.path);
  const node = await BustlePath.open(server.url, dir.path);
  const rawRates: number[] = [];
  const nodeRates: number[] = [];
  const bulkCpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rawRates.push(await raw.throughput());
    nodeRates.push(await node.throughput());
    bulkCpu.push(node.cpuPerEvent);
  }
  const steady: Array<{ rate: number; raw: LatencySummary; node: LatencySummary; cpu: number }> = [];
  for (const rate of RATES) {
    const r = await raw.latency(rate);
    const b = await node.latency(rate);
    steady.push({ rate, raw: r, node: b, cpu: node.cpuPerEvent });
  }
  await raw.close();
  await node.close();
  const rounds = (xs: number[]) => xs.map((x) => fmt(x, 0)).join(" / ");
  const ratio = median(nodeRates) / median(rawRates);
  table(
    ["path", "events/s (median)", "rounds", "relay CPU ms/event"],
    [
      ["raw nats.js publish → consume → file", fmt(median(rawRates), 0), rounds(rawRates), "—"],
      [
        "bustle spool → outbox → stream → bustle.log",
        fmt(median(nodeRates), 0),
        rounds(nodeRates),
        fmt(median(bulkCpu), 3),
      ],
    ],
  );
  console.log(
    `throughput ratio (bustle / raw, medians): ${fmt(ratio, 2)}  (aim ≥ 0.8: ${ratio >= 0.8 ? "met" : "not met"})`,
  );
  console.log("");
  table(
    [
      "rate/s",
      "raw p50 / p99 ms",
      "bustle p50 / p99 ms",
      "p99 aim (2× raw + 2 ms)",
      "relay CPU ms/event (aim ≤ 0.3)",
      "samples raw / bustle",
    ],
    steady.map((s) => {
      const aim = 2 * s.raw.p99 + 2;
      return [
        s.rate,
        `${fmt(s.raw.p50, 2)} / ${fmt(s.raw.p99, 2)}`,
        `${fmt(s.node.p50, 2)} / ${fmt(s.node.p99, 2)}`,
        `${fmt(aim, 2)} ${s.node.p99 <= aim ? "met" : "not met"}`,
        `${fmt(s.cpu, 3)} ${s.cpu <= 0.3 ? "met" : "not met"}`,
        `${s.raw.n} / ${s.node.n}`,
      ];
    }),
  );
  if (CRASH_EVENTS > 0) {
    const c = await crashRow(dir.path);
    console.log("");
    table(
      ["crash row", "lines", "rate/s", "lost / doubled / out of order", "all in log after", "passed"],
      [
        [
          "bustled kill -9 twice, restarted",
          CRASH_EVENTS,
          CRASH_RATE,
          `${c.lost} / ${c.doubled} / ${c.disordered}`,
          `${fmt(c.seconds, 1)} s`,
          c.lost === 0 && c.doubled === 0 && c.disordered === 0 ? "yes" : "NO",
        ],
      ],
    );
  }
} finally {
  await server.stop();
  dir.remove();
}
