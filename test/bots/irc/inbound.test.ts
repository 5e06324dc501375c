/** Inbound handling and connection policy with plain objects: no server needed. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { silentLogger } from "../../../cluster/logger.js";
import type { BotOutput } from "../../../bots/bot.js";
import { Commands, NOTHING_YET } from "../../../bots/irc/commands.js";
import { ChannelJoins, nickCandidates, reconnectDelay } from "../../../bots/irc/policy.js";
import { Inbound } from "../../../bots/irc/inbound.js";
import { Roster } from "../../../bots/irc/roster.js";
import { ircConfig } from "./harness.js";

function setup(section: Record<string, unknown> = {}) {
  let now = 0;
  const published: BotOutput[] = [];
  const commands: string[] = [];
  const inbound = new Inbound({
    config: ircConfig({
      host: "irc.example.org",
      nick: "bustle",
      channels: ["#bustle", "#Two"],
      ignore: ["OtherBot"],
      listen: { window: "10s" },
      ...section,
    }),
    publish: async (o) => {
      published.push(o);
      return "id";
    },
    log: silentLogger,
    myNick: () => "bustle_",
    command: (ch, nick) => void commands.push(`${ch} ${nick}`),
    now: () => now,
  });
  const say = (nick: string, target: string, message: string, action = false) =>
    inbound.handle({ nick, target, message, action });
  return { say, published, commands, tick: (ms: number) => (now += ms) };
}

test("irc inbound - one ambient event per channel per window, nothing from ignored nicks or ourselves", () => {
  const { say, published, tick } = setup();
  say("bustle_", "#bustle", "my own echo");
  say("otherbot", "#bustle", "another bot");
  say("alice", "alice", "a private message");
  say("alice", "#elsewhere", "a channel we were not told about");
  assert.equal(published.length, 0);
  say("alice", "#bustle", "hi");
  say("bob", "#bustle", "hello");
  say("carol", "#two", "yo");
  assert.deepEqual(published, [
    {
      kind: "chat",
      actor: null,
      text: "you hear faint noise in the chat room",
      data: { channel: "#bustle", network: "irc.example.org" },
    },
    {
      kind: "chat",
      actor: null,
      text: "you hear faint noise in the chat room",
      data: { channel: "#Two", network: "irc.example.org" },
    },
  ]);
  tick(9_999);
  say("alice", "#bustle", "still chatting");
  assert.equal(published.length, 2);
  tick(1);
  say("alice", "#bustle", "a new window");
  assert.equal(published.length, 3);
});

test("irc inbound - relayed contents are stripped of formatting; actions are marked", () => {
  const { say, published } = setup({ relay_contents: true });
  say("alice", "#bustle", "waves \u0002hard\u0002", true);
  assert.equal(published[0]!.text, "#bustle <alice> * alice waves hard");
  assert.deepEqual(published[0]!.data, { channel: "#bustle", network: "irc.example.org", nick: "alice" });
});

test("irc inbound - !bustle goes to the command handler, unless commands are off", () => {
  const a = setup();
  a.say("alice", "#bustle", "\u0002!bustle\u0002");
  a.say("alice", "#bustle", "!bustlers unite");
  assert.deepEqual(a.commands, ["#bustle alice"]);
  assert.equal(a.published.length, 1, "!bustlers is chatter");
  const b = setup({ commands: false });
  b.say("alice", "#bustle", "!bustle");
  assert.deepEqual(b.commands, []);
});

test("irc commands - the last few events, once per cooldown per channel", () => {
  let now = 0;
  const c = new Commands({ recent: 2, cooldownMs: 1000, now: () => now });
  assert.deepEqual(c.answer("#a"), [NOTHING_YET]);
  c.remember("one");
  c.remember("two");
  c.remember("three");
  assert.equal(c.answer("#a"), undefined);
  assert.deepEqual(c.answer("#b"), ["two", "three"]);
  now = 1000;
  assert.deepEqual(c.answer("#A"), ["two", "three"]);
});

test("irc connection - backoff doubles with jitter up to the cap, and nicks fall back", () => {
  const p = { minMs: 1000, maxMs: 60_000, stableMs: 60_000 };
  assert.equal(
    reconnectDelay(0, p, () => 0),
    500,
  );
  assert.equal(
    reconnectDelay(0, p, () => 1),
    1000,
  );
  assert.equal(
    reconnectDelay(3, p, () => 1),
    8000,
  );
  assert.equal(
    reconnectDelay(50, p, () => 1),
    60_000,
  );
  assert.equal(
    reconnectDelay(50, p, () => 0),
    30_000,
  );
  const nicks = nickCandidates("bustle", () => 0.5);
  assert.deepEqual(
    [0, 1, 2, 3].map(() => nicks.next().value),
    ["bustle", "bustle_", "bustle__", "bustle5500"],
  );
});

test("irc roster - tracks who is in each channel from client events", () => {
  const client = new EventEmitter();
  const r = new Roster();
  r.attach(client);
  client.emit("userlist", { channel: "#A", users: [{ nick: "alice" }, { nick: "bob" }] });
  client.emit("join", { channel: "#a", nick: "carol" });
  client.emit("part", { channel: "#a", nick: "BOB" });
  client.emit("nick", { nick: "alice", new_nick: "alice2" });
  assert.deepEqual(r.nicks("#a").sort(), ["alice2", "carol"]);
  client.emit("kick", { channel: "#a", kicked: "carol" });
  client.emit("quit", { nick: "alice2" });
  assert.deepEqual(r.nicks("#a"), []);
});

test("irc joins - one JOIN per channel, none while in flight, a pause after a kick", () => {
  const j = new ChannelJoins([{ name: "#A" }, { name: "#b" }]);
  assert.deepEqual(j.due(0), ["#A", "#b"]);
  assert.deepEqual(j.due(1_000), [], "no duplicate JOINs while the first are unanswered");
  j.joinedNow("#a");
  j.refused("#B");
  assert.deepEqual(j.due(2_000), ["#b"], "a refused JOIN is due again");
  j.joinedNow("#b");
  assert.equal(j.all, true);
  j.kicked("#a", 10_000);
  assert.equal(j.isJoined("#A"), false);
  assert.deepEqual(j.due(9_999), []);
  assert.deepEqual(j.due(10_000), ["#A"]);
  j.reset();
  assert.deepEqual(j.due(10_001), ["#A", "#b"], "a new session joins everything");
});
