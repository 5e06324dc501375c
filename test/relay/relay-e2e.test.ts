import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { freePort } from "../../cluster/net.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { RelayProcess, writeRelayConfig } from "../../cluster/testing/relay-process.js";
import { startServer } from "../../cluster/testing/servers.js";
import { tempDir } from "../../cluster/testing/temp.js";
import { waitFor } from "../../cluster/testing/wait-for.js";
import { appendSpool, logLines, makeHome, textOf } from "./support.js";

const dir = tempDir("bustle-e2e-");
let server: NatsServer;
before(async () => {
  server = await startServer(dir.path);
});
after(async () => {
  await server.stop();
  dir.remove();
});

test("relay - spool lines from several users appear in bustle.log in the contract's format", async () => {
  const files = writeRelayConfig(`${dir.path}/town`, "town", { servers: [server.url] });
  const relay = await new RelayProcess(files).start();
  try {
    for (const u of ["alice", "bob", "carol"]) makeHome(files.homes, u);
    appendSpool(files.homes, "alice", ['{"kind":"update","text":"is baking bread"}']);
    await waitFor(() => logLines(files.log).length === 1, 10_000, "alice's update");
    appendSpool(files.homes, "bob", ['{"kind":"shout","text":"hi world"}']);
    await waitFor(() => logLines(files.log).length === 2, 10_000, "bob's shout");
    appendSpool(files.homes, "carol", ['{"kind":"shout","text":"who am i","anon":true}', "plain text is an update"]);
    await waitFor(() => logLines(files.log).length === 4, 10_000, "carol's lines");
    const lines = logLines(files.log);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z town \S/);
    assert.deepEqual(lines.map(textOf), [
      "~alice is baking bread",
      "~bob shouts, 'HI WORLD'",
      "someone shouts, 'WHO AM I'",
      "~carol plain text is an update",
    ]);
  } finally {
    await relay.stop();
  }
});

test("relay - the embedded default runs its own nats-server and logs a shout", async () => {
  const port = await freePort();
  const files = writeRelayConfig(`${dir.path}/solo`, "solo", { port });
  const relay = await new RelayProcess(files).start();
  try {
    makeHome(files.homes, "dave");
    appendSpool(files.homes, "dave", ['{"kind":"shout","text":"alone but loud"}']);
    await waitFor(() => logLines(files.log).length === 1, 15_000, "dave's shout in the embedded node's log");
    assert.equal(textOf(logLines(files.log)[0]!), "~dave shouts, 'ALONE BUT LOUD'");
    assert.equal(await relay.stop(), 0, "bustled exits 0 on SIGTERM");
  } finally {
    await relay.stop();
  }
});
