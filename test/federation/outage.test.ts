import { test } from "node:test";
import assert from "node:assert/strict";
import { waitClusterReady } from "../../cluster/servers.js";
import { waitFor } from "../../cluster/wait-for.js";
import {
  SpoolWriter,
  assertLogsComplete,
  countLines,
  federationPerFile,
  waitLogs,
  writeSteadily,
  written,
} from "./harness.js";

const OUTAGE_MS = 30_000;
const federation = federationPerFile("bustle-fed-outage-");

test("federation - with every server down for 30 s, spool lines written meanwhile are delivered after they return", async () => {
  const fed = federation();
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
  assertLogsComplete(
    fed.nodes.map((n) => n.log),
    writers,
    total,
  );
});
