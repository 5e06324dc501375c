import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalFederation } from "../../federation/local.js";
import { readNodeFile } from "../../federation/status.js";
import { resolveBusSettings } from "../../cluster/bus-config.js";
import { closeBus, connectBus } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import { monitor } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";

const tmp = tempDir("bustle-fed-tls-");
let fed: LocalFederation;

before(async () => {
  fed = await LocalFederation.create({ dir: tmp.path, nodes: 3, tls: true });
  await fed.startServers();
});
after(async () => {
  await fed?.stop();
  tmp.remove();
});

test("federation - with --tls the servers form their cluster over mutually authenticated TLS routes", async () => {
  const conf = readFileSync(join(fed.node("n1").dir, "nats-server.conf"), "utf8");
  assert.match(conf, /cluster \{[\s\S]*tls \{[\s\S]*verify: true/);
  const routez = await monitor(fed.node("n1").server, "/routez");
  assert.equal(routez.num_routes, 2);
  const varz = await monitor(fed.node("n1").server, "/varz");
  assert.equal(varz.tls_required, true);
});

test("federation - a relay connects over TLS with its generated node.yaml; a client without the CA cannot", async () => {
  const node = readNodeFile(fed.node("n2").config);
  const settings = resolveBusSettings(node.nats, node.file, [...node.nats.servers!]);
  const nc = await connectBus({
    ...settings,
    name: "tls test",
    logger: silentLogger,
    waitOnFirstConnect: false,
    inboxPrefix: "_INBOX.n2",
  });
  assert.equal(nc.info?.tls_required, true);
  await closeBus(nc);
  const pass = readFileSync(join(fed.node("n2").dir, "secrets", "relay.password"), "utf8").trim();
  await assert.rejects(
    connect({
      servers: fed.node("n2").server.url.replace("nats:", "tls:"),
      user: "n2",
      pass,
      maxReconnectAttempts: 0,
      timeout: 3_000,
    }),
  );
});
