import { test } from "node:test";
import assert from "node:assert/strict";
import { SendQueue, defaultSummary, type QueueClock } from "../../../bots/irc/send-queue.js";

/** A manual clock: timers run when the test advances time. */
function fakeClock() {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let next = 0;
  const clock: QueueClock = {
    now: () => now,
    setTimer(fn, ms) {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return () => (timers = timers.filter((t) => t.id !== id));
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const t = timers[0];
      if (!t || t.at > end) break;
      timers.shift();
      now = t.at;
      t.fn();
    }
    now = end;
  };
  return { clock, advance };
}

function setup(opts: { burst?: number; perMs?: number; capacity?: number; ready?: (t: string) => boolean } = {}) {
  const { clock, advance } = fakeClock();
  const sent: Array<{ t: number; target: string; line: string }> = [];
  const q = new SendQueue({
    burst: opts.burst ?? 3,
    perMs: opts.perMs ?? 1000,
    capacity: opts.capacity ?? 5,
    summary: defaultSummary,
    send: (target, line) => sent.push({ t: clock.now(), target, line }),
    ...(opts.ready ? { ready: opts.ready } : {}),
    clock,
  });
  return { q, sent, advance };
}

test("irc queue - sends a burst at once, then one line per period", () => {
  const { q, sent, advance } = setup();
  q.resume();
  for (let i = 0; i < 5; i++) q.enqueue("#a", [`l${i}`]);
  assert.deepEqual(
    sent.map((s) => s.line),
    ["l0", "l1", "l2"],
  );
  advance(999);
  assert.equal(sent.length, 3);
  advance(1);
  assert.equal(sent.length, 4);
  advance(1000);
  assert.deepEqual(
    sent.map((s) => s.t),
    [0, 0, 0, 1000, 2000],
  );
});

test("irc queue - a burst ends in one summary instead of a backlog", () => {
  const { q, sent, advance } = setup({ burst: 2, capacity: 3 });
  q.resume();
  for (let i = 0; i < 1000; i++) q.enqueue("#a", [`e${i}`]);
  advance(60_000);
  const lines = sent.map((s) => s.line);
  assert.equal(lines.length, 2 + 3 + 1);
  assert.equal(lines.at(-1), "…and 995 more things happened");
  assert.equal(q.pending, 0);
  assert.equal(q.unsummarised, 0);
});

test("irc queue - events are queued whole or not at all", () => {
  const { q, sent, advance } = setup({ burst: 1, capacity: 4 });
  q.resume();
  q.enqueue("#a", ["a1"]); // sent at once
  assert.equal(q.enqueue("#a", ["b1", "b2", "b3"]), true);
  assert.equal(q.enqueue("#a", ["c1", "c2"]), false);
  advance(10_000);
  assert.deepEqual(
    sent.map((s) => s.line),
    ["a1", "b1", "b2", "b3", "…and 1 more thing happened"],
  );
});

test("irc queue - nothing is written while paused or before the target is ready", () => {
  const joined = new Set<string>();
  const { q, sent, advance } = setup({ ready: (t) => joined.has(t) });
  q.enqueue("#a", ["x"]);
  q.enqueue("#b", ["y"]);
  advance(5000);
  assert.equal(sent.length, 0, "paused");
  q.resume();
  assert.equal(sent.length, 0, "no channel joined yet");
  joined.add("#b");
  q.resume();
  assert.deepEqual(
    sent.map((s) => s.line),
    ["y"],
  );
  q.pause();
  joined.add("#a");
  advance(5000);
  assert.equal(sent.length, 1);
  q.resume();
  assert.deepEqual(
    sent.map((s) => s.line),
    ["y", "x"],
  );
});

test("irc queue - summaries are per target", () => {
  const { q, sent, advance } = setup({ burst: 1, capacity: 2 });
  q.resume();
  for (let i = 0; i < 4; i++) {
    q.enqueue("#a", [`a${i}`]);
    q.enqueue("#b", [`b${i}`]);
  }
  advance(60_000);
  const a = sent.filter((s) => s.target === "#a").map((s) => s.line);
  const b = sent.filter((s) => s.target === "#b").map((s) => s.line);
  assert.equal(a.at(-1), "…and 2 more things happened");
  assert.equal(b.at(-1), "…and 3 more things happened");
  assert.equal(a.length - 1 + 2, 4);
  assert.equal(b.length - 1 + 3, 4);
});
