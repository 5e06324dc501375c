import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "../../cluster/net.js";
import { readMap } from "../../federation/status.js";
import { waitFor } from "../../cluster/wait-for.js";
import {
  SpoolWriter,
  assertLogsComplete,
  countLines,
  federationPerFile,
  relayConnections,
  writeSteadily,
  written,
} from "./harness.js";
import { bustleCluster } from "./cluster-cli.js";

const federation = federationPerFile("bustle-fed-grow-");

test("bustle-cluster add-server / retire-server - the core grows from 3 to 4 servers and retires n1 (its replicas moved first) under steady events; stream R3 healthy after; nothing lost or doubled", async () => {
  const fed = federation();
  const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  const stop = new AbortController();
  const steady = writeSteadily(writers, 50, 100_000, stop.signal);
  const healthy = async (what: string) => {
    const r = await bustleCluster("status", "--dir", fed.dir, "--wait-healthy", "--timeout", "120s", "--json");
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  try {
    await waitFor(() => written(writers) >= 300, 30_000, "the first events");
    const spec = `n4=127.0.0.1:${await freePort()}:${await freePort()}:${await freePort()}`;
    const add = await bustleCluster("add-server", spec, "--dir", fed.dir);
    assert.equal(add.code, 0, add.stderr);
    fed.reloadServers();
    const n4 = fed.trackServer("n4", readMap(join(fed.dir, "n1"))!);
    await n4.server.start();
    const grown = await healthy("after adding n4");
    assert.equal(grown.servers.length, 4);
    for (const s of grown.servers) assert.equal(s.routes.length, 3, `${s.id} routes to the other three`);
    assert.equal(grown.stream.replicas, 3);

    const refused = await bustleCluster("retire-server", "n9", "--dir", fed.dir);
    assert.equal(refused.code, 2);
    const retire = await bustleCluster("retire-server", "n1", "--dir", fed.dir);
    assert.equal(retire.code, 0, retire.stderr);
    assert.match(retire.stdout, /replicas moved off n1: BUSTLE/);
    // As the output says: stop n1's server, reload the others, restart n1's relay on its new node.yaml.
    await fed.node("n1").server.stop();
    fed.reloadServers();
    await fed.stopRelay("n1");
    fed.startRelay("n1");
    await waitFor(
      async () => (await relayConnections(fed)).has("n1"),
      30_000,
      "n1's relay to connect to another server",
    );
    const after = await healthy("after retiring n1");
    assert.equal(after.servers.length, 3, "n1 is no longer a server in the map");
    assert.deepEqual(after.stream.peers.map((p: { name: string }) => p.name).sort(), ["n2", "n3", "n4"]);
    assert.ok(after.stream.peers.every((p: { current: boolean }) => p.current));
  } finally {
    stop.abort();
  }
  await steady;
  const total = written(writers);
  // n4 runs a server only; the three relays' logs hold every line once, identical.
  const logs = fed.nodes.filter((n) => n.id !== "n4").map((n) => n.log);
  await waitFor(() => logs.every((l) => countLines(l) >= total), 60_000, `${total} lines in every relay's log`);
  assertLogsComplete(logs, writers, total);
});
