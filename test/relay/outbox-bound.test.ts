/**
 * The outbox's bound: past `maxPending` held events a submit waits until acknowledgements bring
 * the count below it (backpressure, never loss), and the node says so once when it fills and
 * once when it has drained.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BustleEvent } from "../../cluster/envelope.js";
import { createLogger, silentLogger } from "../../cluster/logger.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { numberedEvent } from "./support.js";
import { openOutbox, type Outbox } from "../../relay/outbox.js";
import { OutboxBound, OutboxStopping } from "../../relay/outbox-bound.js";

const ev = numberedEvent;
const batch = (from: number, n: number): BustleEvent[] => Array.from({ length: n }, (_, i) => ev(from + i));

/** A logger that keeps its records, to check what was said and how often. */
function recording() {
  const lines: Array<{ level: string; msg: string } & Record<string, unknown>> = [];
  const log = createLogger({ write: (l) => lines.push(JSON.parse(l) as (typeof lines)[number]) });
  const said = (re: RegExp) => lines.filter((l) => re.test(l.msg));
  return { log, lines, said };
}

/** Settles `p` or reports that it is still waiting after the outbox's write cycles ran. */
async function settledSoon(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return done;
}

const journalEvents = (dir: string): number =>
  readFileSync(join(dir, "outbox.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith('{"e":')).length;

test("outbox - past its bound a submit waits for acknowledgements; it never holds more than the bound", async () => {
  const dir = tempDir();
  let o: Outbox | undefined;
  try {
    o = await openOutbox(dir.path, silentLogger, undefined, { maxPending: 10 });
    const outbox = o;
    // 30 events in batches of 3, all at once, as eight spool checks and the ambient watcher would.
    const submits = Array.from({ length: 10 }, (_, i) => outbox.submit(batch(i * 3, 3)));
    let resolved = 0;
    for (const p of submits) void p.then(() => resolved++);
    await waitFor(() => outbox.size === 10, 2_000, "the outbox to fill to its bound");
    assert.equal(await settledSoon(submits[9]!), false, "the last submit waits");
    assert.equal(outbox.size, 10, "it holds the bound, not more");
    assert.equal(journalEvents(dir.path), 10, "and so does the journal");
    assert.equal(outbox.full, true);
    // Each acknowledgement lets one more event in (a batch is let in piece by piece), oldest first.
    const acked: string[] = [];
    while (acked.length < 30) {
      const oldest = outbox.pending()[0]!;
      outbox.ack([oldest.id]);
      acked.push(oldest.id);
      const expect = Math.min(10, 30 - acked.length);
      await waitFor(() => outbox.size === expect, 2_000, `the outbox to hold ${expect}`);
      assert.ok(journalEvents(dir.path) - acked.length <= 10, "the journal never holds more than the bound unsettled");
    }
    await Promise.all(submits);
    assert.equal(resolved, 10);
    assert.deepEqual(
      acked,
      batch(0, 30).map((e) => e.id),
      "every event went through, in submission order",
    );
  } finally {
    await o?.close();
    dir.remove();
  }
});

test("outbox - says once that it is full and once that it drained, each time it fills", async () => {
  const dir = tempDir();
  const rec = recording();
  let o: Outbox | undefined;
  try {
    o = await openOutbox(dir.path, rec.log, undefined, { maxPending: 4 });
    const outbox = o;
    await outbox.submit(batch(0, 4));
    assert.equal(outbox.full, false, "exactly at the bound nothing waits yet");
    const waiting = [outbox.submit(batch(4, 2)), outbox.submit(batch(6, 2)), outbox.submit(batch(8, 2))];
    assert.equal(await settledSoon(waiting[0]!), false, "a submit past the bound waits");
    assert.equal(outbox.full, true);
    assert.equal(rec.said(/^outbox full/).length, 1, "the warning is said once");
    assert.match(
      rec.said(/^outbox full/)[0]!.msg,
      /outbox full: 4 events waiting for NATS; spools are read again once it drains/,
    );
    assert.equal(rec.said(/^outbox full/)[0]!.level, "warn");
    // Acknowledge one at a time: the waiting batches are let in, the warning is not repeated.
    for (let n = 0; n < 10; n++) {
      await waitFor(() => outbox.pending().some((e) => e.id === `event-id-${n}`), 2_000, `ev-${n} to be held`);
      outbox.ack([`event-id-${n}`]);
    }
    await Promise.all(waiting);
    assert.equal(outbox.size, 0);
    await waitFor(() => !outbox.full, 5_000, "the outbox to count as drained after its quiet second");
    assert.equal(rec.said(/^outbox full/).length, 1, "said once for the whole episode");
    assert.equal(rec.said(/^outbox drained/).length, 1, "the drain is said once");
    // A second episode is said again.
    await outbox.submit(batch(20, 4));
    const again = outbox.submit(batch(24, 1));
    assert.equal(await settledSoon(again), false);
    assert.equal(rec.said(/^outbox full/).length, 2);
    outbox.ack(batch(20, 4).map((e) => e.id));
    await again;
  } finally {
    await o?.close();
    dir.remove();
  }
});

test("outbox - a journal holding more than the bound is loaded whole at start; new submits wait until it drains", async () => {
  const dir = tempDir();
  let o: Outbox | undefined;
  try {
    const big = await openOutbox(dir.path, silentLogger);
    for (let i = 0; i < 5; i++) await big.submit(batch(i * 4, 4));
    await big.close();
    o = await openOutbox(dir.path, silentLogger, undefined, { maxPending: 8 });
    const outbox = o;
    assert.equal(outbox.size, 20, "every journalled event is loaded, past the bound too");
    const later = outbox.submit([ev(100)]);
    assert.equal(await settledSoon(later), false, "a new submit waits");
    outbox.ack(batch(0, 13).map((e) => e.id));
    await later;
    assert.equal(outbox.size, 8);
  } finally {
    await o?.close();
    dir.remove();
  }
});

test("outbox - stopping rejects the submits waiting for room (their lines stay in the spools) and later ones that would wait", async () => {
  const dir = tempDir();
  let o: Outbox | undefined;
  try {
    o = await openOutbox(dir.path, silentLogger, undefined, { maxPending: 2 });
    const outbox = o;
    await outbox.submit(batch(0, 2));
    const waiting = outbox.submit([ev(2)]);
    assert.equal(await settledSoon(waiting), false);
    outbox.abandonWaits();
    await assert.rejects(waiting, /stopping/);
    await assert.rejects(outbox.submit([ev(3)]), /stopping/);
    assert.equal(outbox.size, 2, "what it held stays held (it is in the journal)");
  } finally {
    await o?.close();
    dir.remove();
  }
});

test("outbox bound - a batch bigger than the bound goes in piece by piece and settles once its last piece is written", async () => {
  const written: string[][] = [];
  const dones: Array<(err?: unknown) => void> = [];
  let pending = 0;
  const rec = recording();
  const bound = new OutboxBound({
    max: 4,
    quietMs: 1,
    log: rec.log,
    pendingCount: () => pending,
    write(events, done) {
      written.push(events.map((e) => e.id));
      dones.push((err) => {
        if (!err) pending += events.length;
        done(err);
      });
    },
  });
  const results: Array<string> = [];
  bound.submit(batch(0, 3), (err) => results.push(err ? "a failed" : "a"));
  bound.submit(batch(3, 6), (err) => results.push(err ? "b failed" : "b"));
  assert.deepEqual(written, [batch(0, 3).map((e) => e.id), ["event-id-3"]], "the big batch is cut at the bound");
  assert.equal(bound.held, 4);
  assert.equal(bound.full, true);
  for (const d of dones.splice(0)) d();
  assert.deepEqual(results, ["a"], "the big batch waits for the rest of its pieces");
  pending -= 3; // three acknowledged
  bound.freed();
  assert.deepEqual(written.at(-1), ["event-id-4", "event-id-5", "event-id-6"]);
  for (const d of dones.splice(0)) d();
  pending -= 3;
  bound.freed();
  assert.deepEqual(written.at(-1), ["event-id-7", "event-id-8"]);
  assert.equal(bound.full, true, "still full: nobody waits, but it has not drained to half the bound");
  for (const d of dones.splice(0)) d();
  assert.deepEqual(results, ["a", "b"]);
  pending = 1;
  bound.freed();
  bound.submit(batch(30, 4), () => {}); // waits again within the quiet time: the same episode
  pending = 0;
  for (const d of dones.splice(0)) d();
  pending = 0;
  bound.freed();
  await waitFor(() => !bound.full, 2_000, "drained");
  assert.equal(rec.said(/^outbox full/).length, 1, "one episode, said once");
  assert.equal(rec.said(/^outbox drained/).length, 1);
  for (const d of dones.splice(0)) d();
  pending = 0;
  // A write that fails frees its room at once, and the failure reaches its submit.
  bound.submit(batch(20, 3), (err) => results.push(err ? "c failed" : "c"));
  dones.splice(0)[0]!(new Error("disk"));
  assert.equal(bound.held, 0);
  assert.deepEqual(results, ["a", "b", "c failed"]);
});

test("outbox bound - abandon rejects a half-admitted submit once its admitted pieces are written", () => {
  const dones: Array<(err?: unknown) => void> = [];
  const bound = new OutboxBound({
    max: 2,
    log: silentLogger,
    pendingCount: () => 0,
    write: (_events, done) => dones.push(done),
  });
  let result = "waiting" as unknown;
  bound.submit(batch(0, 5), (err) => (result = err));
  assert.equal(dones.length, 1, "two let in");
  bound.abandon();
  assert.equal(result, "waiting", "its admitted piece is still being written");
  dones[0]!();
  assert.ok((result as unknown) instanceof OutboxStopping, "then it rejects: its spool offset stays");
  bound.submit(batch(10, 1), () => {});
  assert.equal(dones.length, 2, "a submit that fits still goes in");
});
