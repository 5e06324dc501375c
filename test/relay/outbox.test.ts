import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../cluster/logger.js";
import { tempDir } from "../../cluster/temp.js";
import { numberedEvent } from "./support.js";
import { openOutbox } from "../../relay/outbox.js";

const ev = numberedEvent;

test("outbox - unacknowledged events survive a reopen, in order; acknowledged ones do not", async () => {
  const dir = tempDir();
  try {
    const a = await openOutbox(dir.path, silentLogger);
    await a.submit([ev(1), ev(2)]);
    await a.submit([ev(3)]);
    a.ack(["event-id-2"]);
    await a.close();
    const b = await openOutbox(dir.path, silentLogger);
    assert.deepEqual(
      b.pending().map((e) => e.text),
      ["~alice line 1", "~alice line 3"],
    );
    await b.close();
  } finally {
    dir.remove();
  }
});

test("outbox - a resubmitted id is kept once, and a torn journal line is skipped", async () => {
  const dir = tempDir();
  try {
    const a = await openOutbox(dir.path, silentLogger);
    await a.submit([ev(1)]);
    await a.submit([ev(1), ev(2)]);
    assert.equal(a.size, 2);
    await a.close();
    appendFileSync(join(dir.path, "outbox.jsonl"), '{"e":{"v":1,"id":"torn');
    const b = await openOutbox(dir.path, silentLogger);
    assert.deepEqual(
      b.pending().map((e) => e.id),
      ["event-id-1", "event-id-2"],
    );
    b.ack(["event-id-1", "event-id-2"]);
    await b.close();
    assert.equal(
      readFileSync(join(dir.path, "outbox.jsonl"), "utf8"),
      "",
      "journal is compacted once everything is acknowledged",
    );
  } finally {
    dir.remove();
  }
});

test("outbox - flushed() resolves once what was submitted before it is on disk, and survives a reopen", async () => {
  const dir = tempDir();
  try {
    const a = await openOutbox(dir.path, silentLogger);
    const submits = [a.submit([ev(1)]), a.submit([ev(2), ev(3)])];
    const flushed = a.flushed();
    await Promise.all(submits);
    await flushed;
    assert.equal(
      readFileSync(join(dir.path, "outbox.jsonl"), "utf8").trim().split("\n").length,
      3,
      "three journal lines before flushed() resolved",
    );
    a.ack(["event-id-1", "event-id-2", "event-id-3"]);
    await a.flushed(); // after everything settled (the journal was rewritten empty)
    await a.submit([ev(4)]);
    await a.flushed();
    await a.close();
    const b = await openOutbox(dir.path, silentLogger);
    assert.deepEqual(
      b.pending().map((e) => e.id),
      ["event-id-4"],
    );
    await b.close();
  } finally {
    dir.remove();
  }
});

test("outbox - a settled journal is not rewritten at every acknowledgement (only past 1 MiB, and at close)", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "outbox.jsonl");
    const a = await openOutbox(dir.path, silentLogger);
    const ino = statSync(path).ino;
    for (let n = 1; n <= 20; n++) {
      await a.submit([ev(n)]);
      a.ack([`event-id-${n}`]);
      await a.flushed(); // the ack record goes out with this cycle's write
    }
    assert.equal(a.size, 0);
    assert.equal(statSync(path).ino, ino, "the same journal file: no rewrite (tmp, fsync, rename) per settled event");
    await a.close();
    assert.equal(readFileSync(path, "utf8"), "", "rewritten empty at close");
    const b = await openOutbox(dir.path, silentLogger);
    assert.equal(b.size, 0);
    await b.close();
  } finally {
    dir.remove();
  }
});
