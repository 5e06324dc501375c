/**
 * Ambient events while the outbox is full (a long NATS outage): the watcher holds at most
 * MAX_WAITING_EVENTS waiting for the sink; past that new ones are dropped, said once, and
 * counted in one audit note once the sink takes events again. Plain objects at the seams.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { BustleEvent } from "../../../cluster/envelope.js";
import { createLogger } from "../../../cluster/logger.js";
import type { Audit } from "../../../relay/audit.js";
import { createActivity, MAX_WAITING_EVENTS } from "../../../relay/ambient/activity.js";
import { createCoalescer } from "../../../relay/ambient/coalescer.js";
import { DEFAULT_AMBIENT_RULES } from "../../../relay/ambient/config.js";
import type { Home } from "../../../relay/ambient/homes.js";
import { compileRules } from "../../../relay/ambient/rules.js";

test("ambient - a full outbox: at most MAX_WAITING_EVENTS wait, the rest are dropped, said once and audit-noted once", async () => {
  const held: Array<{ events: readonly BustleEvent[]; take: () => void }> = [];
  const notes: Array<{ what: string; details: Record<string, unknown> | undefined }> = [];
  const recorded: BustleEvent[] = [];
  const audit: Audit = {
    event: (e) => recorded.push(e),
    rejected: () => {},
    note: (what, details) => notes.push({ what, details }),
    reopen: () => {},
    close: () => {},
  };
  const said: string[] = [];
  const activity = createActivity({
    node: "town",
    rules: compileRules(DEFAULT_AMBIENT_RULES),
    coalescer: createCoalescer({ windowMs: 600_000, maxPerMinute: 100_000 }),
    // A full outbox: nothing is taken until the test says so.
    sink: { submit: (events) => new Promise<void>((take) => held.push({ events, take })) },
    audit,
    log: createLogger({ write: (l) => said.push((JSON.parse(l) as { msg: string }).msg) }),
    clock: () => 1_000_000,
    windowMs: 600_000,
    onHomeGone: () => {},
  });
  // One change each in MAX_WAITING_EVENTS + 25 homes: one "activity" event per user.
  const users = Array.from({ length: MAX_WAITING_EVENTS + 25 }, (_, i) => `user${i}`);
  for (const user of users) {
    const home: Home = {
      user,
      path: `/nonexistent/${user}`,
      real: `/nonexistent/${user}`,
      identity: user,
      listable: true,
    };
    activity.handle(home, [{ path: `${home.real}/notes.txt`, type: "update" }]);
  }
  const waiting = held.reduce((n, h) => n + h.events.length, 0);
  assert.equal(waiting, MAX_WAITING_EVENTS, "the watcher holds no more than its bound");
  assert.equal(said.filter((m) => /new ambient events are dropped/.test(m)).length, 1, "dropping is said once");
  assert.equal(notes.length, 0, "counted, not yet noted: the outbox is still full");
  for (const h of held) h.take();
  await activity.idle();
  assert.equal(recorded.length, MAX_WAITING_EVENTS, "what waited went in");
  const note = notes.find((n) => n.what === "ambient events dropped while the outbox was full");
  assert.ok(note, "one audit note once the outbox took events again");
  assert.equal(note.details?.count, 25);
  assert.equal(notes.filter((n) => /dropped while the outbox/.test(n.what)).length, 1);
});
