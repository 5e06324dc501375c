import { test } from "node:test";
import assert from "node:assert/strict";
import { SpoolScheduler } from "../../../relay/spool/scheduler.js";

const tick = () => new Promise((r) => setImmediate(r));

test("spool scheduler - one check per user at a time, bounded overall, a busy spool waits its turn", async () => {
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const perUser = new Map<string, number>();
  let busyTurns = 3;
  const s: SpoolScheduler = new SpoolScheduler(async (user) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    perUser.set(user, (perUser.get(user) ?? 0) + 1);
    assert.equal(perUser.get(user), 1, `two checks of ${user} at once`);
    log.push(user);
    await tick();
    perUser.set(user, perUser.get(user)! - 1);
    running--;
    if (user === "busy" && --busyTurns > 0) void s.schedule("busy", false);
  }, 2);
  const done = [
    s.schedule("busy", false),
    s.schedule("a", false),
    s.schedule("b", false),
    s.schedule("a", false),
    s.schedule("c", false),
  ];
  await Promise.all(done);
  await s.idle();
  assert.equal(maxRunning, 2);
  assert.deepEqual(log.filter((u) => u === "busy").length, 3);
  assert.ok(log.indexOf("c") < log.lastIndexOf("busy"), `the busy spool went behind the others: ${log.join(",")}`);
  assert.equal(log.filter((u) => u === "a").length, 2, "a check asked for while one runs runs once more");
});

test("spool scheduler - a kick during a check runs it once more, after it; kicks with no check running start one", async () => {
  const log: string[] = [];
  let release: (() => void) | undefined;
  const s = new SpoolScheduler(async (user) => {
    log.push(`start ${user}`);
    if (log.length === 1) await new Promise<void>((r) => (release = r));
    log.push(`end ${user}`);
  });
  s.kick("alice");
  await tick();
  s.kick("alice"); // while the first runs: folded into one more
  s.kick("alice");
  release!();
  await s.idle();
  await tick();
  await s.idle();
  assert.deepEqual(log, ["start alice", "end alice", "start alice", "end alice"]);
});
