import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { LocalFederation } from "../../cluster/federation/local.js";
import { tempDir } from "../../cluster/testing/temp.js";
import { auditLog, readLog, SpoolWriter, startFederation, waitLogs, writeSteadily, written } from "./harness.js";

const tmp = tempDir("bustle-fed-logs-");
let fed: LocalFederation;

before(async () => {
  fed = await startFederation(tmp.path);
});
after(async () => {
  await fed?.stop();
  tmp.remove();
});

test("federation - events written on all three nodes at once appear in all three logs, byte-identical", async () => {
  const writers = fed.nodes.flatMap((n) => [new SpoolWriter(n.id, n.homes, "alice"), new SpoolWriter(n.id, n.homes, "bob")]);
  await writeSteadily(writers, 200, 300);
  const total = written(writers);
  assert.equal(total, 1800);
  await waitLogs(fed, total, 60_000);
  const logs = fed.nodes.map((n) => readLog(n.log));
  for (const [i, text] of logs.entries()) {
    const a = auditLog(text, writers);
    assert.deepEqual({ lines: a.lines, missing: a.missing.slice(0, 5), doubled: a.doubled.slice(0, 5), foreign: a.foreign.slice(0, 5) },
      { lines: total, missing: [], doubled: [], foreign: [] }, `log of ${fed.nodes[i]!.id}`);
  }
  assert.equal(logs[1], logs[0], "n2's log differs from n1's");
  assert.equal(logs[2], logs[0], "n3's log differs from n1's");
});
