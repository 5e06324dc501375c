/**
 * Disk faults, writer by writer, on a real full filesystem (a small tmpfs): the outbox journal,
 * the audit log, the spool offsets, bustle.log, its index and its position. Each one holds what it could
 * not write, reports the fault once, cuts any partial record back, and finishes by itself once
 * space returns — no torn record, nothing lost, nothing doubled, nothing thrown. Where a full
 * filesystem never refuses a write (an overwrite in place), the kernel's file size limit cuts
 * it short instead.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { encodeEvent, makeEvent, subjectOf, type BustleEvent } from "../../../cluster/envelope.js";
import { createLogger } from "../../../cluster/logger.js";
import { startBus, type Bus } from "../../support/bus.js";
import { tempDir } from "../../../cluster/temp.js";
import { sleep, waitFor } from "../../../cluster/wait-for.js";
import { openAuditLog } from "../../../relay/audit.js";
import { createDiskFaults, readDiskFault, withDiskRetry } from "../../../relay/disk-fault.js";
import { logLine } from "../../../cluster/envelope.js";
import { makeWithdrawal, withdrawalOf } from "../../../cluster/withdraw.js";
import { applyWithdrawal } from "../../../relay/log-withdraw.js";
import { createLogWriter } from "../../../relay/log-writer.js";
import { indexPathOf, openLogIndexWriter, parseIndexRecord } from "../../../relay/log-index.js";
import { openOutbox } from "../../../relay/outbox.js";
import { memoryAudit } from "../../../relay/audit.js";
import { loadOffsets, OffsetsWriter, type SpoolPosition } from "../../../relay/spool/offsets-store.js";
import { logLines, textOf } from "../support.js";
import { limitFileSize, mountSmallFs, recordingLogger, type SmallFs } from "./small-fs.js";

const FS_BYTES = 512 * 1024;
let fs: SmallFs | undefined;
let skip: string | false = false;
const work = tempDir("bustle-disk-");
before(() => {
  const m = mountSmallFs(FS_BYTES);
  if ("skip" in m) skip = m.skip;
  else fs = m;
});
const allFaults: Array<ReturnType<typeof createDiskFaults>> = [];
after(() => {
  for (const f of allFaults) f.abandon(); // a failed test must not leave writers retrying
  fs?.remove();
  work.remove();
});

const ev = (n: number, pad = 0): BustleEvent =>
  makeEvent({
    node: "town",
    source: "spool",
    kind: "update",
    actor: "alice",
    text: `~alice line ${n}${" x".repeat(pad)}`,
    id: `disk-event-${n}`,
  });

/** A writer's folder on the small filesystem (or, for the file size limit's tests, on `base`). */
function setup(name: string, base = fs!.path) {
  const rec = recordingLogger();
  const log = createLogger({ write: rec.write, level: "debug" });
  const dir = join(base, name);
  const faults = createDiskFaults(log, dir);
  allFaults.push(faults);
  const loud = () => rec.lines.filter((l) => typeof l.msg === "string" && l.msg.startsWith("DISK FAULT"));
  return { rec, log, dir, faults, loud };
}

/** Every line of a file ends with \n and parses as JSON. */
function jsonLines(file: string): Array<Record<string, unknown>> {
  const text = readFileSync(file, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), `${file} ends with a whole line`);
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("disk full - the outbox holds submits while the journal cannot grow, cuts the torn record, and finishes", async (t) => {
  if (skip) return t.skip(skip);
  const { log, dir, faults, loud } = setup("outbox");
  const outbox = await openOutbox(dir, log, faults);
  await outbox.submit([ev(0)]);
  fs!.fill();
  try {
    let done = false;
    // Big enough to need new pages: the write comes up short or fails.
    const big = Array.from({ length: 40 }, (_, i) => ev(i + 1, 200));
    const submitted = outbox.submit(big).then(() => (done = true));
    await waitFor(() => faults.active, 10_000, "the outbox to report the disk fault");
    await sleep(700); // a few retries under the fault
    assert.equal(done, false, "the submit waits while the disk is full");
    assert.equal(loud().length, 1, "the fault is said once");
    assert.equal(readDiskFault(dir)?.path, join(dir, "outbox.jsonl"), "the fault file names the journal");
    fs!.free();
    await submitted;
    assert.equal(faults.active, false);
    assert.equal(readDiskFault(dir), undefined, "the fault file is cleared");
  } finally {
    fs!.free();
  }
  await outbox.flushed();
  await outbox.close();
  const ids = jsonLines(join(dir, "outbox.jsonl")).map((r) => (r.e as BustleEvent).id);
  assert.deepEqual(
    ids,
    Array.from({ length: 41 }, (_, i) => `disk-event-${i}`),
    "every event once, in order, no torn record",
  );
  const again = await openOutbox(dir, log);
  assert.equal(again.size, 41);
  await again.close();
});

