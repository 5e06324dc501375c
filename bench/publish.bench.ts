/**
 * The relay's publish path alone: CPU per event of `js.publish()` (a request per event) against
 * cluster/stream-publisher.ts (core publishes, one reply subscription, one timer), same server,
 * same run, one process each so their CPU can be told apart. Each path publishes RATE events/s for
 * SECONDS (window 256, `Nats-Msg-Id`), alternating, ROUNDS times; CPU = this process's user +
 * system time over the run, divided by its events.
 * Usage: npm run bench publish (only by name)   (PUBLISH_RATES (500,5000), BENCH_SECONDS (5), BENCH_ROUNDS (3))
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startServer } from "../cluster/servers.js";
import { ensureStream } from "../cluster/stream.js";
import { createStreamPublisher } from "../cluster/stream-publisher.js";
import { silentLogger } from "../cluster/logger.js";
import { tempDir } from "../cluster/temp.js";
import { sleep } from "../cluster/wait-for.js";
import { fmt, table } from "./lib/stats.js";
import { nowMs } from "./lib/log-watch.js";

const RATES = (process.env.PUBLISH_RATES ?? "500,5000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW = 256;
const PAYLOAD = new TextEncoder().encode(`{"v":1,"text":"${"x".repeat(200)}"}`);

type Path = "js.publish" | "stream-publisher";

/** In a child: publishes at `rate` for SECONDS through `path`; prints CPU µs per event. */
async function child(url: string, path: Path, rate: number, tag: string): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const js = jetstream(nc);
  const sp = createStreamPublisher(nc);
  const send =
    path === "js.publish"
      ? (i: number) => js.publish(`bustle.ev.bench.spool.x`, PAYLOAD, { msgID: `${tag}-${i}` })
      : (i: number) => sp.publish(`bustle.ev.bench.spool.x`, PAYLOAD, `${tag}-${i}`);
  await send(-1); // connected and warm
  const n = rate * SECONDS;
  let inflight = 0;
  let room: (() => void) | undefined;
  const done = () => {
    inflight--;
    room?.();
  };
  const cpu0 = process.cpuUsage();
  const start = nowMs();
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / rate - nowMs();
    if (wait > 0) await sleep(wait);
    while (inflight >= WINDOW) await new Promise<void>((r) => (room = r));
    inflight++;
    send(i).then(done, done);
  }
  while (inflight > 0) await new Promise<void>((r) => (room = r));
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ usPerEvent: (cpu.user + cpu.system) / n }));
  sp.close();
  await nc.close();
}

if (process.argv[2] === "child") {
  await child(process.argv[3]!, process.argv[4] as Path, Number(process.argv[5]), process.argv[6]!);
} else {
  const dir = tempDir("bustle-bench-publish-");
  const server = await startServer(dir.path);
  try {
    const setup = await connect({ servers: server.url });
    await ensureStream(setup, {}, silentLogger);
    await setup.close();
    console.log(
      `publish path alone: ${RATES.join(", ")}/s for ${SECONDS}s, ${ROUNDS} alternating rounds, window ${WINDOW}`,
    );
    const rows: Array<Array<string | number>> = [];
    for (const rate of RATES) {
      const us: Record<Path, number[]> = { "js.publish": [], "stream-publisher": [] };
      for (let r = 0; r < ROUNDS; r++)
        for (const path of ["js.publish", "stream-publisher"] as const) {
          const out = spawnSync(
            process.execPath,
            [fileURLToPath(import.meta.url), "child", server.url, path, String(rate), `${path}-${rate}-${r}`],
            { encoding: "utf8" },
          );
          if (out.status !== 0) throw new Error(`${path} run failed: ${out.stderr}`);
          us[path].push(JSON.parse(out.stdout.trim().split("\n").pop()!).usPerEvent);
        }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      rows.push([
        rate,
        `${fmt(med(us["js.publish"]), 1)} (${us["js.publish"].map((x) => fmt(x, 1)).join(" / ")})`,
        `${fmt(med(us["stream-publisher"]), 1)} (${us["stream-publisher"].map((x) => fmt(x, 1)).join(" / ")})`,
      ]);
    }
    table(["rate/s", "js.publish CPU µs/event (median; rounds)", "stream publisher CPU µs/event"], rows);
  } finally {
    await server.stop();
    dir.remove();
  }
}
