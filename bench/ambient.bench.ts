/**
 * The ambient watcher on a big tilde, beside bare uses of the libraries on the same tree:
 * 5,000 homes × 20 files in 3 subfolders (20,001 directories, 100,000 files). For each subject,
 * in its own process: time until ready, RSS once ready, inotify watches, and change → event
 * latency p50/p99 (each sample is the first change of a user, so no coalescing window is in it).
 * Subjects: bustle's watcher; @parcel/watcher bare (one subscription on the root), and bare with
 * the ignore expression bustle's watcher gives it (`parcel+ignore`: what skipping dot-directories
 * costs in the library's crawl); Node's fs.watch({recursive}); chokidar 4.
 * Start-up figures swing by a third between runs on a shared machine, so the subjects the aims
 * compare (bustle, parcel, parcel+ignore) run AMBIENT_ROUNDS times, in a rotating order, after
 * the tree is synced to disk and crawled once unmeasured (every subject then starts on the same
 * warm caches): the table gives their medians, and the ratios are the medians of each round's
 * own ratio (both subjects under that round's load). The latency samples are the first round's.
 * Usage: npm run bench ambient   or   node build/<dir>/bench/ambient.bench.js
 *   AMBIENT_HOMES (5000), AMBIENT_SAMPLES (200), AMBIENT_ROUNDS (3),
 *   AMBIENT_SUBJECTS (bustle,parcel,parcel+ignore,fs.watch,chokidar)
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, watch } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import parcel from "@parcel/watcher";
import { createLogger } from "../cluster/logger.js";
import { tempDir } from "../cluster/temp.js";
import { memoryAudit } from "../relay/audit.js";
import { DEFAULT_AMBIENT_RULES } from "../relay/ambient/config.js";
import { ignoreOption } from "../relay/ambient/home-watch.js";
import { ownWatchCount } from "../relay/ambient/inotify.js";
import { compileRules, unwatchedInRoot } from "../relay/ambient/rules.js";
import { createAmbientWatcher } from "../relay/ambient/watcher.js";
import { benchUser, makeHomeTree } from "./lib/home-tree.js";
import { fmt, median, summarize, table } from "./lib/stats.js";

const HOMES = Number(process.env.AMBIENT_HOMES ?? 5000);
const SAMPLES = Math.min(HOMES, Number(process.env.AMBIENT_SAMPLES ?? 200));
const SUBJECTS = (process.env.AMBIENT_SUBJECTS ?? "bustle,parcel,parcel+ignore,fs.watch,chokidar").split(",");
const ROUNDS = Math.max(1, Number(process.env.AMBIENT_ROUNDS ?? 3));
/** Measured every round; the comparison libraries (tens of seconds each) only in the first. */
const REPEATED = new Set(["bustle", "parcel", "parcel+ignore"]);
const SUBJECT_TIMEOUT_MS = 150_000;
const user = benchUser;

interface Result {
  subject: string;
  readyMs: number;
  /** CPU time (all threads) until ready: steadier than wall time on a shared machine. */
  cpuMs: number;
  rssMb: number;
  watches: number | undefined;
  latencies: number[];
  missed: number;
}

/** A subject: starts watching `root`, calls `hit(user)` for each change it reports; resolves when ready. */
type Subject = (root: string, hit: (user: string) => void) => Promise<void>;

const userOf = (rel: string): string => rel.split(sep)[0] ?? "";

/** The library bare: one subscription on the root. */
const bareParcel =
  (options: parcel.Options): Subject =>
  async (root, hit) => {
    await parcel.subscribe(
      root,
      (err, events) => {
        if (err) console.error(err.message);
        for (const e of events) hit(userOf(e.path.slice(root.length + 1)));
      },
      options,
    );
  };

