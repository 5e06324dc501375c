import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { LocalFederation } from "../../cluster/federation/local.js";
import { waitClusterReady } from "../../cluster/testing/servers.js";
import { tempDir } from "../../cluster/testing/temp.js";
import { waitFor } from "../../cluster/testing/wait-for.js";
import { auditLog, countLines, readLog, SpoolWriter, startFederation, waitLogs, writeSteadily, written } from "./harness.js";

const OUTAGE_MS = 30_000;
const tmp = tempDir("bustle-fed-outage-");
let fed: LocalFederation;

before(async () => {
  fed = await startFederation(tmp.path);
});
after(async () => {
  await fed?.stop();
  tmp.remove();
});

test("federation - with every server down for 30 s, spool lines written meanwhile are delivered after they return", async () => {
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  writers.forEach((w) => w.write(10));
  await waitLogs(fed, 30, 30_000);

  await Promise.all(fed.servers.map((s) => s.kill()));
  const downAt = Date.now();
  await writeSteadily(writers, 10, 10 + (OUTAGE_MS / 1000 - 5) * 10);
  const before = fed.nodes.map((n) => countLines(n.log));
  assert.deepEqual(before, [30, 30, 30], "nothing reaches any log while every server is down");
  await waitFor(() => Date.now() - downAt >= OUTAGE_MS, OUTAGE_MS + 5_000, "the end of the 30 s outage");
  await Promise.all(fed.servers.map((s) => s.start()));
  await waitClusterReady(fed.servers, 60_000);

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