test("disk full - the audit log never throws, completes a short record, and writes everything once space returns", async (t) => {
  if (skip) return t.skip(skip);
  const { log, dir, faults, loud } = setup("audit");
  const file = join(dir, "audit.log");
  const audit = openAuditLog(file, { log, faults });
  audit.note("before");
  await sleep(20);
  fs!.fill();
  try {
    for (let i = 0; i < 300; i++) audit.note("while full", { i, pad: "y".repeat(100) });
    await waitFor(() => faults.active, 10_000, "the audit writer to report the disk fault");
    await sleep(500);
    assert.equal(loud().length, 1, "the fault is said once");
  } finally {
    fs!.free();
  }
  await waitFor(() => !faults.active, 10_000, "the audit writer to recover");
  audit.close();
  const records = jsonLines(file);
  assert.deepEqual(
    records.map((r) => r.i ?? r.what),
    ["before", ...Array.from({ length: 300 }, (_, i) => i)],
    "every record once, in order, none torn",
  );
});

test("disk full - spool offsets wait for space (the old file stays whole), then save the newest positions", async (t) => {
  if (skip) return t.skip(skip);
  const { dir, faults, loud } = setup("offsets");
  const positions = new Map<string, SpoolPosition>();
  const at = (offset: number) => ({ dev: 1, ino: 2, tail: "t", generation: 0, offset });
  positions.set("alice", at(10));
  const writer = new OffsetsWriter(
    dir,
    () => positions,
    async () => {},
    faults,
  );
  await writer.save();
  fs!.fill();
  let saved = false;
  try {
    for (let i = 0; i < 300; i++) positions.set(`user${i}`, at(i)); // a file too big for what is left
    positions.set("alice", at(99));
    const p = writer.save().then(() => (saved = true));
    await waitFor(() => faults.active, 10_000, "the offsets writer to report the disk fault");
    await sleep(500);
    assert.equal(saved, false);
    assert.equal(loud().length, 1);
    const old = loadOffsets(dir);
    assert.equal(old.kind, "loaded", "the old offsets file is intact");
    if (old.kind === "loaded") assert.equal(old.positions.get("alice")?.offset, 10);
    fs!.free();
    await p;
  } finally {
    fs!.free();
  }
  const now = loadOffsets(dir);
  assert.equal(now.kind, "loaded");
  if (now.kind === "loaded") {
    assert.equal(now.positions.get("alice")?.offset, 99);
    assert.equal(now.positions.size, 301);
  }
  assert.equal(existsSync(join(dir, "spool-offsets.json.tmp")), false, "no temporary file left taking space");
});

let bus: Bus | undefined;
after(async () => {
  for (const f of allFaults) f.abandon();
  await bus?.close();
});

/** The index of `logPath` holds exactly one whole record per line, at that line's offset, with its event's id. */
function assertIndexWhole(logPath: string, ids: string[]): void {
  const log = readFileSync(logPath);
  const text = readFileSync(indexPathOf(logPath), "utf8");
  assert.ok(text.endsWith("\n"), "the index ends with a whole record");
  const records = text.split("\n").slice(0, -1);
  const lines: Array<{ offset: number; length: number }> = [];
  for (let at = 0; at < log.length; ) {
    const end = log.indexOf(0x0a, at);
    lines.push({ offset: at, length: end - at });
    at = end + 1;
  }
  assert.equal(records.length, lines.length, "one record per line, none torn or doubled");
  records.forEach((r, i) => {
    const e = parseIndexRecord(r);
    assert.deepEqual(
      e && { offset: e.offset, length: e.length, id: e.id, kind: e.kind },
      { ...lines[i], id: ids[i], kind: "update" },
      `record ${i} (${JSON.stringify(r)}) is its line's`,
    );
  });
}

test("disk full - bustle.log, its index and its position: no torn line or record, every event once in order after space returns", async (t) => {
  if (skip) return t.skip(skip);
  const { log, dir, faults, loud } = setup("log");
  bus = await startBus(work.path, "disk-writers");
  const js = jetstream(bus.nc);
  const publish = async (from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      const e = ev(i, 30);
      await js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id });
    }
  };
  const logPath = join(dir, "bustle.log");
  const writer = createLogWriter({ logPath, stateDir: dir, node: "town", audit: memoryAudit(), log, faults });
  t.after(() => writer.stop());
  await writer.start(bus.nc);
  await publish(0, 50);
  await waitFor(() => writer.position >= 50, 10_000, "the first 50 events in the log");
  fs!.fill();
  try {
    await publish(50, 2_000); // ~180 KB of lines: far more than fits
    await waitFor(() => faults.active, 10_000, "the log writer to report the disk fault");
    await sleep(1_000);
    assert.equal(
      loud().length >= 1 && loud().length <= 2,
      true,
      "said once per path (the log, maybe its position file)",
    );
    const fault = readDiskFault(dir);
    assert.ok(
      fault && (fault.path === logPath || fault.path.endsWith("log-position.json")),
      "the fault file names the path",
    );
    const text = readFileSync(logPath, "utf8");
    assert.ok(text.endsWith("\n"), "no torn line while the disk is full");
  } finally {
    fs!.free();
  }
  await waitFor(() => writer.position >= 2_050, 30_000, "every event in the log after space returned");
  const expected = Array.from({ length: 2_050 }, (_, i) => ev(i, 30).text);
  const text = readFileSync(logPath, "utf8");
  assert.ok(text.endsWith("\n"));
  assert.deepEqual(logLines(logPath).map(textOf), expected, "every line once, in order");
  assertIndexWhole(
    logPath,
    Array.from({ length: 2_050 }, (_, i) => `disk-event-${i}`),
  );
  assert.equal(faults.active, false);
});

