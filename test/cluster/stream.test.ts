import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstream } from "@nats-io/jetstream";
import { connectBus, closeBus, type NatsConnection } from "../../cluster/connection.js";
import { ensureStream } from "../../cluster/stream.js";
import { silentLogger } from "../../cluster/logger.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import type { NatsServer } from "../../cluster/nats-server.js";

const dir = tempDir();
let server: NatsServer;
let nc: NatsConnection;

before(async () => {
  server = await startServer(dir.path);
  nc = await connectBus({ servers: [server.url], name: "test", logger: silentLogger });
});
after(async () => {
  await closeBus(nc);
  await server.stop();
  dir.remove();
});

test("stream - ensureStream is idempotent and de-duplicates by message id", async () => {
  await ensureStream(nc, {}, silentLogger);
  const jsm = await ensureStream(nc, {}, silentLogger);
  const info = await jsm.streams.info("BUSTLE");
  assert.deepEqual(info.config.subjects, ["bustle.ev.>"]);
  assert.equal(info.config.num_replicas, 1);
  const js = jetstream(nc);
  const a = await js.publish("bustle.ev.town.spool.update", "x", { msgID: "same-id-1" });
  const b = await js.publish("bustle.ev.town.spool.update", "x", { msgID: "same-id-1" });
  assert.equal(b.duplicate, true);
  assert.equal(a.seq, b.seq);
});
