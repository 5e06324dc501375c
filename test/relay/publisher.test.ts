import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { decodeEvent, makeEvent, type BustleEvent } from "../../cluster/envelope.js";
import { createLogger, silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { startServer } from "../../cluster/servers.js";
import { ensureStream } from "../../cluster/stream.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { memoryAudit } from "../../relay/audit.js";
import { openOutbox, type Outbox } from "../../relay/outbox.js";
import { createPublisher, type Publisher } from "../../relay/publisher.js";
import { hangServer, storedMessages } from "../support/bus.js";

const dir = tempDir();
let server: NatsServer;
let nc: NatsConnection;

before(async () => {
  server = await startServer(dir.path);
  nc = await connectBus({ servers: [server.url], name: "test", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
});
after(async () => {
  await closeBus(nc);
  await server.stop();
  dir.remove();
});

const ev = (tag: string, n: number): BustleEvent =>
  makeEvent({
    node: "town",
    source: "spool",
    kind: "update",
    actor: "alice",
    text: `~alice ${tag} ${n}`,
    id: `${tag}-event-${n}`,
  });

/** The texts the stream holds whose text starts with `~alice <tag> `, in stream order. */
async function storedTexts(tag: string): Promise<string[]> {
  const texts = (await storedMessages(nc)).map((m) => decodeEvent(m.data)?.text);
  return texts.filter((t): t is string => t?.startsWith(`~alice ${tag} `) === true);
}

const hang = () => hangServer(server);

async function running(
  name: string,
  ackTimeoutMs: number,
): Promise<{ outbox: Outbox; publisher: Publisher; logged: string[] }> {
  const outbox = await openOutbox(join(dir.path, name), silentLogger);
  const logged: string[] = [];
  const publisher = createPublisher({
    outbox,
    log: createLogger({ write: (line) => logged.push(line) }),
    audit: memoryAudit(),
    idKey: new Uint8Array(32).fill(1),
    ackTimeoutMs,
  });
  publisher.start(nc);
  return { outbox, publisher, logged };
}

test("publisher - events are forgotten by the outbox once the stream stored them, each once, in order", async () => {
  const { outbox, publisher } = await running("ordered", 5_000);
  try {
    for (let i = 0; i < 300; i++) await outbox.submit([ev("ordered", i)]);
    await waitFor(() => outbox.size === 0, 20_000, "the outbox to be empty");
    assert.deepEqual(
      await storedTexts("ordered"),
      Array.from({ length: 300 }, (_, i) => `~alice ordered ${i}`),
    );
  } finally {
    await publisher.stop();
    await outbox.close();
  }
});

test("publisher - a hung server (SIGSTOP): acks time out, events stay in the outbox, and after SIGCONT each is stored exactly once", async () => {
  const { outbox, publisher, logged } = await running("hung", 300);
  try {
    await hang();
    await outbox.submit([ev("hung", 0), ev("hung", 1), ev("hung", 2)]);
    await waitFor(
      () => logged.filter((l) => l.includes("publish failed") && l.includes("no reply from the stream")).length >= 2,
      10_000,
      "two rounds of publishes to time out",
    );
    assert.equal(outbox.size, 3, "nothing is forgotten while the stream has not stored it");
    server.signal("SIGCONT");
    await waitFor(() => outbox.size === 0, 20_000, "the outbox to be empty after SIGCONT");
    assert.deepEqual(await storedTexts("hung"), ["~alice hung 0", "~alice hung 1", "~alice hung 2"]);
  } finally {
    server.signal("SIGCONT");
    await publisher.stop();
    await outbox.close();
  }
});
