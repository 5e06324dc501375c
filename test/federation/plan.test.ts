import { test } from "node:test";
import assert from "node:assert/strict";
import { botsOf, checkPlan, parseBotSpec, parseNodeSpec, replicasFor, UsageError } from "../../federation/plan.js";
import {
  adminPermissions,
  controlPermissions,
  relayPermissions,
  renderPermissions,
} from "../../cluster/permissions.js";
import { renderFederationConf } from "../../federation/server-conf.js";

test("federation plan - parses node specs with names, IPv4, bracketed IPv6 and an optional monitor port", () => {
  assert.deepEqual(parseNodeSpec("town=tilde.town:4222:6222:8222"), {
    id: "town",
    host: "tilde.town",
    clientPort: 4222,
    clusterPort: 6222,
    monitorPort: 8222,
  });
  assert.deepEqual(parseNodeSpec("club=10.0.0.2:4222:6222"), {
    id: "club",
    host: "10.0.0.2",
    clientPort: 4222,
    clusterPort: 6222,
    monitorPort: undefined,
  });
  assert.equal(parseNodeSpec("v6=[2001:db8::1]:4222:6222").host, "2001:db8::1");
});

test("federation plan - refuses bad ids, hosts, ports and duplicates, naming the spec", () => {
  for (const bad of [
    "Town=h:1:2",
    "town=h:1",
    "town=h:0:2",
    "town=h:1:1",
    "town=h:1:2:3:4",
    "town=bad host:1:2",
    "town=h:70000:2",
    "=h:1:2",
    "town=h;rm:1:2",
  ]) {
    assert.throws(
      () => parseNodeSpec(bad),
      (e: Error) => e instanceof UsageError && e.message.includes(bad),
      bad,
    );
  }
  const a = parseNodeSpec("a=h:4222:6222");
  assert.throws(
    () => checkPlan({ cluster: "bustle", servers: [a, parseNodeSpec("a=k:4222:6222")], members: [] }),
    /given twice/,
  );
  assert.throws(
    () => checkPlan({ cluster: "bustle", servers: [a, parseNodeSpec("b=h:4222:7222")], members: [] }),
    /h:4222 is used twice/,
  );
  assert.throws(() => checkPlan({ cluster: "bustle", servers: [a], members: ["a"] }), /given twice/);
  assert.throws(() => checkPlan({ cluster: "bad name", servers: [a], members: [] }), /--name/);
  assert.throws(() => checkPlan({ cluster: "bustle", servers: [], members: ["m"] }), /at least one --node/);
});

test("federation plan - R3 from three servers on", () => {
  assert.deepEqual([1, 2, 3, 4, 10].map(replicasFor), [1, 2, 3, 3, 3]);
});

test("federation permissions - a node publishes only its own events and reads only its own inbox", () => {
  const p = relayPermissions("town");
  assert.ok(p.publish.includes("bustle.ev.town.>"));
  assert.ok(!p.publish.some((s) => s.startsWith("bustle.ev.") && s !== "bustle.ev.town.>"));
  assert.ok(!p.publish.some((s) => s.includes("_INBOX")));
  assert.deepEqual(
    p.subscribe.filter((s) => s.startsWith("_INBOX")),
    ["_INBOX.town.>"],
  );
  assert.ok(!p.publish.some((s) => s.includes("*") && !s.endsWith(".>")), "no partial-token wildcards");
});

test("federation permissions - stream and KV administration is the admin's alone", () => {
  const admin = adminPermissions();
  for (const p of [relayPermissions("town"), controlPermissions("town", ["irc-town"])]) {
    assert.ok(
      !p.publish.some(
        (s) =>
          /\.(UPDATE|PURGE|DELETE)\.|STREAM\.MSG\.DELETE|^\$JS\.API\.>$/.test(s) &&
          !s.startsWith("$JS.API.CONSUMER.DELETE"),
      ),
      p.publish.join(" "),
    );
  }
  assert.ok(admin.publish.includes("$JS.API.>") && admin.publish.includes("bustle.ctl.>"));
  assert.deepEqual(
    admin.subscribe.filter((s) => s.startsWith("_INBOX")),
    ["_INBOX.admin.>"],
  );
});