const subjects: Record<string, Subject> = {
  bustle: async (root, hit) => {
    const watcher = createAmbientWatcher({
      node: "bench",
      homesRoot: root,
      audit: memoryAudit(),
      config: { enabled: true, window: 600_000, max_per_minute: 100_000, rules: DEFAULT_AMBIENT_RULES, exclude: [] },
      sink: {
        submit: async (events) => {
          for (const e of events) if (e.actor) hit(e.actor);
        },
      },
      log: createLogger({ level: "warn" }),
    });
    await watcher.start();
  },
  parcel: bareParcel({}),
  "parcel+ignore": bareParcel(ignoreOption(unwatchedInRoot(compileRules(DEFAULT_AMBIENT_RULES), []))),
  "fs.watch": async (root, hit) => {
    // No ready signal: ready is when a change in the last home created is reported.
    let probeSeen = false;
    const last = user(HOMES - 1);
    watch(root, { recursive: true }, (_t, name) => {
      const u = userOf(String(name ?? ""));
      if (u === last) probeSeen = true;
      else hit(u);
    });
    const probe = join(root, last, "notes", "file2.txt");
    while (!probeSeen) {
      appendFileSync(probe, "probe\n");
      await new Promise((r) => setTimeout(r, 20));
    }
  },
  chokidar: async (root, hit) => {
    const { watch: chokidarWatch } = await import("chokidar");
    const w = chokidarWatch(root, { ignoreInitial: true });
    w.on("all", (_ev, path) => hit(userOf(path.slice(root.length + 1))));
    await new Promise<void>((r) => w.on("ready", () => r()));
  },
};

/** Runs in the child: one subject, then SAMPLES sequential first-changes of distinct users. */
async function runSubject(name: string, root: string): Promise<void> {
  const began = performance.now();
  const waiting = new Map<string, (at: number) => void>();
  await subjects[name]!(root, (u) => waiting.get(u)?.(performance.now()));
  const readyMs = performance.now() - began;
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const rssMb = process.memoryUsage().rss / 1048576;
  const watches = ownWatchCount();
  const latencies: number[] = [];
  let missed = 0;
  const step = Math.max(1, Math.floor(HOMES / SAMPLES));
  for (let s = 0; s < SAMPLES; s++) {
    const u = user((s * step) % (HOMES - 1)); // never the last home (fs.watch's probe)
    const seen = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2000);
      waiting.set(u, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
    const t0 = performance.now();
    appendFileSync(join(root, u, "projects", "file1.txt"), `change ${s}\n`);
    const at = await seen;
    waiting.delete(u);
    if (at === undefined) missed++;
    else latencies.push(at - t0);
    await new Promise((r) => setTimeout(r, 10));
  }
  const result: Result = { subject: name, readyMs, cpuMs, rssMb, watches, latencies, missed };
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0); // the watchers keep the loop alive on purpose
}

function runChild(name: string, root: string, samples = SAMPLES): Promise<Result | string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--subject", name, root], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, AMBIENT_SAMPLES: String(samples) },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => void (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), SUBJECT_TIMEOUT_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as Result);
      } catch {
        resolve(signal === "SIGKILL" ? `killed after ${SUBJECT_TIMEOUT_MS / 1000} s` : `exit ${code ?? signal}`);
      }
    });
  });
}

