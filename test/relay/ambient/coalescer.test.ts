import { test } from "node:test";
import assert from "node:assert/strict";
import { createCoalescer } from "../../../relay/ambient/coalescer.js";

test("ambient coalescer - one event per user and kind per window", () => {
  const c = createCoalescer({ windowMs: 10_000, maxPerMinute: 100 });
  assert.equal(c.offer("alice", "activity", 0), "emit");
  for (let t = 1; t < 100; t++) assert.equal(c.offer("alice", "activity", t * 50), "coalesced");
  assert.equal(c.offer("alice", "publish", 5000), "emit", "another kind has its own window");
  assert.equal(c.offer("bob", "activity", 5000), "emit", "another user has their own window");
  assert.equal(c.offer("alice", "activity", 10_000), "emit", "the window closes");
  const s = c.takeSummary(10_000)!;
  assert.equal(s.coalesced, 99);
  assert.deepEqual(s.coalescedBy, { alice: { activity: 99 } });
  assert.equal(c.takeSummary(10_001), undefined, "counts reset after a summary");
});

test("ambient coalescer - the tilde-wide cap drops and counts, without closing the user's window", () => {
  const c = createCoalescer({ windowMs: 1000, maxPerMinute: 3 });
  assert.equal(c.offer("a", "k", 0), "emit");
  assert.equal(c.offer("b", "k", 1), "emit");
  assert.equal(c.offer("c", "k", 2), "emit");
  assert.equal(c.offer("d", "k", 3), "dropped");
  assert.equal(c.offer("d", "k", 59_999), "dropped");
  assert.equal(c.offer("d", "k", 60_000), "emit", "the first event left the minute");
  const s = c.takeSummary(60_000)!;
  assert.equal(s.dropped, 2);
  assert.deepEqual(s.droppedBy, { d: { k: 2 } });
});
