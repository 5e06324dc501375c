import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { LocalFederation } from "../../cluster/federation/local.js";
import { monitor, waitClusterReady } from "../../cluster/testing/servers.js";
import { tempDir } from "../../cluster/testing/temp.js";
import { waitFor } from "../../cluster/testing/wait-for.js";
import { auditLog, countLines, readLog, relayConnections, SpoolWriter, startFederation, waitLogs, writeSteadily, written } from "./harness.js";

// The cut is made with TCP proxies: every route between two servers (both directions) and every
// relay's link to another node's server passes through one; cutting a node resets all of its
// proxied connections and refuses new ones, so it keeps only its own server and relay.
const CUT_MS = 60_000;
const tmp = tempDir("bustle-fed-cut-");
let fed: LocalFederation;

before(async () => {
  fed = await startFederation(tmp.path, { proxies: true });
});
after(async () => {
  await fed?.stop();
  tmp.remove();
});

test("federation - a node cut off for 60 s while everyone writes catches up: logs identical, nothing lost", async () => {
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  writers.forEach((w) => w.write(20));
  await waitLogs(fed, 60, 30_000);

  const cutId = "n3";
  fed.cut(cutId);
  const cutAt = Date.now();
  // While cut: the isolated server sees no routes; its relay stays on it (the only server it can reach).
  await waitFor(async () => (await monitor(fed.node(cutId).server, "/routez"))?.num_routes === 0, 10_000, "n3 to lose its routes");
  const during = writeSteadily(writers, 20, 20 + Math.floor((CUT_MS / 1000 - 5) * 20));
  await during;
  assert.equal((await relayConnections(fed)).get(cutId), cutId, "the cut-off relay could reach only its own server");
  const cutOffLines = countLines(fed.node(cutId).log);
  const others = countLines(fed.node("n1").log);
  await waitFor(() => Date.now() - cutAt >= CUT_MS, CUT_MS + 5_000, "the end of the 60 s cut");
  assert.ok(cutOffLines < written(writers) && others < written(writers), `the cut held back events (n3 ${cutOffLines}, n1 ${others}, written ${written(writers)})`);
  fed.heal(cutId);

  await waitClusterReady(fed.servers, 60_000);
  await waitFor(async () => (await relayConnections(fed)).size === 3, 30_000, "every relay connected again");
  const total = written(writers);
  await waitLogs(fed, total, 90_000);
  const logs = fed.nodes.map((n) => readLog(n.log));
  for (const [i, text] of logs.entries()) {
    const a = auditLog(text, writers);
    assert.deepEqual({ lines: a.lines, missing: a.missing.slice(0, 5), doubled: a.doubled.slice(0, 5), foreign: a.foreign.slice(0, 5) },
      { lines: total, missing: [], doubled: [], foreign: [] }, `log of ${fed.nodes[i]!.id}`);
  }
  assert.ok(logs.every((l) => l === logs[0]), "the three logs are byte-identical");
});
