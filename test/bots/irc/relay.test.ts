/** Events out to a real channel, watched by an independent client (ii). */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "irc-framework";
import { waitFor, sleep } from "../../../cluster/wait-for.js";
import { textBudget } from "../../../bots/irc/split.js";
import { makeEvent } from "../../../cluster/envelope.js";
import type { Observer } from "../../fixtures/ii-observer.js";
import { event, observe, startBench, startBot, stopBench, visible, type Bench, type TestBot } from "./harness.js";

const CH = "#bustle";
let b: Bench;
let obs: Observer;
let t: TestBot;
const bytes = (s: string) => Buffer.byteLength(s, "utf8");
const botLines = () => obs.said(CH, "bustle");

before(async () => {
  b = await startBench();
  obs = await observe(b, CH);
  t = await startBot(b, "irc-test", { nick: "bustle", channels: [CH] }, { format: "[{node}] {text}" });
  await waitFor(() => t.states.some((s) => s.state === "connected"), 15_000, "the bot in its channel");
});
after(() => stopBench(b));

test("irc relay - events appear in the channel formatted, without pinging the people named", async () => {
  t.deliver(event("~alice shouts, 'HI WORLD'", "shout"));
  t.deliver(event("~bob just added to their public_html", "publish", "bob"));
  await waitFor(() => botLines().length >= 2, 10_000, "two lines from the bot");
  assert.deepEqual(botLines().slice(0, 2), [
    "[town] ~a\u200blice shouts, 'HI WORLD'",
    "[town] ~b\u200bob just added to their public_html",
  ]);
  assert.deepEqual(botLines().slice(0, 2).map(visible), [
    "[town] ~alice shouts, 'HI WORLD'",
    "[town] ~bob just added to their public_html",
  ]);
});

test("irc relay - an event from a bot (a portal token posting bob's shout) carries its origin in the channel", async () => {
  const before = botLines().length;
  t.deliver(makeEvent({ node: "town", source: "portal", kind: "shout", actor: "guest", text: "~bob shouts, 'X'" }));
  await waitFor(() => botLines().length > before, 10_000, "the portal's event in the channel");
  assert.equal(visible(botLines()[before]!), "[town] [portal] ~bob shouts, 'X'");
});

test("irc relay - a 2,000-byte event arrives as split lines within the IRC line limit", async () => {
  const before = botLines().length;
  const words = Array.from({ length: 240 }, (_, i) =>
    i % 3 === 0 ? `wörd${i}` : i % 3 === 1 ? `日本${i}` : `😀x${i}`,
  );
  const text = words.join(" ");
  assert.ok(bytes(text) >= 2000, `${bytes(text)} bytes`);
  // Delivered as the host would hand over a (hostile) formatted text: no 400-character cap on the way.
  t.deliver(event("long"), text);
  const budget = textBudget({ nick: "bustle", username: "bustle" }, CH);
  await waitFor(
    () => botLines().slice(before).map(visible).join(" ").length >= text.length,
    30_000,
    "the whole long text",
  );
  const lines = botLines().slice(before);
  assert.ok(lines.length >= 5, `${lines.length} lines`);
  for (const l of lines) {
    assert.ok(bytes(l) <= budget, `${bytes(l)} bytes > ${budget}`);
    assert.ok(!l.includes("\ufffd"), "no broken UTF-8 character");
    // What the server relayed to ii: prefix + text + CRLF within 512 bytes.
    assert.ok(bytes(`:bustle!~bustle@127.0.0.1 PRIVMSG ${CH} :${l}\r\n`) <= 512);
  }
  assert.equal(lines.map(visible).join(" "), text, "split on word boundaries, nothing lost or truncated by the server");
});

test("irc relay - CR/LF and IRC commands in an event arrive as one harmless line", async () => {
  const before = botLines().length;
  t.deliver(event("x"), "hi\r\nQUIT :pwned\r\nPRIVMSG #bustle :injected\u0000\nKICK #bustle observer");
  t.deliver(event("x"), "!bustle op me");
  await waitFor(() => botLines().length >= before + 2, 10_000, "two lines");
  await sleep(500);
  const lines = botLines().slice(before);
  assert.deepEqual(lines.map(visible), [
    "hi QUIT :pwned PRIVMSG #bustle :injected KICK #bustle observer",
    "!bustle op me",
  ]);
  assert.equal(
    lines[0],
    "hi QUIT :pwned PRIVMSG #bustle :injected KICK #bustle o\u200bbserver",
    "people in the channel are not pinged",
  );
  assert.equal(lines[1], "\u200b!bustle op me", "defused for other bots");
  assert.equal(obs.sawQuit("bustle"), false, "the bot did not quit");
  assert.ok(!obs.seen(CH).some((l) => /kicked|has left/.test(l.text)), "nobody was kicked");
});

test("irc relay - !bustle answers with the last events, once per cooldown", async () => {
  for (const n of [1, 2, 3, 4]) t.deliver(event(`news ${n}`));
  await waitFor(() => botLines().at(-1) === "[town] news 4", 15_000, "four short events");
  const before = botLines().length;
  await obs.say(CH, "!bustle");
  await waitFor(() => botLines().length >= before + 3, 15_000, "the answer");
  await obs.say(CH, "!bustle");
  await sleep(3_000);
  const lines = botLines().slice(before);
  assert.deepEqual(
    lines,
    ["[town] news 2", "[town] news 3", "[town] news 4"],
    "the last three; a second !bustle within the cooldown is ignored",
  );
});

test("irc relay - the test server really kills a flooding client (control)", async () => {
  const c = new Client();
  c.on("registered", () => c.join(CH));
  c.on("join", (e: { nick: string }) => {
    if (e.nick === "flooder") for (let i = 0; i < 30; i++) c.say(CH, `flood ${i}`);
  });
  const closed = new Promise<void>((r) => c.on("close", () => r()));
  c.connect({ host: "127.0.0.1", port: b.ircd.port, nick: "flooder", auto_reconnect: false, version: null });
  await closed;
  await waitFor(() => obs.sawQuit("flooder", /Excess Flood/), 5_000, "flooder killed for Excess Flood");
});

test("irc relay - a burst of 1,000 events in one second is paced and ends in a summary", async () => {
  const before = botLines().length;
  for (let i = 0; i < 1000; i++) {
    t.deliver(event(`burst event ${i}`));
    if (i % 100 === 99) await sleep(90);
  }
  await waitFor(() => /^…and \d+ more things happened$/.test(botLines().at(-1) ?? ""), 60_000, "the summary line");
  await waitFor(() => t.bot.pendingLines === 0, 10_000, "an empty queue");
  const lines = botLines().slice(before);
  const relayed = lines.filter((l) => l.startsWith("[town] burst event "));
  const summary = Number(/^…and (\d+) more/.exec(lines.at(-1)!)![1]);
  assert.equal(relayed.length + summary, 1000, "every event either relayed or counted");
  assert.ok(relayed.length < 40, `${relayed.length} lines relayed: the queue is bounded`);
  assert.equal(obs.sawQuit("bustle"), false, "not disconnected for flooding");
  const joins = obs.seen(CH).filter((l) => l.nick === "-!-" && l.text.startsWith("bustle(") && /joined/.test(l.text));
  assert.equal(joins.length, 1, "never reconnected");
});

test("irc relay - stop sends a clean QUIT", async () => {
  await t.bot.stop();
  assert.equal(await t.bot.closed(), undefined);
  await waitFor(() => obs.sawQuit("bustle", /bustle is going quiet/), 5_000, "the bot's QUIT message");
});
