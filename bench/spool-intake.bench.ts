/**
 * The spool reader's own cost per line, in-process and hot: a real reader on a real spool, one
 * line appended at a time and waited for (inotify → check → submit), into a sink that keeps
 * nothing, or into a real outbox (its journal on disk) with INTAKE_OUTBOX=1. CPU and garbage per
 * line are the code's, not this machine's wake-ups (docs/BENCHMARKS.md, the node section of
 * 2026-12-02: a wake-up of a relay costs far more on this VM than the intake's code).
 * Usage: npm run bench spool-intake (only by name)   (INTAKE_LINES (8000), INTAKE_ROUNDS (3), INTAKE_OUTBOX)
 */
import { chownSync, closeSync, fchownSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { BustleEvent } from "../cluster/envelope.js";
import { silentLogger } from "../cluster/logger.js";
import { tempDir } from "../cluster/temp.js";
import { memoryAudit } from "../relay/audit.js";
import type { EventSink } from "../relay/event-sink.js";
import { openOutbox } from "../relay/outbox.js";
import { createSpoolReader } from "../relay/spool/spool-reader.js";
import { fmt, table } from "./lib/stats.js";

const LINES = Number(process.env.INTAKE_LINES ?? 8000);
const ROUNDS = Number(process.env.INTAKE_ROUNDS ?? 3);
const WITH_OUTBOX = process.env.INTAKE_OUTBOX === "1";
const WARM_LINES = 2000;
const USER_UID = 1001;

/** One round: µs of CPU per line. */
async function round(): Promise<{ us: number }> {
  const dir = tempDir("bustle-bench-intake-");
  const home = join(dir.path, "home", "alice");
  mkdirSync(home, { recursive: true });
  chownSync(home, USER_UID, USER_UID);
  const fd = openSync(join(home, ".bustle.spool"), "a", 0o644);
  fchownSync(fd, USER_UID, USER_UID);
  let count = 0;
  let want = 0;
  let wake: (() => void) | undefined;
  const counted = (events: readonly BustleEvent[]) => {
    count += events.length;
    if (count >= want) wake?.();
  };
  const outbox = WITH_OUTBOX ? await openOutbox(join(dir.path, "state", "outbox"), silentLogger) : undefined;
  const sink: EventSink = outbox
    ? { submit: (e) => outbox.submit(e).then(() => counted(e)), flushed: () => outbox.flushed() }
    : { submit: async (e) => counted(e), flushed: async () => {} };
  const audit = { ...memoryAudit(), event: () => {} }; // records nothing: the audit is not measured here
  const reader = createSpoolReader({
    node: "town",
    idKey: Buffer.alloc(32, 7),
    homesRoot: join(dir.path, "home"),
    stateDir: join(dir.path, "state"),
    log: silentLogger,
    rate: { burst: 1e9, perMinute: 1e10 },
    maxLineBytes: 8192,
    rescanMs: 600_000,
    sink,
    audit,
  });
  const keepAlive = setInterval(() => {}, 1000); // the reader's watchers do not hold the process
  try {
    await reader.start();
    const line = Buffer.from(`steady ${"x".repeat(160)}\n`);
    const step = () =>
      new Promise<void>((r) => {
        want = count + 1;
        wake = r;
        writeSync(fd, line);
      });
    for (let i = 0; i < WARM_LINES; i++) await step();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < LINES; i++) await step();
    const cpu = process.cpuUsage(cpu0);
    return { us: (cpu.user + cpu.system) / LINES };
  } finally {
    clearInterval(keepAlive);
    await reader.stop();
    await outbox?.close();
    closeSync(fd);
    dir.remove();
  }
}

console.log(
  `spool intake alone: ${LINES} lines one at a time after ${WARM_LINES} of warm-up, ${ROUNDS} rounds, sink: ${WITH_OUTBOX ? "a real outbox" : "none"}`,
);
const us: number[] = [];
for (let r = 0; r < ROUNDS; r++) us.push((await round()).us);
const sorted = [...us].sort((a, b) => a - b);
table(
  ["CPU µs/line (median)", "rounds"],
  [[fmt(sorted[Math.floor(sorted.length / 2)]!, 1), us.map((x) => fmt(x, 1)).join(" / ")]],
);
