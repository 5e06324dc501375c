import { test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../../cluster/logger.js";
import { JoinSequence } from "../../../bots/quakeworld/join.js";

function sequence(mapChecksum?: (m: string) => Promise<number | undefined>) {
  const sent: string[] = [];
  const oob: string[] = [];
  const join = new JoinSequence({
    command: (t) => void sent.push(t),
    oob: (t) => void oob.push(t),
    mapChecksum,
    log: silentLogger,
  });
  return { join, sent, oob };
}

test("quakeworld join - follows the sequence, proves the map, and is spawned at the first frame after begin", async () => {
  const { join, sent } = sequence(async (m) => (m === "maps/dm4.bsp" ? -12345 : undefined));
  join.start();
  assert.equal(
    join.handle({
      type: "serverdata",
      protocol: 28,
      servercount: 7,
      gamedir: "qw",
      playernum: 1,
      spectator: true,
      levelname: Buffer.from(""),
    }),
    "left",
  );
  join.handle({ type: "soundlist", next: 0 });
  join.handle({ type: "modellist", next: 0, first: "maps/dm4.bsp" });
  await new Promise((r) => setImmediate(r));
  join.handle({ type: "stufftext", text: "cmd spawn 7 0\n" });
  assert.equal(join.handle({ type: "frame" }), undefined, "not before begin");
  join.handle({ type: "stufftext", text: "skins\n" });
  assert.equal(join.handle({ type: "frame" }), "joined");
  assert.equal(join.handle({ type: "frame" }), undefined, "once");
  assert.deepEqual(sent, ["new", "soundlist 7 0", "modellist 7 0", "prespawn 7 0 -12345", "spawn 7 0", "begin 7"]);
  assert.equal(join.handle({ type: "stufftext", text: "changing\n" }), "left", "a map change");
  join.handle({ type: "stufftext", text: "reconnect\n" });
  assert.equal(sent.at(-1), "new");
});

test("quakeworld join - only the join commands are sent back; the real-IP check goes to the server only", () => {
  const { join, sent, oob } = sequence();
  join.handle({ type: "stufftext", text: "cmd say hello\ncmd rcon x quit\nquit\nexec evil.cfg\nalias a b\n" });
  join.handle({ type: "stufftext", text: 'packet 10.0.0.9:27500 "ip 3 1234"\npacket 1.2.3.4:1 "rcon pw kick all"\n' });
  assert.deepEqual(sent, []);
  assert.deepEqual(oob, ["ip 3 1234"]);
  join.handle({ type: "userinfo", slot: 2, userid: 5, info: "\\name\\\xe1lice\\team\\red" });
  join.handle({ type: "userinfo", slot: 200, userid: 6, info: "\\name\\ghost" });
  join.handle({ type: "setinfo", slot: 3, key: "name", value: "bob" });
  assert.deepEqual(
    [...join.names],
    [
      [2, "\xe1lice"],
      [3, "bob"],
    ],
  );
  join.handle({ type: "userinfo", slot: 2, userid: 5, info: "" });
  assert.deepEqual([...join.names], [[3, "bob"]], "a client that left");
});
