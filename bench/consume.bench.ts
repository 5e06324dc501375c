/**
 * The stream → log path alone: CPU per message of bustle's log writer (decode and validation of
 * each event, bustle.log, its index and position) against a bare nats.js ordered consumer that
 * appends each payload as a line to a file (the raw baseline's consumer, bench/lib/raw-jetstream.ts),
 * both draining the same stream of EVENTS envelopes (three nodes' subjects, texts as the cluster
 * bench writes them) from one local server. Each path runs in a child process of its own, the two
 * alternating, ROUNDS times; CPU = the child's user + system time from the consumer's start to the
 * last message in its file, divided by the messages. CPU time, not wall time: it says what the path
 * costs even on a busy machine (which inflates both paths alike, a little).
 * Usage: npm run bench consume (only by name)   (BENCH_EVENTS (60,000), BENCH_ROUNDS (3))
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { encodeEvent, makeEvent, subjectOf } from "../cluster/envelope.js";
import { silentLogger } from "../cluster/logger.js";
import { STREAM_NAME } from "../cluster/names.js";
import { startServer } from "../cluster/servers.js";
import { ensureStream } from "../cluster/stream.js";
import { tempDir } from "../cluster/temp.js";
import { waitFor } from "../cluster/wait-for.js";
import { memoryAudit } from "../relay/audit.js";
import { createLogWriter } from "../relay/log-writer.js";
import { consumeToFile } from "./lib/raw-jetstream.js";
import { fmt, table } from "./lib/stats.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 60_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAYLOAD = "x".repeat(160);

type Path = "nats.js consumer → file" | "log writer → bustle.log";
const PATHS: Path[] = ["nats.js consumer → file", "log writer → bustle.log"];

/** In a child: drains the stream through `path` into `dir`; prints CPU µs per message. */
async function child(url: string, path: Path, dir: string): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const last = (await (await jetstreamManager(nc)).streams.info(STREAM_NAME)).state.last_seq;
  const cpu0 = process.cpuUsage();
  if (path === "nats.js consumer → file") {
    const c = await consumeToFile(nc, STREAM_NAME, join(dir, "raw.log"));
    await waitFor(() => c.count >= last, 120_000, "every message in the file", 1);
    report(cpu0, last);
    await c.stop();
  } else {
    const writer = createLogWriter({
      logPath: join(dir, "bustle.log"),
      stateDir: join(dir, "state"),
      node: "n1",
      audit: memoryAudit(),
      log: silentLogger,
    });
    await writer.start(nc);
    await waitFor(() => writer.position >= last, 120_000, "every message in bustle.log", 1);
    report(cpu0, last);
    await writer.stop();
  }
  await nc.close();
}

function report(cpu0: NodeJS.CpuUsage, messages: number): void {
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ usPerMessage: (cpu.user + cpu.system) / messages }));
}

async function main(): Promise<void> {
  const dir = tempDir("bustle-bench-consume-");
  const server = await startServer(dir.path);
  try {
    const nc = await connect({ servers: server.url, noAsyncTraces: true });
    await ensureStream(nc, {}, silentLogger);
    for (let i = 0; i < EVENTS; i++) {
      const node = `n${(i % 3) + 1}`;
      const e = makeEvent({
        node,
        source: "spool",
        kind: "say",
        actor: "alice",
        text: `~alice: bulk b0-${i % 3}-${i} ${PAYLOAD}`,
      });
      nc.publish(subjectOf(e), encodeEvent(e));
      if (i % 1_000 === 999) await nc.flush();
    }
    await nc.flush();
    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => (await jsm.streams.info(STREAM_NAME)).state.messages >= EVENTS,
      60_000,
      "every event in the stream",
    );
    await nc.close();
    console.log(`${EVENTS} events in one stream, each path drains it ${ROUNDS} times (alternating)`);
    const results = new Map<Path, number[]>(PATHS.map((p) => [p, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const path of r % 2 === 0 ? PATHS : [...PATHS].reverse()) {
        const out = tempDir("bustle-bench-consume-run-");
        const run = spawnSync(
          process.execPath,
          [fileURLToPath(import.meta.url), "--child", server.url, path, out.path],
          {
            encoding: "utf8",
          },
        );
        out.remove();
        const line = run.stdout.trim().split("\n").pop() ?? "";
        if (run.status !== 0 || !line.startsWith("{")) throw new Error(`${path} failed: ${run.stderr || run.stdout}`);
        results.get(path)!.push((JSON.parse(line) as { usPerMessage: number }).usPerMessage);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const bare = median(results.get(PATHS[0])!);
    table(
      ["path", "CPU µs/message (median)", "rounds", "against the bare consumer"],
      PATHS.map((p) => [
        p,
        fmt(median(results.get(p)!), 1),
        results
          .get(p)!
          .map((x) => fmt(x, 1))
          .join(" / "),
        fmt(median(results.get(p)!) / bare, 2),
      ]),
    );
  } finally {
    await server.stop();
    dir.remove();
  }
}

if (process.argv[2] === "--child") await child(process.argv[3]!, process.argv[4] as Path, process.argv[5]!);
else await main();
