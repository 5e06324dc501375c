import { test } from "node:test";
import assert from "node:assert/strict";
import { defuseCommand, dePing, stripFormatting, wireSafe, ZWSP } from "../../../bots/irc/sanitize.js";
import { splitBytes, splitForIrc, textBudget } from "../../../bots/irc/split.js";
import { renderLines } from "../../../bots/irc/outbound.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

test("irc text - wireSafe leaves no CR, LF, NUL or other controls", () => {
  const out = wireSafe("hi\r\nQUIT :bye\u0000\u0001ACTION x\u0001\u0007 \u001b[31mred\u0002bold\u0085next");
  assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f]/);
  assert.equal(out, "hi QUIT :byeACTION x redbold next");
});

test("irc text - dePing breaks whole-word nicks only, case-insensitively", () => {
  assert.equal(
    dePing("~alice shouts, 'hi Bob' to alicea and xbob", ["alice", "bob"]),
    `~a${ZWSP}lice shouts, 'hi B${ZWSP}ob' to alicea and xbob`,
  );
  assert.equal(dePing("a b c", ["a"]), "a b c", "one-letter nicks are left alone");
  assert.equal(dePing("[x]y and z", ["[x]y"]), `[${ZWSP}x]y and z`, "regex characters in nicks are literal");
});

test("irc text - lines that look like commands are defused", () => {
  assert.equal(defuseCommand("!bustle now"), `${ZWSP}!bustle now`);
  assert.equal(defuseCommand(".op me"), `${ZWSP}.op me`);
  assert.equal(defuseCommand("hello !there"), "hello !there");
});

test("irc text - stripFormatting removes colours, toggles and CTCP markers", () => {
  assert.equal(
    stripFormatting(
      "\u0002bold\u0002 \u000304,12red\u0003 \u000399 \u0004ff00ffhex\u0004 \u001ditalic\u000f \u0001x\u0001",
    ),
    "bold red hex italic x",
  );
  assert.equal(stripFormatting("a\u00031b"), "ab");
});

test("irc split - pieces stay within the byte budget and never split a UTF-8 character", () => {
  const text = ("naïve café 😀😀😀 ".repeat(60) + "x".repeat(700)).trim();
  for (const max of [5, 17, 100, 409]) {
    const pieces = splitBytes(text, max);
    for (const p of pieces) {
      assert.ok(bytes(p) <= max, `${bytes(p)} > ${max}`);
      assert.ok(p.length > 0);
      assert.ok(!p.includes("\ufffd"));
      assert.equal(Buffer.from(p, "utf8").toString("utf8"), p);
    }
    assert.equal(pieces.join("").replace(/ /g, ""), text.replace(/ /g, ""), "nothing lost");
  }
});

test("irc split - prefers word boundaries", () => {
  const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(" ");
  const pieces = splitBytes(words, 50);
  for (const p of pieces) assert.match(p, /^word\d+( word\d+)*$/, p);
  assert.equal(pieces.join(" "), words);
});

test("irc split - a capped split ends with an ellipsis within budget", () => {
  const pieces = splitForIrc("word ".repeat(400), 50, 3);
  assert.equal(pieces.length, 3);
  assert.match(pieces[2]!, /…$/);
  for (const p of pieces) assert.ok(bytes(p) <= 50);
});

test("irc split - the budget leaves room for the server's prefix in a 512-byte line", () => {
  const prefix = { nick: "bustle", username: "bustle", host: "127.0.0.1" };
  const budget = textBudget(prefix, "#bustle");
  const relayed = `:bustle!~bustle@${"h".repeat(63)} PRIVMSG #bustle :${"x".repeat(budget)}\r\n`;
  assert.equal(bytes(relayed), 512);
  const long = textBudget({ ...prefix, host: "h".repeat(100) }, "#bustle");
  assert.equal(long, budget - 37, "a longer known host shrinks the budget");
});

test("irc split - renderLines makes hostile text into safe, defused, budgeted lines", () => {
  const prefix = { nick: "bustle", username: "bustle" };
  const lines = renderLines("!op\r\nPRIVMSG #x :pwned ~bob " + "é".repeat(600), {
    prefix,
    target: "#bustle",
    nicks: ["bob"],
    maxLines: 6,
  });
  assert.ok(lines.length >= 3);
  assert.ok(lines[0]!.startsWith(`${ZWSP}!op PRIVMSG #x :pwned ~b${ZWSP}ob`));
  for (const l of lines) {
    assert.doesNotMatch(l, /[\r\n\u0000]/);
    assert.ok(bytes(l) <= textBudget(prefix, "#bustle"));
  }
  assert.deepEqual(renderLines("\r\n\u0000", { prefix, target: "#b", nicks: [], maxLines: 3 }), []);
});
