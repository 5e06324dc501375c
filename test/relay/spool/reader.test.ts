import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stableEventId } from "../../../cluster/envelope.js";
import { fixture, recordingSink, startReader, TEST_ID_KEY, texts, waitAudit, waitEvents } from "./helpers.js";

test("spool - renders updates, shouts and anonymous shouts", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const r = await startReader(f);
  t.after(() => r.reader.stop());
  const before = Date.now();
  f.append(
    "alice",
    'made tea\n{"kind":"update","text":"json update","anon":true}\n{"kind":"shout","text":"hi world"}\n{"kind":"shout","text":"who am i","anon":true}\n',
  );
  r.reader.poke("alice");
  await waitEvents(r.sink, 4);
  assert.deepEqual(texts(r.sink), [
    "~alice made tea",
    "~alice json update",
    "~alice shouts, 'HI WORLD'",
    "someone shouts, 'WHO AM I'",
  ]);
  assert.deepEqual(
    r.sink.events.map((e) => [e.kind, e.actor, e.source, e.node]),
    [
      ["update", "alice", "spool", "town"],
      ["update", "alice", "spool", "town"],
      ["shout", "alice", "spool", "town"],
      ["shout", null, "spool", "town"],
    ],
  );
  assert.equal(r.sink.events[0]!.id, stableEventId(TEST_ID_KEY, "town", "alice", 0, 0));
  assert.equal(r.sink.events[1]!.id, stableEventId(TEST_ID_KEY, "town", "alice", 0, "made tea\n".length));
  assert.ok(Date.parse(r.sink.events[0]!.ts) >= before - 5, "ts is when the line was read");
  const anon = r.audit.records.find((x) => x.type === "event" && x.id === r.sink.events[3]!.id);
  assert.equal(anon?.actor, "alice", "the audit keeps the real user of an anonymous shout");
});

test("spool - reads only complete lines (a partial line waits for its end)", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const r = await startReader(f);
  t.after(() => r.reader.stop());
  f.append("alice", "one\nhal");
  r.reader.poke("alice");
  await waitEvents(r.sink, 1); // the reader has seen the file with "hal" in it
  f.append("alice", "f a line\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 2);
  assert.deepEqual(texts(r.sink), ["~alice one", "~alice half a line"]);
  assert.equal(r.sink.events[1]!.id, stableEventId(TEST_ID_KEY, "town", "alice", 0, 4));
});

test("spool - truncation starts a new generation from the beginning", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const r = await startReader(f);
  t.after(() => r.reader.stop());
  f.append("alice", "first\nsecond\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 2);
  truncateSync(f.spool("alice"), 0);
  f.append("alice", "third\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 3);
  assert.deepEqual(texts(r.sink), ["~alice first", "~alice second", "~alice third"]);
  assert.equal(r.sink.events[2]!.id, stableEventId(TEST_ID_KEY, "town", "alice", 1, 0));
  assert.notEqual(r.sink.events[2]!.id, r.sink.events[0]!.id);
  await waitAudit(r, (x) => x.what === "spool-truncated", "a truncation note");
});

test("spool - rotation (a new file) starts a new generation from the beginning", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const r = await startReader(f);
  t.after(() => r.reader.stop());
  f.append("alice", "old file\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 1);
  renameSync(f.spool("alice"), f.spool("alice") + ".1");
  f.append("alice", "new file\nand more\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 3);
  assert.deepEqual(texts(r.sink), ["~alice old file", "~alice new file", "~alice and more"]);
  assert.equal(r.sink.events[1]!.id, stableEventId(TEST_ID_KEY, "town", "alice", 1, 0));
});

test("spool - offsets survive a restart: no duplicate, no gap, same ids after a crash", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const offsets = join(f.state, "spool-offsets.json");
  const r1 = await startReader(f);
  f.append("alice", "a\nb\n");
  r1.reader.poke("alice");
  await waitEvents(r1.sink, 2);
  await r1.reader.stop();
  copyFileSync(offsets, offsets + ".saved"); // the state after a and b
  const r2 = await startReader(f);
  f.append("alice", "c\nd\n");
  r2.reader.poke("alice");
  await waitEvents(r2.sink, 2);
  await r2.reader.stop();
  f.append("alice", "e\n"); // written while the relay is down
  const r3 = await startReader(f);
  await waitEvents(r3.sink, 1);
  await r3.reader.stop();
  assert.deepEqual(
    [...texts(r1.sink), ...texts(r2.sink), ...texts(r3.sink)],
    ["a", "b", "c", "d", "e"].map((x) => `~alice ${x}`),
  );
  assert.equal(JSON.parse(readFileSync(offsets, "utf8")).spools.alice.offset, 10);

  // A crash after c and d were submitted but before their offset was saved: they are read
  // again with the same ids (JetStream drops the copies).
  renameSync(offsets + ".saved", offsets);
  const r4 = await startReader(f);
  t.after(() => r4.reader.stop());
  await waitEvents(r4.sink, 3);
  assert.deepEqual(
    r4.sink.events.map((e) => e.id),
    [...r2.sink.events, ...r3.sink.events].map((e) => e.id),
  );
});

test("spool - first start reads existing spools from their end; later spools from their beginning", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  f.home("carol");
  f.append("alice", "history\nmore history\nhalf");
  const r1 = await startReader(f);
  f.append("alice", " a line\n"); // completes the line in progress at start-up
  f.home("bob");
  f.append("bob", "bob was here before the reader looked\n");
  r1.reader.poke();
  await waitEvents(r1.sink, 2);
  assert.deepEqual(texts(r1.sink).sort(), ["~alice half a line", "~bob bob was here before the reader looked"]);
  await r1.reader.stop();
  f.append("carol", "written while the relay was down\n");
  const r2 = await startReader(f);
  t.after(() => r2.reader.stop());
  await waitEvents(r2.sink, 1);
  assert.deepEqual(texts(r2.sink), ["~carol written while the relay was down"]);
});