async function main(): Promise<void> {
  const tmp = tempDir("bustle-ambient-bench-");
  const cleanup = () => tmp.remove();
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    const root = join(tmp.path, "home");
    const t = performance.now();
    makeHomeTree(root, HOMES);
    console.log(
      `tree: ${HOMES} homes × 20 files in 3 subfolders (${HOMES * 4 + 1} directories, ${HOMES * 20} files), made in ${fmt((performance.now() - t) / 1000)} s; ${SAMPLES} latency samples per subject; load average ${fmt(loadavg()[0]!)} on ${cpus().length} cores`,
    );
    // The tree's 100,000 new files written back and its inodes in the cache before anything is timed.
    spawnSync("sync");
    await runChild("parcel", root, 0);
    const runs = new Map<string, Result[]>(); // subject → its result in each round it ran
    const failed = new Map<string, string>();
    for (let round = 0; round < ROUNDS; round++) {
      const names = SUBJECTS.filter((n) => round === 0 || REPEATED.has(n));
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) {
        if (failed.has(name)) continue;
        const r = await runChild(name, root, round === 0 ? SAMPLES : 0);
        if (typeof r === "string") failed.set(name, r);
        else runs.set(name, [...(runs.get(name) ?? []), r]);
      }
    }
    const rows: Array<Array<string | number>> = [];
    for (const name of SUBJECTS) {
      const why = failed.get(name);
      const rs = runs.get(name);
      if (why || !rs) {
        rows.push([name, why ?? "not run", "", "", "", "", "", ""]);
        continue;
      }
      const l = summarize(rs[0]!.latencies);
      rows.push([
        name,
        fmt(median(rs.map((r) => r.readyMs)) / 1000, 2),
        fmt(median(rs.map((r) => r.cpuMs)) / 1000, 2),
        fmt(median(rs.map((r) => r.rssMb)), 0),
        rs[0]!.watches ?? "?",
        fmt(l.p50),
        fmt(l.p99),
        rs[0]!.missed,
      ]);
    }
    console.log(
      `medians of ${ROUNDS} round(s) for ${[...REPEATED].filter((n) => SUBJECTS.includes(n)).join(", ")}; load average now ${fmt(loadavg()[0]!)}`,
    );
    table(["subject", "ready s", "CPU s to ready", "RSS MB", "inotify watches", "p50 ms", "p99 ms", "missed"], rows);
    for (const name of SUBJECTS) {
      const rs = runs.get(name);
      if (rs && rs.length > 1)
        console.log(`${name} CPU s to ready by round: ${rs.map((r) => fmt(r.cpuMs / 1000, 2)).join(" / ")}`);
    }
    /** The median over rounds of a/b, each round's pair measured under the same load. */
    const ratio = (a: string, b: string, of: (r: Result) => number): number | undefined => {
      const ra = runs.get(a);
      const rb = runs.get(b);
      if (!ra || !rb) return undefined;
      return median(ra.slice(0, rb.length).map((r, i) => of(r) / of(rb[i]!)));
    };
    const ours = runs.get("bustle");
    if (ours) {
      const readyMs = median(ours.map((r) => r.readyMs));
      const rssMb = median(ours.map((r) => r.rssMb));
      const l = summarize(ours[0]!.latencies);
      const aims = [
        `ready ${fmt(readyMs / 1000, 2)} s (aim < 10) ${readyMs < 10_000 ? "ok" : "MISSED"}`,
        `RSS ${fmt(rssMb, 0)} MB (aim < 250) ${rssMb < 250 ? "ok" : "MISSED"}`,
        `p99 ${fmt(l.p99)} ms (aim < 250) ${l.p99 < 250 && ours[0]!.missed === 0 ? "ok" : "MISSED"}`,
      ];
      console.log(`bustle watcher: ${aims.join("; ")}`);
      const cpu = ratio("bustle", "parcel", (r) => r.cpuMs);
      const rss = ratio("bustle", "parcel", (r) => r.rssMb);
      if (cpu !== undefined && rss !== undefined)
        console.log(
          `against the bare library: CPU to ready ${fmt(cpu, 2)}× (aim ≤ 1.5) ${cpu <= 1.5 ? "ok" : "MISSED"}; RSS ${fmt(rss, 2)}× (aim ≤ 1.3) ${rss <= 1.3 ? "ok" : "MISSED"}`,
        );
      const ignoring = ratio("parcel+ignore", "parcel", (r) => r.cpuMs);
      const oursOverIgnoring = ratio("bustle", "parcel+ignore", (r) => r.cpuMs);
      if (ignoring !== undefined && oursOverIgnoring !== undefined)
        console.log(
          `of that, the library with bustle's ignore expression alone: CPU to ready ${fmt(ignoring, 2)}× the bare library; bustle ${fmt(oursOverIgnoring, 2)}× that`,
        );
    }
  } finally {
    cleanup();
  }
}

if (process.argv[2] === "--subject") await runSubject(process.argv[3]!, process.argv[4]!);
else await main();
