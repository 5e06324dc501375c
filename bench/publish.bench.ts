/**
 * What one event costs on this machine before bustle's own code: a ladder of processes, each
 * doing one more of the things a relay does per event, and `js.publish()` against
 * cluster/stream-publisher.ts (core publishes, one reply subscription, one timer). Same server,
 * same run, one process each so their CPU can be told apart; each runs RATE events/s (paced, no window) for
 * SECONDS, alternating, ROUNDS times; CPU = that process's user + system time over the run,
 * divided by its events. The rungs:
 *  - `timer`: woken at RATE by a timer, does nothing else (the price of one wake-up);
 *  - `inotify`: another process appends a line to a file at RATE; woken by fs.watch, it reads
 *    the new bytes (the spool reader's wake-up, without its checks);
 *  - `js.publish` / `stream-publisher`: woken by a timer, publishes into JetStream with a
 *    `Nats-Msg-Id` and takes the PubAck;
 *  - `publish+consume`: the same, plus an ordered consumer of the stream on the same connection
 *    that receives each event back (the log writer's delivery);
 *  - `relay-shaped`: woken by fs.watch, reads the line, appends it to a journal, publishes it,
 *    takes the PubAck, receives it from the stream and appends it to a log and an index (the
 *    relay's work per event, none of its code: no parsing, checks, ids, audit, syncs).
 * Usage: npm run bench publish (only by name)   (PUBLISH_RATES (500,5000), PUBLISH_PATHS (all),
 *   BENCH_SECONDS (5), BENCH_ROUNDS (3))
 */
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readSync, watch, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startServer } from "../cluster/servers.js";
import { ensureStream } from "../cluster/stream.js";
import { STREAM_NAME } from "../cluster/names.js";
import { createStreamPublisher } from "../cluster/stream-publisher.js";
import { silentLogger } from "../cluster/logger.js";
import { tempDir } from "../cluster/temp.js";
import { sleep } from "../cluster/wait-for.js";
import { fmt, table } from "./lib/stats.js";
import { nowMs } from "./lib/log-watch.js";

const RATES = (process.env.PUBLISH_RATES ?? "500,5000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAYLOAD = new TextEncoder().encode(`{"v":1,"text":"${"x".repeat(200)}"}`);
const LINE = `steady ${"x".repeat(160)}\n`;
const SUBJECT = "bustle.ev.bench.spool.x";

const PATHS = ["timer", "inotify", "js.publish", "stream-publisher", "publish+consume", "relay-shaped"] as const;
type Path = (typeof PATHS)[number];
/** Rungs woken by another process's appends to a file (the parent writes it). */
const FILE_DRIVEN: ReadonlySet<Path> = new Set(["inotify", "relay-shaped"]);
const CHOSEN = (process.env.PUBLISH_PATHS?.split(",") ?? PATHS).filter((p): p is Path =>
  (PATHS as readonly string[]).includes(p),
);

/** Calls `send(i)` for i in [0, n) at `rate` per second, woken by a timer for each. */
async function paced(rate: number, n: number, send: (i: number) => void): Promise<void> {
  const start = nowMs();
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / rate - nowMs();
    if (wait > 0) await sleep(wait);
    send(i);
  }
}

/**
 * In a child: runs one rung for `n` events; prints CPU µs per event. `file`: the file the parent
 * appends to (file-driven rungs; "go" on stdout once it watches).
 */
