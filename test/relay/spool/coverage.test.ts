// The spool reader beside another watcher that covers homes (in bustled: the ambient watcher,
// which pokes the reader when a spool changes): which homes the reader still watches itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { symlinkSync } from "node:fs";
import { waitFor } from "../../../cluster/wait-for.js";
import { ownWatchCount } from "../../../relay/ambient/inotify.js";
import { createReader, fixture, recordingSink, startReader, texts, waitAudit, waitEvents } from "./helpers.js";

const NO_RESCAN = 3_600_000; // only inotify and pokes can deliver a line in these tests

const watches = (): number => ownWatchCount() ?? NaN;

test("spool - a home another watcher covers has no watch of the reader's own until it has a spool, and is taken back when let go", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  for (const u of ["alice", "bob", "carol", "erin"]) f.home(u);
  const covered = new Set(["alice", "bob"]);
  const base = watches();
  const r = await startReader(f, { rescanMs: NO_RESCAN, watchedElsewhere: (u) => covered.has(u) });
  t.after(() => r.reader.stop());
  assert.equal(watches(), base + 3, "the homes root, carol and erin; not alice or bob");

  f.append("carol", "carol's own watch\n");
  await waitEvents(r.sink, 1, "carol's line, seen by the reader's own watch");

  // alice's first spool is reported by the other watcher (its poke); from then on the reader
  // watches her home itself too (fast, and not subject to the other watcher's batching).
  f.append("alice", "first spool\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 2, "alice's first line, after the other watcher's poke");
  await waitFor(() => watches() === base + 4, 5_000, "a watch of alice's home, now that she has a spool");
  f.append("alice", "no poke needed\n");
  await waitEvents(r.sink, 3, "alice's second line, without a poke");

  // The other watcher lets bob go (its watch failed): a line written just before is not lost,
  // and the reader watches bob's home itself from now on.
  f.append("bob", "in the gap\n");
  covered.delete("bob");
  r.reader.rewatch("bob");
  await waitEvents(r.sink, 4, "bob's line written while neither watched");
  assert.equal(watches(), base + 5);
  f.append("bob", "the reader's own watch\n");
  await waitEvents(r.sink, 5, "bob's next line, without a poke");

  // erin (no spool) becomes covered: the reader drops its watch; bob covered again keeps his (a spool).
  covered.add("erin");
  r.reader.rewatch("erin");
  covered.add("bob");
  r.reader.rewatch("bob");
  assert.equal(watches(), base + 4);
  assert.deepEqual(texts(r.sink), [
    "~carol carol's own watch",
    "~alice first spool",
    "~alice no poke needed",
    "~bob in the gap",
    "~bob the reader's own watch",
  ]);
});

test("spool - a change noticed while the reader starts is read once it has started", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("bob");
  f.append("bob", "");
  await (await startReader(f)).reader.stop(); // an offsets file: the next start reads new spools from their beginning
  f.home("alice");
  f.append("alice", "old\n");
  const sink = recordingSink();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered = false;
  const submit = sink.submit.bind(sink);
  sink.submit = async (events) => {
    entered = true;
    await gate; // the start's first read is held here
    return submit(events);
  };
  // Covered elsewhere and no spool read yet: only the poke can tell the reader about the line.
  const { reader } = createReader(f, { sink, rescanMs: NO_RESCAN, watchedElsewhere: () => true });
  t.after(() => reader.stop());
  const started = reader.start();
  await waitFor(() => entered, 10_000, "the start's first read at the sink");
  f.append("alice", "new while starting\n"); // after the read took the file's size
  reader.poke("alice"); // the other watcher's hook
  release();
  await started;
  await waitEvents(sink, 2, "the line written while the reader started");
  assert.deepEqual(texts(sink), ["~alice old", "~alice new while starting"]);
});

test("spool - the rescan finds a first spool nobody reported, and still refuses a symlinked one", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  for (const u of ["alice", "mallory"]) f.home(u);
  // Covered elsewhere, and that watcher says nothing: only the rescan can find these.
  const r = await startReader(f, { rescanMs: 200, watchedElsewhere: () => true });
  t.after(() => r.reader.stop());
  f.append("alice", "found by the rescan\n");
  symlinkSync("/etc/passwd", f.spool("mallory"));
  await waitEvents(r.sink, 1, "alice's line");
  await waitAudit(r, (x) => x.reason === "spool-symlink" && x.actor === "mallory", "the symlinked spool refused");
  assert.deepEqual(texts(r.sink), ["~alice found by the rescan"]);
});
