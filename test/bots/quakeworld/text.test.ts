import { test } from "node:test";
import assert from "node:assert/strict";
import { isSafeText } from "../../../cluster/text.js";
import { consoleText, quakeToText } from "../../../bots/quakeworld/charset.js";
import { ChatEvents, parseChat } from "../../../bots/quakeworld/chat.js";
import { parseStatus } from "../../../bots/quakeworld/status.js";

const bytes = (s: string) => Buffer.from(s, "latin1");

test("quakeworld text - gold letters, glyphs and control bytes become readable ASCII", () => {
  assert.equal(quakeToText(bytes("\xe1\xec\xe9\xe3\xe5")), "alice");
  assert.equal(quakeToText(bytes("\x10team\x11 \x12\x13")), "[team] 01");
  assert.equal(quakeToText(bytes("a\x1b[31mb\x07c")), "a9[31mb#c");
  assert.equal(quakeToText(bytes("x\n\ny\r")), "x y>");
  const hostile = quakeToText(bytes("\x9b2J\x1b]0;t\x07" + "\xff".repeat(50) + "A".repeat(1000)));
  assert.ok(isSafeText(hostile));
  assert.match(hostile, /^[\x20-\x7e…]+$/);
  assert.ok(hostile.length <= 400);
});

test("quakeworld text - what goes into the game cannot become a console command", () => {
  assert.equal(consoleText(`hi"; quit; $rcon_password \\ // x\ny`, 100), "hi quit rcon_password / / x y");
  assert.equal(consoleText("héllo wörld ✨", 100), "hello world ?");
  assert.equal(consoleText("a".repeat(300), 50), "a".repeat(47) + "...");
  for (const evil of ["\u0000;", "\u001b[2J", "////", "$$$", "\r\nquit"])
    assert.doesNotMatch(consoleText(evil, 100), /[;"$\\\x00-\x1f\x7f-\uffff]|\/\//);
});

test("quakeworld status - serverinfo, players and spectators, hostile names made safe", () => {
  const reply = bytes(
    "n\\hostname\\my \xf3erver\\map\\dm4\\maxclients\\8\n" +
      '3 12 5 40 "\xe1lice" "base" 4 4 "red"\n' +
      '4 -9999 1 -30 "\\s\\spec\x1b[0m" "" 0 0 ""\n' +
      '5 S 0 10 "bob" "" 0 0 "blue"\n' +
      "garbage line\n\0stale bytes",
  );
  const s = parseStatus(reply)!;
  assert.equal(s.hostname, "my server");
  assert.equal(s.map, "dm4");
  assert.equal(s.maxclients, 8);
  assert.deepEqual(
    s.players.map((p) => [p.name, p.frags, p.team]),
    [["alice", 12, "red"]],
  );
  assert.deepEqual(
    s.spectators.map((p) => p.name),
    ["spec9[0m", "bob"],
  );
  assert.equal(parseStatus(bytes("c12345")), undefined);
  assert.equal(parseStatus(bytes("nnot serverinfo")), undefined);
});

test("quakeworld chat - the speaker is found among known names; console and own lines are dropped", () => {
  const names = ["bustle", "al: ice", "al"];
  assert.deepEqual(parseChat(3, bytes("al: ice: hi there\n"), names, "bustle"), {
    player: "al: ice",
    text: "hi there",
    team: false,
    spectator: false,
  });
  assert.deepEqual(parseChat(3, bytes("(al): go quad\n"), names, "bustle")?.team, true);
  assert.equal(parseChat(3, bytes("console: ~alice shouts, 'HI'\n"), names, "bustle"), undefined);
  assert.equal(parseChat(3, bytes("bustle: echo\n"), names, "bustle"), undefined);
  assert.equal(parseChat(2, bytes("al: not chat\n"), names, "bustle"), undefined);
  assert.equal(parseChat(3, bytes("[SPEC] al: watching\n"), names, "bustle")?.spectator, true);
});

test("quakeworld chat - without relay_contents only a hum, once per window; team chat never", () => {
  const hum = new ChatEvents({ server: "qw", relayContents: false, windowMs: 60_000 });
  const line = { player: "al", text: "secret plans", team: false, spectator: false };
  assert.deepEqual(hum.toEvent(line, 0), { text: "people are chatting on qw", data: { server: "qw" } });
  assert.equal(hum.toEvent(line, 30_000), undefined);
  assert.equal(hum.toEvent(line, 61_000)?.text, "people are chatting on qw");
  const relay = new ChatEvents({ server: "qw", relayContents: true, windowMs: 60_000 });
  assert.equal(relay.toEvent(line, 0)?.text, "[qw] al: secret plans");
  assert.equal(relay.toEvent({ ...line, team: true }, 0), undefined);
});

test("quakeworld chat - a flood is cut to a burst of 5, then one line per 5 s", () => {
  const relay = new ChatEvents({ server: "qw", relayContents: true, windowMs: 0 });
  const line = { player: "spammer", text: "buy gold", team: false, spectator: false };
  const passed = Array.from({ length: 50 }, (_, i) => relay.toEvent(line, i * 10)).filter(Boolean).length;
  assert.equal(passed, 5);
  assert.equal(relay.dropped, 45);
  assert.ok(relay.toEvent(line, 5_100), "one more after 5 s");
  assert.equal(relay.toEvent(line, 5_200), undefined);
});