async function child(url: string, path: Path, rate: number, tag: string, file: string): Promise<void> {
  const n = rate * SECONDS;
  const nc = path === "timer" || path === "inotify" ? undefined : await connect({ servers: url, noAsyncTraces: true });
  const js = nc && jetstream(nc);
  const sp = nc && createStreamPublisher(nc);
  const publish = (i: number): Promise<unknown> =>
    path === "js.publish"
      ? js!.publish(SUBJECT, PAYLOAD, { msgID: `${tag}-${i}` })
      : sp!.publish(SUBJECT, PAYLOAD, `${tag}-${i}`);
  if (nc) await publish(-1); // connected and warm

  // The consumer end: every event back from the stream (appended to a log and an index when relay-shaped).
  let received = 0;
  let gotAll: (() => void) | undefined;
  const logFd = openSync(`${file}.log`, "a");
  const indexFd = openSync(`${file}.idx`, "a");
  if (path === "publish+consume" || path === "relay-shaped") {
    const consumer = await js!.consumers.get(STREAM_NAME, { deliver_policy: DeliverPolicy.New });
    await consumer.consume({
      max_messages: 1024,
      callback: (m) => {
        if (path === "relay-shaped") {
          const line = `${m.seq} ${m.string()}\n`;
          writeSync(indexFd, `${m.seq} ${line.length}\n`);
          writeSync(logFd, line);
        }
        if (++received >= n) gotAll?.();
      },
    });
  }
  const allReceived = () =>
    path === "publish+consume" || path === "relay-shaped"
      ? new Promise<void>((r) => (received >= n ? r() : (gotAll = r)))
      : Promise.resolve();

  let inflight = 0;
  let room: (() => void) | undefined;
  const settled = () => {
    inflight--;
    room?.();
  };
  const cpu0 = process.cpuUsage();
  if (path === "timer") {
    await paced(rate, n, () => {});
  } else if (FILE_DRIVEN.has(path)) {
    const fd = openSync(file, "r");
    const journal = openSync(`${file}.journal`, "a");
    const buf = Buffer.allocUnsafe(1 << 20);
    let at = 0;
    let lines = 0;
    let i = 0;
    await new Promise<void>((resolve) => {
      const w = watch(file, () => {
        const got = readSync(fd, buf, 0, buf.length, at);
        at += got;
        for (let k = 0; k < got; k++) if (buf[k] === 0x0a) lines++;
        if (path === "relay-shaped") {
          if (got) writeSync(journal, buf.subarray(0, got));
          for (; i < lines; i++) {
            inflight++;
            publish(i).then(settled, settled);
          }
        }
        if (lines >= n) {
          w.close();
          resolve();
        }
      });
      console.log("go");
    });
    closeSync(fd);
    closeSync(journal);
  } else {
    await paced(rate, n, (i) => {
      inflight++;
      publish(i).then(settled, settled);
    });
  }
  while (inflight > 0) await new Promise<void>((r) => (room = r));
  await allReceived();
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ usPerEvent: (cpu.user + cpu.system) / n }));
  closeSync(logFd);
  closeSync(indexFd);
  sp?.close();
  await nc?.close();
}

/** Runs one rung in a child process (writing its file at `rate` when it is file-driven); its µs per event. */
async function runChild(url: string, dir: string, path: Path, rate: number, tag: string): Promise<number> {
  const file = join(dir, `${tag}.spool`);
  writeFileSync(file, "");
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), "child", url, path, String(rate), tag, file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let go: (() => void) | undefined;
  const ready = new Promise<void>((r) => (go = r));
  proc.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("go\n")) go?.();
  });
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on("exit", r));
  if (FILE_DRIVEN.has(path)) {
    await Promise.race([ready, exited]);
    await paced(rate, rate * SECONDS, () => appendFileSync(file, LINE));
  }
  const status = await exited;
  if (status !== 0) throw new Error(`${path} run failed: ${err}`);
  const last = out.trim().split("\n").pop()!;
  return (JSON.parse(last) as { usPerEvent: number }).usPerEvent;
}

if (process.argv[2] === "child") {
  await child(process.argv[3]!, process.argv[4] as Path, Number(process.argv[5]), process.argv[6]!, process.argv[7]!);
} else {
  const dir = tempDir("bustle-bench-publish-");
  const server = await startServer(dir.path);
  try {
    const setup = await connect({ servers: server.url });
    await ensureStream(setup, {}, silentLogger);
    await setup.close();
    console.log(
      `one event's cost before bustle's code: ${RATES.join(", ")}/s for ${SECONDS}s, ${ROUNDS} alternating rounds`,
    );
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rows: Array<Array<string | number>> = [];
    for (const rate of RATES) {
      const us = new Map<Path, number[]>(CHOSEN.map((p) => [p, []]));
      for (let r = 0; r < ROUNDS; r++)
        for (const path of CHOSEN)
          us.get(path)!.push(await runChild(server.url, dir.path, path, rate, `${path}-${rate}-${r}`));
      for (const path of CHOSEN) {
        const xs = us.get(path)!;
        rows.push([rate, path, `${fmt(med(xs), 1)} (${xs.map((x) => fmt(x, 1)).join(" / ")})`]);
      }
    }
    table(["rate/s", "rung", "CPU µs/event (median; rounds)"], rows);
  } finally {
    await server.stop();
    dir.remove();
  }
}
