import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { relayUser, inboxPrefix } from "../../cluster/permissions.js";
import { waitFor } from "../../cluster/wait-for.js";
import {
  SpoolWriter,
  assertLogsComplete,
  countLines,
  federationPerFile,
  readLog,
  relayConnections,
  waitLogs,
  writeSteadily,
  written,
} from "./harness.js";
import { bustleCluster } from "./cluster-cli.js";

const federation = federationPerFile("bustle-fed-join-");

test("bustle-cluster add-member / remove-member - a tilde joins a running 3-core federation under steady events (history identical, no core restart), then leaves (its relay refused); nothing lost or doubled", async () => {
  const fed = federation();
  const pids = fed.servers.map((s) => s.pid);
  const core = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  // The core nodes write until the member has joined and left (a stop, not a count, so a slow
  // machine cannot let them finish first).
  const stop = new AbortController();
  const steady = writeSteadily(core, 100, 100_000, stop.signal);
  await waitFor(() => written(core) >= 1_500, 30_000, "the first 1,500 events");

  // Join: one command on the federation's machine, a reload of the core servers, the new relay.
  const add = await bustleCluster("add-member", "late", "--dir", fed.dir);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /late joins federation "bustle"/);
  for (const n of fed.nodes)
    assert.match(readFileSync(join(n.dir, "nats-server.conf"), "utf8"), /"bustle\.ev\.late\.>"/);
  assert.ok(
    existsSync(join(fed.dir, "late", "secrets", "relay.password")) && existsSync(join(fed.dir, "late", "node.yaml")),
  );
  assert.equal(
    JSON.parse(readFileSync(join(fed.dir, "federation.json"), "utf8")).plan.members.includes("late"),
    true,
    "the plan remembers the member",
  );
  fed.reloadServers();
  const late = fed.trackMember("late");
  fed.startRelay("late");
  await waitFor(
    async () => (await relayConnections(fed)).has("late"),
    30_000,
    "the new member's relay to connect with its own credentials",
  );
  const lateWriter = new SpoolWriter("late", late.homes);
  lateWriter.write(50);
  const writers = [...core, lateWriter];
  await waitFor(
    () => fed.nodes.every((n) => readLog(n.log).includes(" m late alice 49\n")),
    30_000,
    "late's events in the core logs",
  );
  // Its log starts with the retained history: at this point it is a prefix of (or equal to) n1's.
  await waitFor(() => countLines(late.log) >= 1_500, 30_000, "late's log to catch up on the history");
  assert.ok(readLog(fed.node("n1").log).startsWith(readLog(late.log)), "late's log is a prefix of n1's");

  // Leave: one command, a reload; its connection is closed and its credentials refused.
  const password = readFileSync(join(late.dir, "secrets", "relay.password"), "utf8").trim();
  const remove = await bustleCluster("remove-member", "late", "--dir", fed.dir);
  assert.equal(remove.code, 0, remove.stderr);
  assert.equal(existsSync(join(late.dir, "secrets")), false, "its passwords are gone from the folder");
  for (const n of fed.nodes)
    assert.doesNotMatch(readFileSync(join(n.dir, "nats-server.conf"), "utf8"), /bustle\.ev\.late\./);
  fed.reloadServers();
  await waitFor(
    async () => !(await relayConnections(fed)).has("late"),
    30_000,
    "the removed member's relay to be disconnected",
  );
  await assert.rejects(
    connect({
      servers: fed.node("n2").server.url,
      user: relayUser("late"),
      pass: password,
      inboxPrefix: inboxPrefix("late"),
      maxReconnectAttempts: 0,
      reconnect: false,
    }),
    /authorization/i,
    "the removed member's credentials are refused",
  );
  await fed.stopRelay("late");
  // The others were still writing when it left; they go on a little after.
  const atLeave = written(core);
  await waitFor(() => written(core) >= atLeave + 300, 30_000, "the core nodes to keep writing after the member left");
  stop.abort();
  await steady;
  const total = written(writers);
  await waitLogs(fed, total, 60_000);
  // The rest carried on: every line (late's 50 included) once in each core log, identical.
  assertLogsComplete(
    fed.nodes.map((n) => n.log),
    writers,
    total,
  );
  assert.ok(
    readLog(fed.node("n1").log).startsWith(readLog(late.log)),
    "late's log ends where it left, a prefix of the others'",
  );
  assert.deepEqual(
    fed.servers.map((s) => s.pid),
    pids,
    "no core server restarted",
  );
});

test("bustle-cluster add-member / remove-member - refuse an existing node, a core server and an unknown member with exit 2 and one line", async () => {
  const fed = federation();
  for (const [args, re] of [
    [["add-member", "n1"], /n1 is already a node/],
    [["remove-member", "n2"], /n2 is a core server/],
    [["remove-member", "ghost"], /ghost is not a member/],
  ] as const) {
    const r = await bustleCluster(...args, "--dir", fed.dir);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  const none = await bustleCluster("add-member", "x", "--dir", join(fed.dir, "n1"));
  assert.equal(none.code, 1);
  assert.match(none.stderr, /federation\.json does not exist/);
});