test("federation permissions - a control server writes and steers only the bots it may run", () => {
  const c = controlPermissions("town", ["irc-town"]);
  assert.deepEqual(
    c.publish.filter((s) => s.startsWith("$KV.")),
    ["$KV.bustle-leases.irc-town", "$KV.bustle-bots.pos.irc-town", "$KV.bustle-bots.admin.irc-town"],
  );
  assert.deepEqual(
    c.publish.filter((s) => s.startsWith("bustle.ctl.")),
    ["bustle.ctl.status", "bustle.ctl.bot.irc-town"],
  );
  assert.deepEqual(
    c.publish.filter((s) => s.startsWith("bustle.ev.")),
    ["bustle.ev.town.irc-town.>"],
  );
  assert.deepEqual(c.subscribe, ["_INBOX.town.>", "bustle.ctl.status", "bustle.ctl.bot.irc-town"]);
  assert.ok(!c.publish.includes(">") && c.allowResponses === true);
  assert.ok(!c.publish.some((s) => s.startsWith("$KV.") && s.endsWith(">")), "no wildcard KV writes");
  const none = controlPermissions("late", []);
  assert.deepEqual(
    none.publish.filter((s) => s.startsWith("$KV.")),
    [],
  );
});

test("federation plan - bots are granted to control nodes only; a bare --bot means every control node", () => {
  const a = parseNodeSpec("a=h:4222:6222");
  const b = parseNodeSpec("b=h:4223:6223");
  const plan = checkPlan({
    cluster: "bustle",
    servers: [a, b],
    members: ["m"],
    bots: [parseBotSpec("irc=a"), parseBotSpec("web")],
  });
  assert.deepEqual(plan.bots, [
    { id: "irc", nodes: ["a"] },
    { id: "web", nodes: ["a", "b"] },
  ]);
  assert.deepEqual(botsOf(plan, "a"), ["irc", "web"]);
  assert.deepEqual(botsOf(plan, "m"), []);
  assert.throws(
    () => checkPlan({ cluster: "bustle", servers: [a], members: ["m"], bots: [parseBotSpec("irc=m")] }),
    /m runs no control server/,
  );
  assert.doesNotThrow(() =>
    checkPlan({ cluster: "bustle", servers: [a], members: ["m"], control: ["a", "m"], bots: [parseBotSpec("irc=m")] }),
  );
  assert.throws(() => checkPlan({ cluster: "bustle", servers: [a], members: [], control: ["zz"] }), /--control zz/);
  assert.throws(
    () => checkPlan({ cluster: "bustle", servers: [parseNodeSpec("admin=h:1:2")], members: [] }),
    /reserved/,
  );
  assert.throws(() => parseBotSpec("Bad=a"), UsageError);
  assert.throws(() => parseBotSpec("irc="), UsageError);
});

test("federation conf - quotes every value, so a password cannot break out of its string", () => {
  const conf = renderFederationConf({
    serverName: "town",
    clusterName: "bustle",
    listenHost: "0.0.0.0",
    clientPort: 4222,
    clusterPort: 6222,
    storeDir: "/var/lib/bustle-nats",
    users: [{ user: "town", password: 'a"b}\n c', permissions: relayPermissions("town") }],
    route: { user: "route", password: "p@ss/word" },
    routes: ["club:6222"],
  });
  assert.match(conf, /password: "a\\"b}\\n c"/);
  assert.match(conf, /nats-route:\/\/route:p%40ss%2Fword@club:6222/);
  assert.match(renderPermissions(controlPermissions("x", []), ""), /allow_responses: true/);
});
