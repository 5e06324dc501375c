import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DiscardPolicy, jetstreamManager } from "@nats-io/jetstream";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { startServer } from "../../cluster/servers.js";
import { ensureStream } from "../../cluster/stream.js";
import { createStreamPublisher, StreamPublishError, type StreamPublisher } from "../../cluster/stream-publisher.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { hangServer, storedMessages } from "../support/bus.js";

const dir = tempDir();
let server: NatsServer;
let nc: NatsConnection;
const data = (s: string) => new TextEncoder().encode(s);

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

/** The stream's stored messages on `subject`, as their payloads. */
async function stored(subject: string): Promise<string[]> {
  return (await storedMessages(nc, subject)).map((m) => m.string());
}

const hang = () => hangServer(server);

/** Rejects with a StreamPublishError of `reason`, else fails the test. */
async function rejectsWith(p: Promise<unknown>, reason: string): Promise<StreamPublishError> {
  const err = await p.then(
    () => assert.fail(`resolved; expected a ${reason} failure`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StreamPublishError, `not a StreamPublishError: ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  return err;
}

function publisher(timeoutMs = 5_000): StreamPublisher {
  return createStreamPublisher(nc, { timeoutMs });
}

test("stream publisher - resolves with the stream's ack; the same id again is a duplicate of the same sequence", async () => {
  const p = publisher();
  try {
    const a = await p.publish("bustle.ev.town.spool.update", data("one"), "sp-ack-1");
    assert.equal(a.stream, "BUSTLE");
    assert.equal(a.duplicate, false);
    const b = await p.publish("bustle.ev.town.spool.update", data("one again"), "sp-ack-1");
    assert.deepEqual(b, { stream: "BUSTLE", seq: a.seq, duplicate: true });
    const c = await p.publish("bustle.ev.town.spool.update", data("two"), "sp-ack-2");
    assert.equal(c.seq, a.seq + 1);
    assert.equal(p.inFlight, 0);
  } finally {
    p.close();
  }
});

test("stream publisher - many publishes at once each settle with their own sequence, in order", async () => {
  const p = publisher();
  try {
    const acks = await Promise.all(
      Array.from({ length: 500 }, (_, i) => p.publish("bustle.ev.town.spool.many", data(`m${i}`), `sp-many-${i}`)),
    );
    for (let i = 1; i < acks.length; i++) assert.equal(acks[i]!.seq, acks[i - 1]!.seq + 1);
    assert.deepEqual(
      await stored("bustle.ev.town.spool.many"),
      acks.map((_, i) => `m${i}`),
    );
  } finally {
    p.close();
  }
});

test("stream publisher - a subject no stream takes rejects as no-stream, at once", async () => {
  const p = publisher(60_000);
  try {
    const err = await rejectsWith(p.publish("nostream.here", data("x"), "sp-nostream-1"), "no-stream");
    assert.match(err.message, /nostream\.here/);
  } finally {
    p.close();
  }
});

test("stream publisher - a stream that refuses the message rejects with its error; nothing is stored", async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "FULL", subjects: ["full.>"], max_msgs: 1, discard: DiscardPolicy.New });
  const p = publisher();
  try {
    await p.publish("full.a", data("first"), "sp-full-1");
    const err = await rejectsWith(p.publish("full.a", data("second"), "sp-full-2"), "refused");
    assert.match(err.message, /maximum messages/);
    assert.equal(typeof err.errCode, "number");
    assert.equal((await jsm.streams.info("FULL")).state.messages, 1);
  } finally {
    p.close();
    await jsm.streams.delete("FULL");
  }
});

test("stream publisher - a hung server (SIGSTOP) times out what is in flight; after SIGCONT the retry is stored once", async () => {
  const p = publisher(400);
  try {
    await hang();
    await Promise.all(
      [0, 1, 2].map((i) =>
        rejectsWith(p.publish("bustle.ev.town.spool.hung", data(`h${i}`), `sp-hung-${i}`), "timeout"),
      ),
    );
    assert.equal(p.inFlight, 0);
    server.signal("SIGCONT");
    // The server may have stored the first tries once it woke: the same ids again are no new messages.
    for (let i = 0; i < 3; i++) await p.publish("bustle.ev.town.spool.hung", data(`h${i}`), `sp-hung-${i}`);
    assert.deepEqual(await stored("bustle.ev.town.spool.hung"), ["h0", "h1", "h2"]);
  } finally {
    server.signal("SIGCONT");
    p.close();
  }
});

test("stream publisher - a server killed (kill -9) and restarted: what was in flight fails, then publishing goes on", async () => {
  const p = publisher(60_000);
  try {
    await p.publish("bustle.ev.town.spool.kill", data("k0"), "sp-kill-0");
    await hang(); // so the next publishes are surely in flight when it dies
    const inFlight = [1, 2].map((i) =>
      rejectsWith(p.publish("bustle.ev.town.spool.kill", data(`k${i}`), `sp-kill-${i}`), "connection"),
    );
    await server.kill();
    await Promise.all(inFlight);
    await server.start();
    await waitFor(() => !nc.isClosed() && nc.info !== undefined, 20_000, "the client to reconnect");
    const again = await waitFor(
      () =>
        p.publish("bustle.ev.town.spool.kill", data("k1"), "sp-kill-1").catch((e: unknown) => {
          if (e instanceof StreamPublishError) return undefined; // the stream is still recovering
          throw e;
        }),
      20_000,
      "a publish after the restart",
    );
    assert.equal(again.stream, "BUSTLE");
    await p.publish("bustle.ev.town.spool.kill", data("k2"), "sp-kill-2");
    assert.deepEqual(await stored("bustle.ev.town.spool.kill"), ["k0", "k1", "k2"]);
  } finally {
    p.close();
  }
});

test("stream publisher - close rejects what is waiting, and later publishes", async () => {
  const p = publisher(60_000);
  await hang();
  try {
    const waiting = p.publish("bustle.ev.town.spool.close", data("c"), "sp-close-1");
    p.close();
    await rejectsWith(waiting, "closed");
    await rejectsWith(p.publish("bustle.ev.town.spool.close", data("c"), "sp-close-2"), "closed");
  } finally {
    server.signal("SIGCONT");
  }
});
