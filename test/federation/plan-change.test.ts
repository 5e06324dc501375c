import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPlan, parseNodeSpec, UsageError, type FederationPlan } from "../../federation/plan.js";
import { withMember, withoutMember, withServer } from "../../federation/plan-file.js";
import { withServerRetired } from "../../federation/retire.js";

const three = (): FederationPlan =>
  checkPlan({
    cluster: "bustle",
    servers: ["a=h:4222:6222", "b=h:4223:6223", "c=h:4224:6224"].map(parseNodeSpec),
    members: ["m"],
    control: ["a", "b", "m"],
    bots: [
      { id: "solo", nodes: ["m"] },
      { id: "shared", nodes: ["a", "m"] },
    ],
  });

test("plan change - a member joins once, with a control server only when asked", () => {
  assert.deepEqual(withMember(three(), "late").members, ["m", "late"]);
  assert.equal(withMember(three(), "late").control?.includes("late"), false);
  assert.equal(withMember(three(), "late", true).control?.includes("late"), true);
  assert.throws(
    () => withMember(three(), "a"),
    (e: Error) => e instanceof UsageError && /already a node/.test(e.message),
  );
});

test("plan change - a leaving member takes its control server and bot grants with it; a bot granted to it alone goes", () => {
  const p = checkPlan(withoutMember(three(), "m"));
  assert.deepEqual(p.members, []);
  assert.deepEqual(p.control, ["a", "b"]);
  assert.deepEqual(p.bots, [{ id: "shared", nodes: ["a"] }]);
  assert.throws(() => withoutMember(three(), "a"), /core server/);
  assert.throws(() => withoutMember(three(), "zz"), /not a member/);
});

test("plan change - a core server is retired only from four on, and stays as a member with its control server", () => {
  assert.throws(() => withServerRetired(three(), "a"), /add a server first/);
  const four = checkPlan(withServer(three(), parseNodeSpec("d=h:4225:6225")));
  const p = checkPlan(withServerRetired(four, "a"));
  assert.deepEqual(
    p.servers.map((s) => s.id),
    ["b", "c", "d"],
  );
  assert.deepEqual(p.members, ["m", "a"]);
  assert.ok(p.control?.includes("a"));
  assert.throws(() => checkPlan(withServer(four, parseNodeSpec("e=h:4225:7000"))), /h:4225 is used twice/);
  assert.throws(() => withServer(four, parseNodeSpec("d=k:1:2")), /already a node/);
});
