/**
 * Memory soak: a real bustled watching 5,000 homes while a steady 1,000 spool lines a second
 * (and a little ambient file activity) flow through it for ten minutes. Samples the relay's RSS
 * and CPU every 30 s and judges two things:
 *  - bound: every RSS sample stays under 150 MB;
 *  - flat: the mean RSS of the last third of the samples is within 10% of the middle third's
 *    (the first third is warm-up: JIT, heap growth to its working size, the stream's first
 *    blocks), i.e. memory has stopped growing.
 * It also prints the least-squares slope of RSS over the last two thirds (MB/min), bustled's CPU
 * per delivered event, and whether every line reached bustle.log.
 * Not in the default `npm run bench`; run it by name:
 *   npm run bench soak                      (10 minutes)
 *   npm run bench -- soak --minutes 2       (or SOAK_MINUTES=2; shorter while developing)
 *   SOAK_HOMES (5000), SOAK_RATE (1000 lines/s), SOAK_AMBIENT (5 file changes/s), SOAK_SAMPLE_S (30);
 *   bustled runs with its own node flags (BUSTLED_NODE_FLAGS); SOAK_NODE_ARGS adds flags after
 *   them, to compare V8 settings ("--max-semi-space-size=16" is Node 20's own default).
 */
import { appendFileSync, closeSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ChildProgram } from "../cluster/child.js";
import { startServer } from "../cluster/servers.js";
import { tempDir } from "../cluster/temp.js";
import { sleep, waitFor } from "../cluster/wait-for.js";
import { BUSTLED_NODE_FLAGS, bustledProgram } from "../relay/programs.js";
import { benchUser, makeHomeTree } from "./lib/home-tree.js";
import { fmt, table } from "./lib/stats.js";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const MINUTES = Number(arg("minutes") ?? process.env.SOAK_MINUTES ?? 10);
const HOMES = Number(process.env.SOAK_HOMES ?? 5000);
const RATE = Number(process.env.SOAK_RATE ?? 1000);
const AMBIENT_RATE = Number(process.env.SOAK_AMBIENT ?? 5);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_S ?? 30) * 1000;
/** Users whose spools carry the load (a busy evening: a few hundred people scripting `bustle update`). */
const SPOOLERS = Math.min(HOMES, 200);
const NODE_ARGS = (process.env.SOAK_NODE_ARGS ?? "").split(" ").filter(Boolean);
const BOUND_MB = 150;
const FLAT_TOLERANCE = 0.1;
const MARK = "soak#";
if (!(MINUTES > 0) || !(HOMES > 0) || !(RATE > 0)) {
  console.error("usage: soak.bench.js [--minutes N]   (N > 0; SOAK_HOMES, SOAK_RATE > 0)");
  process.exit(2);
}

interface Sample {
  t: number; // seconds since the load began
  rssMb: number;
  cpuS: number; // bustled's user + system time so far
  delivered: number; // spool lines in bustle.log so far
  written: number; // spool lines appended so far
}

const CLOCK_TICKS = 100; // USER_HZ on Linux, what /proc/<pid>/stat counts in

/** RSS (MB) and user + system CPU (s) of a process, from /proc. */
function usage(pid: number): { rssMb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after "pid (comm) "
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return { rssMb: rssKb / 1024, cpuS: ticks / CLOCK_TICKS };
}

/** Counts lines of a growing file that contain `mark`, reading only what is new each time. */
function lineCounter(path: string, mark: string): () => { marked: number; other: number } {
  let offset = 0;
  let rest = "";
  let marked = 0;
  let other = 0;
  const buf = Buffer.alloc(1 << 20);
  return () => {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      return { marked, other };
    }
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        const lines = (rest + buf.toString("utf8", 0, n)).split("\n");
        rest = lines.pop()!;
        for (const l of lines)
          if (l.includes(mark)) marked++;
          else if (l) other++;
      }
    } finally {
      closeSync(fd);
    }
    return { marked, other };
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : NaN;
}

