import { test } from "node:test";
import assert from "node:assert/strict";
import { monitor, waitClusterReady } from "../../cluster/servers.js";
import { waitFor } from "../../cluster/wait-for.js";
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

// The cut is made with TCP proxies: every route between two servers (both directions) and every
// relay's link to another node's server passes through one; cutting a node resets all of its
// proxied connections and refuses new ones, so it keeps only its own server and relay.
const CUT_MS = 60_000;
const federation = federationPerFile("bustle-fed-cut-", { proxies: true });

test("federation - a node cut off for 60 s while everyone writes catches up: logs identical, nothing lost", async () => {
  const fed = federation();
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  writers.forEach((w) => w.write(20));
  await waitLogs(fed, 60, 30_000);

  const cutId = "n3";
  fed.cut(cutId);
  const cutAt = Date.now();
  // While cut: the isolated server sees no routes; its relay stays on it (the only server it can reach).
  await waitFor(
    async () => (await monitor(fed.node(cutId).server, "/routez"))?.num_routes === 0,
    10_000,
    "n3 to lose its routes",
  );
  const during = writeSteadily(writers, 20, 20 + Math.floor((CUT_MS / 1000 - 5) * 20));
  await during;
  assert.equal((await relayConnections(fed)).get(cutId), cutId, "the cut-off relay could reach only its own server");
  const cutOffLines = countLines(fed.node(cutId).log);
  const others = countLines(fed.node("n1").log);
  await waitFor(() => Date.now() - cutAt >= CUT_MS, CUT_MS + 5_000, "the end of the 60 s cut");
  assert.ok(
    cutOffLines < written(writers) && others < written(writers),
    `the cut held back events (n3 ${cutOffLines}, n1 ${others}, written ${written(writers)})`,
  );
  fed.heal(cutId);

  await waitClusterReady(fed.servers, 60_000);
  await waitFor(async () => (await relayConnections(fed)).size === 3, 30_000, "every relay connected again");
  const total = written(writers);
  await waitLogs(fed, total, 90_000);
  assertLogsComplete(
    fed.nodes.map((n) => n.log),
    writers,
    total,
  );
});
