import { test } from "node:test";
import assert from "node:assert/strict";
import { Headlines } from "../../../bots/quakeworld/headlines.js";

const snap = (players: number, map = "dm4", maxclients = 4) => ({ players, map, maxclients });

test("quakeworld headlines - the first poll is a baseline; a change is said once it held for two polls", () => {
  const h = new Headlines({ name: "qw", windowMs: 0 });
  assert.equal(h.observe(snap(2), 0), undefined, "a restarted bot does not announce what is going on");
  assert.equal(h.observe(snap(0), 1), undefined);
  assert.equal(h.observe(snap(0), 2)?.text, "nobody is fragging on qw any more");
  assert.equal(h.observe(snap(1), 3), undefined, "one poll is not enough");
  assert.equal(
    h.observe(snap(3), 4)?.text,
    "3 players are fragging on qw (dm4)",
    "arrivals over two polls become one line",
  );
  assert.equal(h.observe(snap(2), 5), undefined, "a count change on the same map is not news");
  assert.equal(h.observe(snap(4), 6), undefined);
  assert.equal(h.observe(snap(4), 7)?.text, "qw is full: 4 players are fragging (dm4)");
  assert.equal(h.observe(snap(3, "e1m2"), 8), undefined);
  assert.equal(h.observe(snap(3, "e1m2"), 9)?.text, "3 players are fragging on qw (e1m2)", "a map change");
  for (let t = 10; t < 30; t++) assert.equal(h.observe(snap(3, "e1m2"), t), undefined, "never one per poll");
});

test("quakeworld headlines - at most one line per window; changes in between are coalesced", () => {
  const h = new Headlines({ name: "qw", windowMs: 60_000 });
  h.observe(snap(0), 0);
  h.observe(snap(1), 1_000);
  assert.equal(h.observe(snap(1), 2_000)?.text, "1 player is fragging on qw (dm4)");
  h.observe(snap(0), 3_000);
  assert.equal(h.observe(snap(0), 4_000), undefined, "inside the window");
  h.observe(snap(2, "dm6"), 5_000);
  assert.equal(h.observe(snap(2, "dm6"), 50_000), undefined);
  assert.equal(
    h.observe(snap(2, "dm6"), 62_001)?.text,
    "2 players are fragging on qw (dm6)",
    "the latest state after the window",
  );
});
