/** The channel's hum back into bustle: ambient `chat` events in the stream, at the configured rate. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstream } from "@nats-io/jetstream";
import { encodeEvent, makeEvent, subjectOf } from "../../../cluster/envelope.js";
import { waitFor, sleep } from "../../../cluster/wait-for.js";
import { NODE, observe, startBench, startBot, stopBench, streamEvents, type Bench } from "./harness.js";

let b: Bench;

before(async () => {
  b = await startBench();
});
after(() => stopBench(b));

test("irc listen - channel chatter becomes at most one chat event per window", async () => {
  const CH = "#hum";
  // Two people taking turns: each stays under the server's own flood limit.
  const people = [await observe(b, CH, "chatty"), await observe(b, CH, "chatty2")];
  const other = await observe(b, CH, "otherbot");
  const t = await startBot(b, "irc-hum", {
    nick: "hummer",
    channels: [CH],
    ignore: ["otherbot"],
    listen: { window: "1s" },
  });
  await waitFor(() => t.states.some((s) => s.state === "connected"), 15_000, "the bot in its channel");
  await other.say(CH, "I am a bot, ignore me");
  await sleep(1_500);
  assert.equal((await streamEvents(b.nc, "irc-hum")).length, 0, "ignored nicks make no noise");

  const start = Date.now();
  let said = 0;
  while (Date.now() - start < 3_500) {
    await people[said % 2]!.say(CH, `secret words ${said}`);
    said++;
    await sleep(250);
  }
  await sleep(500);
  const events = await streamEvents(b.nc, "irc-hum");
  assert.ok(said >= 10, `${said} messages said`);
  // 3.5 s of chatter with a 1 s window: one event per window started, never more (at most 4–5).
  assert.ok(events.length >= 2 && events.length <= 5, `${events.length} events for 3.5 s of chatter with a 1 s window`);
  for (const e of events) {
    assert.equal(e.kind, "chat");
    assert.equal(e.node, NODE);
    assert.equal(e.source, "irc-hum");
    assert.equal(e.actor, null);
    assert.equal(e.text, "you hear faint noise in the chat room");
    assert.ok(!JSON.stringify(e).includes("secret"), "contents are not relayed by default");
  }
  const gaps = events.slice(1).map((e, i) => Date.parse(e.ts) - Date.parse(events[i]!.ts));
  for (const g of gaps) assert.ok(g >= 950, `events ${g} ms apart`);
});

test("irc listen - relay_contents carries the words, formatting stripped", async () => {
  const CH = "#words";
  const obs = await observe(b, CH, "speaker");
  const t = await startBot(b, "irc-words", {
    nick: "wordy",
    channels: [CH],
    relay_contents: true,
    listen: { window: "1m" },
  });
  await waitFor(() => t.states.some((s) => s.state === "connected"), 15_000, "the bot in its channel");
  await obs.say(CH, "\u0002hello\u0002 \u000304,01red\u0003 \u001dworld\u001d");
  const [e] = await waitFor(
    async () => {
      const list = await streamEvents(b.nc, "irc-words");
      return list.length ? list : undefined;
    },
    10_000,
    "a chat event",
  );
  assert.equal(e!.text, "#words <speaker> hello red world");
  assert.deepEqual(e!.data, { channel: CH, network: "127.0.0.1", nick: "speaker" });
  await obs.say(CH, "more within the window");
  await sleep(1_000);
  assert.equal((await streamEvents(b.nc, "irc-words")).length, 1, "one per window");
});

test("irc listen - right after a start, !bustle answers from the stream's recent events", async () => {
  const CH = "#history";
  const js = jetstream(b.nc);
  for (const [kind, text] of [
    ["update", "~alice is baking bread"],
    ["shout", "~bob shouts, 'HELLO'"],
    ["update", "~carol fixed the printer"],
  ]) {
    const e = makeEvent({ node: "zia", source: "spool", kind: kind!, actor: "x", text: text! });
    await js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id });
  }
  const obs = await observe(b, CH, "asker");
  const t = await startBot(
    b,
    "irc-history",
    { nick: "historian", channels: [CH] },
    { format: "{node}: {text}", kinds: ["update"] },
  );
  await waitFor(() => t.states.some((s) => s.state === "connected"), 15_000, "the bot in its channel");
  await obs.say(CH, "!bustle");
  await waitFor(() => obs.said(CH, "historian").length >= 2, 10_000, "the answer");
  assert.deepEqual(
    obs.said(CH, "historian"),
    ["zia: ~alice is baking bread", "zia: ~carol fixed the printer"],
    "only the kinds it relays",
  );
});
