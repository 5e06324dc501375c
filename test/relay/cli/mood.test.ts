import { test } from "node:test";
import assert from "node:assert/strict";
import { moodOf } from "../../../relay/cli/mood.js";
import { styleLine, typingFrames } from "../../../relay/cli/live.js";

const line = (text: string) => Buffer.from(`2026-11-22T05:51:05.123Z town ${text}`);
const color = () => "\u001b[38;5;212m";
const textOf = (segs: Array<{ text: string }>) => segs.map((s) => s.text).join("");

test("feed mood - each kind of line is told from its text", () => {
  assert.equal(moodOf("~alice shouts, 'HI WORLD'"), "shout");
  assert.equal(moodOf("someone shouts, 'PSST'"), "shout");
  assert.equal(moodOf("~alice just added to their public_html"), "hum");
  assert.equal(moodOf("~bob just created a new file"), "hum");
  assert.equal(moodOf("~dave is moving around in their home directory"), "hum");
  assert.equal(moodOf("there is a rattling sound in ttbp"), "hum");
  assert.equal(moodOf("[irc-town] <carol> hello #tildes"), "relayed");
  assert.equal(moodOf("[portal] ~bob shouts, 'X'"), "relayed", "a relayed shout is relayed first");
  assert.equal(moodOf("~alice planting tulips"), "update");
});

test("feed mood - shouts are loud, the hum is dim, a relayed line's origin tag is set apart; the words are exactly the log's", () => {
  const shout = styleLine(line("~alice shouts, 'HI WORLD'"), color);
  assert.equal(shout.mood, "shout");
  assert.ok(
    shout.body.every((s) => s.style.includes("\u001b[1m")),
    "every piece of a shout is bold",
  );
  const hum = styleLine(line("~dave is moving around in their home directory"), color);
  assert.ok(
    hum.body.every((s) => s.style.includes("\u001b[2m")),
    "every piece of the hum is dim",
  );
  const relayed = styleLine(line("[irc-town] <carol> hello"), color);
  assert.deepEqual(relayed.body[0], { style: "\u001b[3m\u001b[2m", text: "[irc-town] " });
  for (const s of [shout, hum, relayed]) assert.ok(textOf(s.body).length > 0);
  assert.equal(textOf(relayed.body), "[irc-town] <carol> hello");
  assert.equal(textOf(shout.body), "~alice shouts, 'HI WORLD'");
});

test("feed mood - shouts burst in, the hum drifts in, relayed lines arrive a word at a time; no character is lost", () => {
  const frames = (text: string) => {
    const s = styleLine(line(text), color);
    const f = typingFrames(s.body, s.mood);
    assert.equal(
      f
        .flat()
        .map((c) => c.ch)
        .join(""),
      text,
      "the frames spell the line exactly",
    );
    return f;
  };
  const long = "x".repeat(60);
  const shout = frames(`~alice shouts, '${long}'`);
  const hum = frames(`~alice just added to their public_html ${long}`);
  assert.ok(shout.length < hum.length, `a shout takes fewer frames (${shout.length}) than the hum (${hum.length})`);
  const relayed = frames("[irc-town] <carol> hello there friends");
  assert.deepEqual(
    relayed.map((w) => w.map((c) => c.ch).join("")),
    ["[irc-town] ", "<carol> ", "hello ", "there ", "friends"],
  );
});
