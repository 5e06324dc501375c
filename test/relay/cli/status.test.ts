import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { closeBus, connectBus, type NatsConnection } from "../../../cluster/connection.js";
import { silentLogger } from "../../../cluster/logger.js";
import { freePort } from "../../../cluster/net.js";
import type { NatsServer } from "../../../cluster/nats-server.js";
import { ensureStream } from "../../../cluster/stream.js";
import { startCluster, startServer, type TestCluster } from "../../../cluster/servers.js";
import { tempDir } from "../../../cluster/temp.js";
import { cliEnv, runBustle } from "./bustle-process.js";

const dir = tempDir("bustle-cli-status-");
let server: NatsServer | undefined;
let cluster: TestCluster | undefined;
let nc: NatsConnection | undefined;

before(async () => {
  server = await startServer(dir.path, "solo");
});
after(async () => {
  await closeBus(nc);
  await server?.stop();
  await cluster?.stopAll();
  dir.remove();
});

/** A node.yaml for node `id` with its own state dir and log, talking to `urls`. */
function nodeConfig(id: string, urls: string[]): { file: string; state: string; log: string } {
  const base = join(dir.path, id);
  const state = join(base, "state");
  mkdirSync(state, { recursive: true });
  const log = join(base, "bustle.log");
  const file = join(base, "node.yaml");
  writeFileSync(
    file,
    [
      `node: {id: ${id}, name: "${id}.example"}`,
      `nats: {servers: [${urls.map((u) => JSON.stringify(u)).join(", ")}]}`,
      `log: {path: ${log}, audit: ${join(base, "audit.log")}}`,
      `state: {dir: ${state}}`,
      "",
    ].join("\n"),
  );
  return { file, state, log };
}

test("status - reports the connection, the stream, the log position's lag and the last event", async () => {
  nc = await connectBus({ servers: [server!.url], name: "status-test", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  const js = jetstream(nc);
  for (let i = 1; i <= 5; i++) await js.publish("bustle.ev.town.spool.update", `{"i":${i}}`, { msgID: `status-${i}` });
  const cfg = nodeConfig("town", [server!.url]);
  const logText = "2026-11-22T05:51:05.123Z town ~alice hello\n2026-11-22T05:51:06.123Z town ~bob shouts, 'HI'\n";
  writeFileSync(cfg.log, logText);
  writeFileSync(join(cfg.state, "log-position.json"), JSON.stringify({ seq: 2, size: Buffer.byteLength(logText) }));
  const home = join(dir.path, "home");
  mkdirSync(home, { recursive: true });

  const r = await runBustle(["status", "--config", cfg.file, "--json"], cliEnv(home));
  assert.equal(r.code, 0, r.stderr);
  const h = JSON.parse(r.stdout.toString());
  assert.equal(h.node.id, "town");
  assert.equal(h.connection.serverName, "solo");
  assert.equal(h.connection.jetstream, true);
  assert.equal(h.stream.name, "BUSTLE");
  assert.equal(h.stream.messages, 5);
  assert.equal(h.stream.lastSeq, 5);
  assert.equal(h.stream.replicas, 1);
  assert.equal(h.stream.leader, "solo");
  assert.deepEqual(h.logPosition, {
    file: join(cfg.state, "log-position.json"),
    seq: 2,
    size: Buffer.byteLength(logText),
    lag: 3,
  });
  assert.deepEqual(h.lastEvent, { line: "2026-11-22T05:51:06.123Z town ~bob shouts, 'HI'" });

  const human = await runBustle(["status", "--config", cfg.file], cliEnv(home));
  assert.equal(human.code, 0, human.stderr);
  const text = human.stdout.toString();
  assert.match(text, /node town \(town\.example\)/);
  assert.match(text, /BUSTLE: 5 events/);
  assert.match(text, /at seq 2 .*3 events behind the stream/);
  assert.match(text, /~bob shouts, 'HI'/);

  // $BUSTLE_CONFIG is the default config; a missing position file is reported, not fatal.
  const other = nodeConfig("club", [server!.url]);
  const viaEnv = await runBustle(["status", "--json"], cliEnv(home, { BUSTLE_CONFIG: other.file }));
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const h2 = JSON.parse(viaEnv.stdout.toString());
  assert.equal(h2.node.id, "club");
  assert.match(h2.logPosition.error, /no log position/);
  assert.match(h2.lastEvent.error, /no log at/);
});

test("status - NATS unreachable: exit 1 with one clear line, promptly", async () => {
  const port = await freePort();
  const cfg = nodeConfig("down", [`nats://127.0.0.1:${port}`]);
  const r = await runBustle(["status", "--config", cfg.file], cliEnv(dir.path), 20_000);
  assert.equal(r.code, 1);
  assert.equal(r.stdout.length, 0);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`^bustle: cannot reach NATS at nats://127\\.0\\.0\\.1:${port}`));
});

test("status - a server that accepts but never answers: exit 1, no hang", async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (silent.address() as AddressInfo).port;
    const cfg = nodeConfig("mute", [`nats://127.0.0.1:${port}`]);
    const r = await runBustle(["status", "--config", cfg.file], cliEnv(dir.path), 20_000);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^bustle: cannot reach NATS at .*\n$/);
  } finally {
    silent.close();
    for (const s of sockets) s.destroy();
  }
});

test("status - a broken config: exit 1 naming the file and key", async () => {
  const file = join(dir.path, "bad.yaml");
  writeFileSync(file, 'node: {id: town}\nnats: {servers: ["nats://127.0.0.1:4222"], prot: 1}\n');
  const r = await runBustle(["status", "--config", file], cliEnv(dir.path));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.yaml:2 .*prot/);
});

test("status - a three-server cluster: routes, replicas and the leader", async () => {
  cluster = await startCluster(join(dir.path, "cluster"), 3);
  const cnc = await connectBus({ servers: cluster.urls, name: "status-cluster-test", logger: silentLogger });
  try {
    await ensureStream(cnc, { replicas: 3 }, silentLogger);
    await jetstream(cnc).publish("bustle.ev.town.spool.shout", "{}", { msgID: "cluster-1" });
  } finally {
    await closeBus(cnc);
  }
  const cfg = nodeConfig("trio", [cluster.urls[0]!]);
  const r = await runBustle(["status", "--config", cfg.file, "--json"], cliEnv(dir.path));
  assert.equal(r.code, 0, r.stderr);
  const h = JSON.parse(r.stdout.toString());
  assert.equal(h.connection.cluster, "bustle");
  assert.equal(h.connection.connectUrls.length, 3);
  assert.equal(h.stream.replicas, 3);
  assert.equal(h.stream.peers.length, 3);
  assert.equal(h.stream.peers.filter((p: { leader: boolean }) => p.leader).length, 1);
  assert.deepEqual(h.stream.peers.map((p: { name: string }) => p.name).sort(), ["n1", "n2", "n3"]);
  const human = await runBustle(["status", "--config", cfg.file], cliEnv(dir.path));
  assert.match(human.stdout.toString(), /replicas +3 configured, leader n\d/);
});
