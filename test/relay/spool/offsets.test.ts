import { test } from "node:test";
import assert from "node:assert/strict";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import {
  hashTail,
  loadOffsets,
  OffsetsWriter,
  ReadPosition,
  tailMatches,
  type SpoolPosition,
} from "../../../relay/spool/offsets-store.js";
import { createReader, fixture } from "./helpers.js";

const savedOffset = (state: string, user: string): number | undefined => {
  const loaded = loadOffsets(state);
  return loaded.kind === "loaded" ? loaded.positions.get(user)?.offset : undefined;
};

test("spool offsets - a position taken while reading keeps the bytes before it; the file gets their hash", async (t) => {
  const dir = tempDir("bustle-offsets-");
  t.after(() => dir.remove());
  const before = Buffer.from("x".repeat(60) + "end\n");
  const positions = new Map<string, SpoolPosition>([["alice", new ReadPosition(1, 2, 3, 640, before)]]);
  await new OffsetsWriter(dir.path, () => positions).save();
  const loaded = loadOffsets(dir.path);
  assert.equal(loaded.kind, "loaded");
  const p = loaded.kind === "loaded" ? loaded.positions.get("alice") : undefined;
  assert.deepEqual(p, { dev: 1, ino: 2, tail: hashTail(before), generation: 3, offset: 640 });
  // Either form says whether the bytes before the offset are still the same ones.
  const changed = Buffer.from(before);
  changed[10] = 0x79;
  for (const pos of [positions.get("alice")!, p!]) {
    assert.equal(tailMatches(pos, before), true);
    assert.equal(tailMatches(pos, changed), false);
  }
});

test("spool offsets - a save resolves once written, not after the pause; saveNow ends the pause", {
  timeout: 20_000,
}, async (t) => {
  const dir = tempDir("bustle-offsets-");
  t.after(() => dir.remove());
  const at = (offset: number): SpoolPosition => ({ dev: 1, ino: 2, tail: "t", generation: 0, offset });
  const positions = new Map([["alice", at(10)]]);
  // A pause far longer than the test may take: only saveNow lets the second save through.
  const writer = new OffsetsWriter(dir.path, () => positions, undefined, undefined, 600_000);
  await writer.save();
  assert.equal(savedOffset(dir.path, "alice"), 10);
  positions.set("alice", at(20));
  let second = false;
  const pending = writer.save().then(() => (second = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false, "a save within the pause waits for it");
  assert.equal(savedOffset(dir.path, "alice"), 10);
  positions.set("alice", at(30));
  await writer.saveNow();
  await pending;
  assert.equal(savedOffset(dir.path, "alice"), 30, "the newest positions");
});

test("spool - stopping saves the newest offsets while a save waits out its pause", { timeout: 30_000 }, async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  const { reader, sink } = createReader(f);
  await reader.start();
  f.append("alice", "one\n");
  reader.poke("alice");
  await waitFor(() => savedOffset(f.state, "alice") === 4, 20_000, "the first offset saved", 5);
  f.append("alice", "two\n"); // its save falls in the pause after the first one
  reader.poke("alice");
  await waitFor(() => sink.events.length === 2, 20_000, "the second line read", 5);
  await reader.stop();
  assert.equal(savedOffset(f.state, "alice"), 8);
});
