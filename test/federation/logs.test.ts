import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SpoolWriter,
  assertLogsComplete,
  federationPerFile,
  relayConnections,
  waitLogs,
  writeSteadily,
  written,
} from "./harness.js";

const federation = federationPerFile("bustle-fed-logs-");

test("federation - events written on all three nodes at once appear in all three logs, byte-identical", async () => {
  const fed = federation();
  const writers = fed.nodes.flatMap((n) => [
    new SpoolWriter(n.id, n.homes, "alice"),
    new SpoolWriter(n.id, n.homes, "bob"),
  ]);
  await writeSteadily(writers, 200, 300);
  const total = written(writers);
  assert.equal(total, 1800);
  await waitLogs(fed, total, 60_000);
  assertLogsComplete(
    fed.nodes.map((n) => n.log),
    writers,
    total,
  );
});

test("federation - each relay uses its own node's server (the first in its node.yaml), not a random other one", async () => {
  const fed = federation();
  const where = await relayConnections(fed);
  assert.deepEqual(
    Object.fromEntries(fed.nodes.map((n) => [n.id, where.get(n.id)])),
    Object.fromEntries(fed.nodes.map((n) => [n.id, n.id])),
  );
});
