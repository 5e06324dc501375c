import { test } from "node:test";
import assert from "node:assert/strict";
import { RetryQueue, type DropReason, type Outcome } from "../../../bots/webhook/retry-queue.js";

function queue(send: (item: number, attempt: number) => Outcome, capacity = 3, attempts = 3) {
  const drops: Array<[number, DropReason]> = [];
  const tried: Array<[number, number]> = [];
  const q = new RetryQueue<number>({
    capacity,
    attempts,
    initialMs: 1,
    maxMs: 5,
    send: async (item, attempt) => {
      tried.push([item, attempt]);
      return send(item, attempt);
    },
    onDrop: (item, reason) => drops.push([item, reason]),
  });
  return { q, drops, tried };
}

test("retry queue - retries until success, in order", async () => {
  const { q, tried } = queue((_i, attempt) =>
    attempt < 3 ? { ok: false, retry: true, reason: "down" } : { ok: true },
  );
  q.push(1);
  q.push(2);
  await q.idle();
  assert.deepEqual(tried, [
    [1, 1],
    [1, 2],
    [1, 3],
    [2, 1],
    [2, 2],
    [2, 3],
  ]);
  assert.equal(q.delivered, 2);
});

test("retry queue - drops the oldest waiting when full, gives up after the attempts, drops refusals at once", async () => {
  const { q, drops } = queue(
    (i) => (i === 4 ? { ok: false, retry: false, reason: "404" } : { ok: false, retry: true, reason: "down" }),
    2,
    2,
  );
  for (const i of [1, 2, 3, 4]) q.push(i);
  await q.idle();
  assert.deepEqual(drops, [
    [2, "queue_full"],
    [3, "queue_full"],
    [1, "gave_up"],
    [4, "refused"],
  ]);
  assert.deepEqual(q.dropped, { queue_full: 2, gave_up: 1, refused: 1, stopped: 0 });
});

test("retry queue - backoff doubles up to the cap, with jitter within ±25%", () => {
  const q = new RetryQueue<number>({
    capacity: 1,
    attempts: 1,
    initialMs: 100,
    maxMs: 1000,
    send: async () => ({ ok: true }),
    onDrop: () => {},
    random: () => 0.5,
  });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 9].map((a) => q.backoffMs(a)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test("retry queue - stop hands back what is still waiting", async () => {
  const { q } = queue(() => ({ ok: false, retry: true, reason: "down" }), 10, 100);
  q.push(1);
  q.push(2);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(q.stop(), [1, 2]);
});
