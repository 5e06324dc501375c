import { test } from "node:test";
import assert from "node:assert/strict";
import { sleep, waitFor } from "../../cluster/wait-for.js";
import { waitClusterReady } from "../../cluster/servers.js";
import {
  SpoolWriter,
  assertLogsComplete,
  countLines,
  federationPerFile,
  relayConnections,
  waitLogs,
  writeSteadily,
  written,
} from "./harness.js";

const federation = federationPerFile("bustle-fed-kill-");

test("federation - kill -9 of the server a relay uses, mid-way through 20,000 events, restarted 5 s later: nothing lost or doubled, logs identical", async () => {
  const fed = federation();
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  const totals = [6667, 6667, 6666];
  const run = writeSteadily(writers, 800, totals);
  await waitFor(() => written(writers) >= 6_000, 30_000, "the first 6,000 events to be written");
  const victimId = (await relayConnections(fed)).get("n1");
  assert.ok(victimId, "relay n1 is connected to some server");
  const victim = fed.node(victimId);
  await victim.server.kill();
  const atKill = { written: written(writers), logged: countLines(fed.node("n2").log) };
  await sleep(5_000);
  await victim.server.start();
  await run;
  const total = written(writers);
  assert.equal(total, 20_000);
  assert.ok(atKill.written < total && atKill.logged < total, `the kill came mid-way (${JSON.stringify(atKill)})`);
  await waitClusterReady(fed.servers, 60_000);
  await waitLogs(fed, total, 120_000);
  assertLogsComplete(
    fed.nodes.map((n) => n.log),
    writers,
    total,
  );
});
