import { test } from "node:test";
import assert from "node:assert/strict";
import { SpoolWriter, federationPerFile, waitLogs } from "./harness.js";
import { bustleCluster } from "./cluster-cli.js";

const federation = federationPerFile("bustle-fed-healthy-");

test("bustle-cluster status --wait-healthy - exit 0 on a healthy 3-server federation; one line naming the stopped server at the timeout; exit 0 again once it is back", async () => {
  const fed = federation();
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  writers.forEach((w) => w.write(10));
  await waitLogs(fed, 30, 30_000);

  const ok = await bustleCluster("status", "--dir", fed.dir, "--wait-healthy", "--timeout", "60s");
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /healthy \(3 servers, meta leader n\d, 3 logs current\)/);

  await fed.node("n3").server.stop();
  const down = await bustleCluster("status", "--dir", fed.dir, "--wait-healthy", "--timeout", "3s");
  assert.equal(down.code, 1);
  const lines = down.stderr.trim().split("\n");
  assert.equal(lines.length, 1, down.stderr);
  assert.match(lines[0]!, /not healthy after 3s: .*server n3 does not answer/);
  assert.match(lines[0]!, /server n1 has 1\/2 routes/);

  await fed.node("n3").server.start();
  writers[2]!.write(5); // n3's relay writes again once its server is back
  const back = await bustleCluster("status", "--dir", fed.dir, "--wait-healthy", "--timeout", "90s");
  assert.equal(back.code, 0, back.stderr);
});