const dir = tempDir("bustle-bench-soak-");
let relay: ChildProgram | undefined;
const server = await startServer(dir.path);
process.on("SIGINT", () => {
  void Promise.all([relay?.kill(), server.stop()]).finally(() => {
    dir.remove();
    process.exit(130);
  });
});
try {
  const homes = join(dir.path, "homes");
  const t0 = Date.now();
  makeHomeTree(homes, HOMES);
  for (let i = 0; i < SPOOLERS; i++) writeFileSync(join(homes, benchUser(i), ".bustle.spool"), "");
  const files = {
    config: join(dir.path, "node.yaml"),
    log: join(dir.path, "bustle.log"),
    daemonLog: join(dir.path, "bustled.log"),
    state: join(dir.path, "state"),
  };
  writeFileSync(
    files.config,
    stringify({
      node: { id: "soak" },
      nats: { servers: [server.url] },
      homes: { root: homes },
      log: { path: files.log, audit: join(dir.path, "audit.log") },
      state: { dir: files.state },
      spool: { rate: { burst: 1_000_000, per_minute: 10_000_000 } }, // the load is one tilde's, not one user's
      ambient: { enabled: true }, // the default rules, window and tilde-wide cap
    }),
  );
  console.log(
    `soak: ${HOMES} homes (${HOMES * 4 + 1} directories, ${HOMES * 20} files, made in ${fmt((Date.now() - t0) / 1000)} s), ` +
      `${RATE} spool lines/s over ${SPOOLERS} spools + ${AMBIENT_RATE} file changes/s in other homes, for ${MINUTES} min, a sample every ${SAMPLE_MS / 1000} s; ` +
      `bustled's node flags: ${[...BUSTLED_NODE_FLAGS, ...NODE_ARGS].join(" ") || "none"}; ` +
      `load average ${fmt(loadavg()[0]!)} on ${cpus().length} cores`,
  );

  relay = bustledProgram({
    config: files.config,
    state: files.state,
    logPath: files.daemonLog,
    nodeArgs: NODE_ARGS,
  });
  const started = Date.now();
  await relay.start();
  await waitFor(
    () => {
      const log = readFileSync(files.daemonLog, "utf8");
      return log.includes("watching home directories for ambient activity") && log.includes('"bustled started"');
    },
    120_000,
    "bustled watching every home, its spool reader started",
    100,
  );
  const pid = relay.pid!;
  const atReady = usage(pid);
  console.log(
    `bustled ready (ambient watching ${HOMES} homes) after ${fmt((Date.now() - started) / 1000)} s: RSS ${fmt(atReady.rssMb)} MB, CPU ${fmt(atReady.cpuS, 2)} s`,
  );

  const count = lineCounter(files.log, MARK);
  const samples: Sample[] = [];
  let written = 0;
  let changes = 0;
  const began = Date.now();
  const end = began + MINUTES * 60_000;
  let nextSample = began;
  while (Date.now() < end) {
    const now = Date.now();
    if (now >= nextSample) {
      const u = usage(pid);
      samples.push({ t: (now - began) / 1000, ...u, delivered: count().marked, written });
      const s = samples[samples.length - 1]!;
      console.log(
        `  t=${fmt(s.t, 0).padStart(4)} s  RSS ${fmt(s.rssMb).padStart(6)} MB  CPU ${fmt(s.cpuS, 1).padStart(6)} s  lines written ${s.written}, in bustle.log ${s.delivered}`,
      );
      nextSample += SAMPLE_MS;
    }
    // Catch up to the schedule, but never more than a second's worth at once (after a stall).
    const due = Math.min(RATE, Math.floor(((now - began) / 1000) * RATE) - written);
    for (let k = 0; k < due; k++, written++) {
      appendFileSync(
        join(homes, benchUser(written % SPOOLERS), ".bustle.spool"),
        `${MARK}${written} a steady line from the soak benchmark\n`,
      );
    }
    const dueChanges = Math.floor(((now - began) / 1000) * AMBIENT_RATE) - changes;
    for (let k = 0; k < dueChanges; k++, changes++) {
      // Homes without a spool, round the tilde: each user's first change is an event (up to the cap).
      const user = benchUser(SPOOLERS + (changes % Math.max(1, HOMES - SPOOLERS)));
      appendFileSync(join(homes, user, changes % 2 ? "projects" : "public_html", "file1.txt"), "a change\n");
    }
    await sleep(10);
  }
  const lastWritten = written;
  await waitFor(() => count().marked >= lastWritten, 60_000, "every spool line in bustle.log", 200).catch(() => {});
  const final = usage(pid);
  const { marked: delivered, other: ambientEvents } = count();
  samples.push({ t: (Date.now() - began) / 1000, ...final, delivered, written });

  table(
    ["t s", "RSS MB", "CPU s", "lines written", "in bustle.log"],
    samples.map((s) => [fmt(s.t, 0), fmt(s.rssMb), fmt(s.cpuS, 1), s.written, s.delivered]),
  );
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third).map((s) => s.rssMb);
  const last = samples.slice(2 * third).map((s) => s.rssMb);
  const peak = Math.max(...samples.map((s) => s.rssMb));
  const tail = samples.slice(third);
  const mbPerMin = slope(
    tail.map((s) => s.t / 60),
    tail.map((s) => s.rssMb),
  );
  const cpuPerEvent = ((final.cpuS - atReady.cpuS) * 1000) / Math.max(1, delivered);
  const drift = middle.length && last.length ? mean(last) / mean(middle) - 1 : NaN;
  const bound = peak < BOUND_MB;
  const flat = Math.abs(drift) <= FLAT_TOLERANCE;
  const kept = delivered >= written;
  console.log(
    `RSS: peak ${fmt(peak)} MB (bound < ${BOUND_MB}) ${bound ? "ok" : "MISSED"}; middle third ${fmt(mean(middle))} MB, last third ${fmt(mean(last))} MB: ` +
      `${drift >= 0 ? "+" : ""}${fmt(drift * 100)}% (flat within ±${FLAT_TOLERANCE * 100}%) ${flat ? "ok" : "MISSED"}; slope over the last two thirds ${fmt(mbPerMin, 2)} MB/min`,
  );
  console.log(
    `events: ${written} spool lines written, ${delivered} in bustle.log ${kept ? "(all)" : "(NOT all: the relay fell behind)"}; ${ambientEvents} ambient events; ` +
      `bustled CPU ${fmt(final.cpuS - atReady.cpuS, 1)} s after ready = ${fmt(cpuPerEvent, 3)} ms per event (${fmt(((final.cpuS - atReady.cpuS) / ((Date.now() - began) / 1000)) * 100, 0)}% of a core)`,
  );
  console.log(`soak ${bound && flat && kept ? "PASSED" : "FAILED"}`);
  await relay.stop();
  if (!(bound && flat && kept)) process.exitCode = 1;
} finally {
  await relay?.kill(); // and waited for: it must not write into the folder being removed
  await server.stop();
  dir.remove();
}
