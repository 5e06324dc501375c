import { test } from "node:test";
import assert from "node:assert/strict";
import { SpoolWriter, assertLogsComplete, federationPerFile, waitLogs, writeSteadily, written } from "./harness.js";
import { bustleCluster } from "./cluster-cli.js";

const federation = federationPerFile("bustle-fed-rolling-");

test("federation - rolling restart (docs/federation.md): each nats-server, then its relay, restarted one at a time with --wait-healthy between, while every node writes: 0 lost, 0 doubled, logs identical", async () => {
  const fed = federation();
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  const stop = new AbortController();
  const steady = writeSteadily(writers, 100, 100_000, stop.signal);
  const waitHealthy = async (after: string) => {
    const r = await bustleCluster("status", "--dir", fed.dir, "--wait-healthy", "--timeout", "120s");
    assert.equal(r.code, 0, `after ${after}: ${r.stderr}`);
  };
  const restarts: string[] = [];
  try {
    await waitHealthy("start");
    for (const n of fed.nodes) {
      // What `systemctl restart bustle-nats` does: a clean stop, a start on the same store.
      const before = written(writers);
      await n.server.stop();
      await n.server.start();
      await waitHealthy(`restarting ${n.id}'s server`);
      await fed.stopRelay(n.id);
      fed.startRelay(n.id);
      await waitHealthy(`restarting ${n.id}'s relay`);
      restarts.push(`${n.id} at ${before}`);
    }
  } finally {
    // Stop the steady writers where they are: the totals are whatever was written.
    stop.abort();
  }
  await steady;
  const total = written(writers);
  assert.equal(restarts.length, 3);
  assert.ok(total > 3 * 300, `events kept coming through the restarts (${total})`);
  await waitLogs(fed, total, 120_000);
  assertLogsComplete(
    fed.nodes.map((n) => n.log),
    writers,
    total,
  );
});