test("short write - an index record cut short is cut back and written again whole, the log line after it", async (t) => {
  const { log, dir, faults, loud } = setup("index-short", work.path);
  const own = await startBus(join(work.path, "index-short-bus"), "index-short"); // a server of its own
  t.after(() => own.close());
  const js = jetstream(own.nc);
  const publish = async (from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      const e = ev(i, 30);
      await js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id });
    }
  };
  const logPath = join(dir, "bustle.log");
  const writer = createLogWriter({ logPath, stateDir: dir, node: "town", audit: memoryAudit(), log, faults });
  t.after(() => writer.stop());
  await writer.start(own.nc);
  await publish(0, 20);
  await waitFor(() => writer.position >= 20, 10_000, "the first 20 events in the log");
  // The next record reaches past the limit (cut short); the log, longer than its index, is past it.
  const lift = limitFileSize(statSync(indexPathOf(logPath)).size + 10);
  try {
    await publish(20, 20);
    await waitFor(() => faults.active, 10_000, "the log writer to report the fault");
    await sleep(700); // a few retries under the fault
    assert.equal(loud().length >= 1 && loud().length <= 2, true, "said once per path");
    assert.ok(readFileSync(logPath, "utf8").endsWith("\n"), "no torn line");
  } finally {
    lift();
  }
  await waitFor(() => writer.position >= 40, 30_000, "every event in the log once the limit is lifted");
  await waitFor(() => !faults.active, 10_000, "the fault to be over");
  assert.deepEqual(
    logLines(logPath).map(textOf),
    Array.from({ length: 40 }, (_, i) => ev(i, 30).text),
    "every line once, in order",
  );
  assertIndexWhole(
    logPath,
    Array.from({ length: 40 }, (_, i) => `disk-event-${i}`),
  );
});

test("short write - a withdrawal's marker cut short is a disk fault, retried until the whole line is blanked", async () => {
  const { rec, log, dir, faults } = setup("withdraw-short", work.path);
  const logPath = join(dir, "bustle.log");
  const events = [ev(0, 20), ev(1, 20), ev(2, 20)];
  const lines = events.map(logLine);
  const index = await openLogIndexWriter(logPath, 0, false);
  index.append(
    0,
    lines,
    events.map((e) => ({ id: e.id, source: e.source, kind: e.kind, actor: e.actor })),
  );
  await index.close();
  appendFileSync(logPath, lines.join(""));
  const before = readFileSync(logPath, "utf8");
  const audit = memoryAudit();
  const w = withdrawalOf(makeWithdrawal({ node: "town", target: events[1]!.id, reason: "test", by: "root" }))!;

  // The limit falls inside the target's text: the marker's write comes up short.
  const lift = limitFileSize(Buffer.byteLength(lines[0]!) + 40);
  let done = false;
  const applied = withDiskRetry(faults, logPath, async () => applyWithdrawal(logPath, w, audit, log)).then(
    () => (done = true),
  );
  try {
    await waitFor(() => faults.active, 10_000, "the withdrawal's short write reported as a disk fault");
    await sleep(500); // retried under the fault
    assert.equal(done, false, "not done while the write comes up short");
    const said = rec.lines.filter((l) => typeof l.msg === "string" && l.msg.startsWith("DISK FAULT"));
    assert.equal(said.length, 1, "said once");
    assert.equal(said[0]!.code, "ESHORTWRITE", "as a short write of the log");
    assert.equal(
      audit.records.some((r) => r.what === "withdrawn"),
      false,
      "not said withdrawn while only part of the marker is written",
    );
  } finally {
    lift();
  }
  await applied;
  assert.equal(faults.active, false, "the fault is over");
  const after = readFileSync(logPath, "utf8").split("\n");
  const was = before.split("\n");
  assert.equal(after[0], was[0], "the line before is untouched");
  assert.equal(after[2], was[2], "the line after is untouched");
  assert.equal(Buffer.byteLength(after[1]!), Buffer.byteLength(was[1]!), "the blanked line keeps its length");
  assert.match(textOf(after[1]!), /^-- withdrawn -+$/, "the whole text is blanked");
  assert.equal(audit.records.filter((r) => r.what === "withdrawn").length, 1, "withdrawn is said once");
});
