import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { oob } from "../../../bots/quakeworld/msg.js";
import { Netchan } from "../../../bots/quakeworld/netchan.js";
import { parseServerMessages } from "../../../bots/quakeworld/svc.js";
import { parseStatus } from "../../../bots/quakeworld/status.js";
import { request, resolvePeer } from "../../../bots/quakeworld/udp.js";

const sockets: Socket[] = [];
const bound = async (): Promise<Socket> => {
  const s = createSocket("udp4");
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return s;
};
after(() => sockets.forEach((s) => s.close()));

test("quakeworld udp - replies from another port, without the prefix or malformed are ignored", async () => {
  const server = await bound();
  const spoofer = await bound();
  server.on("message", (_msg, rinfo) => {
    // A third party races the server with a forged answer, then junk arrives, then the real one.
    spoofer.send(oob("n\\hostname\\forged\\map\\evil\n"), rinfo.port, "127.0.0.1");
    server.send(Buffer.from("n\\hostname\\noprefix\n"), rinfo.port, "127.0.0.1");
    server.send(oob("c1234"), rinfo.port, "127.0.0.1");
    setTimeout(() => server.send(oob("n\\hostname\\real\\map\\dm2\n"), rinfo.port, "127.0.0.1"), 50);
  });
  const peer = await resolvePeer("127.0.0.1", server.address().port);
  const ignored: string[] = [];
  const reply = await request(peer, "status 23\n", {
    timeoutMs: 2_000,
    accept: (p) => parseStatus(p) !== undefined,
    onIgnored: (w) => ignored.push(w),
  });
  assert.equal(parseStatus(reply!)?.hostname, "real");
  assert.equal(ignored.length, 3);
});

test("quakeworld udp - no answer resolves undefined instead of hanging or throwing", async () => {
  const silent = await bound();
  const peer = await resolvePeer("127.0.0.1", silent.address().port);
  assert.equal(await request(peer, "status 23\n", { timeoutMs: 200 }), undefined);
});

test("quakeworld protocol - stale, duplicate and forged netchan packets are dropped; truncated messages stop the parser", () => {
  const chan = new Netchan(1234);
  chan.transmit();
  const packet = (seq: number, ack: number, body: number[]) => {
    const b = Buffer.alloc(8 + body.length);
    b.writeUInt32LE(seq, 0);
    b.writeUInt32LE(ack, 4);
    Buffer.from(body).copy(b, 8);
    return b;
  };
  assert.ok(chan.process(packet(1, 1, [1])));
  assert.equal(chan.process(packet(1, 1, [1])), undefined, "duplicate");
  assert.equal(chan.process(packet(5, 999, [1])), undefined, "acknowledges a packet never sent");
  assert.equal(chan.process(Buffer.from([1, 2, 3])), undefined, "too short");
  assert.deepEqual(parseServerMessages(Buffer.from([8, 3, 0x61, 0x62])), {
    messages: [],
    error: "message ended early",
  });
  assert.deepEqual(parseServerMessages(Buffer.from([8, 3, 0x61, 0, 200, 1, 2])).error, "unknown message type 200");
  assert.equal(parseServerMessages(Buffer.from([8, 3, 0x61, 0, 200])).messages.length, 1, "what came before is kept");
});

test("quakeworld protocol - MD4 matches RFC 1320's test vectors (the map checksum is built on it)", async () => {
  const { md4Words } = await import("../../../bots/quakeworld/map-checksum.js");
  const hex = (w: number[]) =>
    Buffer.concat(
      w.map((x) => {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(x);
        return b;
      }),
    ).toString("hex");
  assert.equal(hex(md4Words(Buffer.from(""))), "31d6cfe0d16ae931b73c59d7e0c089c0");
  assert.equal(hex(md4Words(Buffer.from("abc"))), "a448017aaf21d8525fc10ae87aa6729d");
  assert.equal(hex(md4Words(Buffer.from("1234567890".repeat(8)))), "e33b4ddc9c38f2199c3e7b164fcc0536");
});

test("quakeworld protocol - random and truncated packets never throw out of the parsers", async () => {
  const { parseChat } = await import("../../../bots/quakeworld/chat.js");
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 3_000; i++) {
    const len = Math.floor(rand() * 300);
    const b = Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
    if (i % 3 === 0 && len > 0) b[0] = [8, 9, 11, 40, 42, 45, 47, 48, 23, 6][i % 10]!;
    const r = parseServerMessages(b);
    assert.ok(Array.isArray(r.messages));
    parseStatus(Buffer.concat([Buffer.from("n\\"), b]));
    parseChat(3, b, ["a", "b:"], "bustle");
  }
});