test("spool - each user has their own rate limit; the excess is audited, not published", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  f.home("bob");
  const r = await startReader(f, { rate: { burst: 3, perMinute: 0.01 } }); // no refill while the test runs, however slow the machine
  f.append("alice", Array.from({ length: 10 }, (_, i) => `alice ${i}\n`).join(""));
  f.append("bob", "bob 0\nbob 1\n");
  r.reader.poke();
  await waitEvents(r.sink, 5);
  await r.reader.stop(); // flushes the drop summary
  assert.deepEqual(
    texts(r.sink).filter((x) => x.startsWith("~alice")),
    ["~alice alice 0", "~alice alice 1", "~alice alice 2"],
  );
  assert.deepEqual(
    texts(r.sink).filter((x) => x.startsWith("~bob")),
    ["~bob bob 0", "~bob bob 1"],
  );
  const limited = r.audit.records.filter((x) => x.reason === "rate-limited");
  assert.ok(limited.every((x) => x.actor === "alice"));
  const dropped = limited.reduce((n, x) => n + (typeof x.dropped === "number" ? x.dropped : 1), 0);
  assert.equal(dropped, 7);
});

test("spool - inotify notices new lines and new homes without a poke", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const r = await startReader(f, { rescanMs: 600_000 });
  t.after(() => r.reader.stop());
  f.append("alice", "seen by inotify\n");
  await waitEvents(r.sink, 1);
  f.home("dave");
  f.append("dave", "new home\n");
  await waitEvents(r.sink, 2);
  assert.deepEqual(texts(r.sink), ["~alice seen by inotify", "~dave new home"]);
});

test("spool - a failing sink is retried with the same ids, in order, never concurrently", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const sink = recordingSink(2);
  const r = await startReader(f, { sink });
  t.after(() => r.reader.stop());
  sink.failNext = 1;
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${"x".repeat(40)}\n`);
  f.append("alice", lines.join(""));
  r.reader.poke("alice");
  for (let i = 0; i < 5; i++) r.reader.poke("alice");
  await waitEvents(r.sink, 3000);
  assert.ok(sink.batches > 1, "several batches");
  assert.equal(sink.overlaps, 0);
  assert.deepEqual(
    texts(r.sink),
    lines.map((l) => `~alice ${l.trimEnd()}`),
  );
  assert.equal(new Set(r.sink.events.map((e) => e.id)).size, 3000);
});

test("spool - keeps running while the homes root is missing", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  rmSync(f.homes, { recursive: true });
  const r = await startReader(f, { rescanMs: 100 });
  t.after(() => r.reader.stop());
  mkdirSync(f.homes);
  f.home("alice");
  f.append("alice", "the homes are back\n");
  await waitEvents(r.sink, 1);
  assert.deepEqual(texts(r.sink), ["~alice the homes are back"]);
});

test("spool - a corrupt offsets file is moved aside and the reader starts", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  mkdirSync(f.state, { recursive: true });
  writeFileSync(join(f.state, "spool-offsets.json"), "{not json");
  f.append("alice", "old\n");
  const r = await startReader(f);
  t.after(() => r.reader.stop());
  f.append("alice", "new\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 1);
  assert.deepEqual(texts(r.sink), ["~alice new"]);
  assert.ok(r.audit.records.some((x) => x.what === "spool-offsets-corrupt"));
});

test("spool - a spool replaced or refilled while the reader was down is read from its beginning", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  f.home("bob");
  f.home("carol");
  const r1 = await startReader(f);
  f.append("alice", "a\n");
  f.append("bob", "b\n");
  f.append("carol", "first\n");
  r1.reader.poke();
  await waitEvents(r1.sink, 3);
  await r1.reader.stop();
  truncateSync(f.spool("carol"), 0); // refilled with a newline exactly where the offset was
  f.append("carol", "other\nnext\n");
  truncateSync(f.spool("alice"), 0); // same inode, refilled past the old offset
  f.append("alice", "refilled and longer\n");
  rmSync(f.spool("bob")); // a new file, perhaps on the same inode number
  f.append("bob", "a new file, longer\n");
  const r2 = await startReader(f);
  t.after(() => r2.reader.stop());
  await waitEvents(r2.sink, 4);
  assert.deepEqual(texts(r2.sink).sort(), [
    "~alice refilled and longer",
    "~bob a new file, longer",
    "~carol next",
    "~carol other",
  ]);
  assert.deepEqual(
    r2.sink.events.map((e) => e.id).sort(),
    [
      stableEventId(TEST_ID_KEY, "town", "alice", 1, 0),
      stableEventId(TEST_ID_KEY, "town", "bob", 1, 0),
      stableEventId(TEST_ID_KEY, "town", "carol", 1, 0),
      stableEventId(TEST_ID_KEY, "town", "carol", 1, 6),
    ].sort(),
  );
});
