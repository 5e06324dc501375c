import { test } from "node:test";
import assert from "node:assert/strict";
import { validateEvent } from "../../cluster/envelope.js";
import { isSafeText, sanitizeText } from "../../cluster/text.js";

const cp = (n: number) => String.fromCodePoint(n);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => cp(from + i));
const hex = (s: string) =>
  [...s].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`).join(" ");
const good = {
  v: 1,
  id: "abcdefgh12",
  ts: "2026-11-22T05:51:05.123Z",
  node: "town",
  source: "spool",
  kind: "update",
  actor: "alice",
};

/**
 * Each class of character an attacker could use to hide, reorder or push text: removed (or
 * folded to one space) by the sanitiser, flagged by isSafeText, and refused by validateEvent so
 * that a consumer never writes it even when a hostile producer skipped the sanitiser.
 */
function assertRemoved(name: string, chars: string[], exact = true): void {
  for (const c of chars) {
    const hostile = `~bob${c} says${c}hi`;
    const clean = sanitizeText(hostile).text;
    // Controls may also take the characters after them along (an escape sequence's tail).
    if (exact) assert.equal(clean, "~bob sayshi", `${name} ${hex(c)}`);
    assert.ok(!clean.includes(c), `${name} ${hex(c)} removed: ${JSON.stringify(clean)}`);
    assert.equal(isSafeText(clean), true, `${name} ${hex(c)}: the result is safe`);
    assert.equal(isSafeText(hostile), false, `${name} ${hex(c)}: flagged by isSafeText`);
    assert.throws(() => validateEvent({ ...good, text: hostile }), /text/, `${name} ${hex(c)}: refused in an envelope`);
  }
}

test("text - bidi marks, overrides and isolates are removed", () => {
  const bidi = ["\u061c", "\u200e", "\u200f", ...range(0x202a, 0x202e), ...range(0x2066, 0x2069)];
  assertRemoved("bidi", bidi);
  assert.equal(sanitizeText("abc\u202edcba\u202c").text, "abcdcba");
  assert.equal(sanitizeText("x\u061cy").text, "xy");
});

test("text - zero-width, joiner and invisible operator characters are removed", () => {
  assertRemoved("zero-width", [...range(0x200b, 0x200d), ...range(0x2060, 0x2064)]);
  assert.equal(sanitizeText("ad\u2060min").text, "admin");
});

test("text - deprecated format characters U+206A–206F are removed", () => {
  assertRemoved("deprecated format", range(0x206a, 0x206f));
});

test("text - the Mongolian vowel separator and selectors are removed", () => {
  assertRemoved("mongolian", range(0x180b, 0x180f));
});

test("text - the soft hyphen and the combining grapheme joiner are removed", () => {
  assertRemoved("soft hyphen", ["\u00ad", "\u034f"]);
  assert.equal(sanitizeText("bo\u00adb").text, "bob");
});

test("text - variation selectors are removed (both blocks)", () => {
  assertRemoved("variation selectors", [...range(0xfe00, 0xfe0f), ...range(0xe0100, 0xe01ef)]);
  assert.equal(sanitizeText("I \u2764\ufe0f tildes").text, "I \u2764 tildes");
});

test("text - tag characters U+E0000–E007F are removed (hidden ASCII)", () => {
  assertRemoved("tags", range(0xe0000, 0xe007f));
  // "ignore this" written in tag characters vanishes instead of riding along invisibly.
  const hidden = [..."ignore this"].map((c) => cp(0xe0000 + c.charCodeAt(0))).join("");
  assert.equal(sanitizeText(`hello${hidden}`).text, "hello");
});

test("text - Hangul fillers are removed", () => {
  assertRemoved("hangul fillers", ["\u115f", "\u1160", "\u3164", "\uffa0"]);
  assert.equal(sanitizeText("\u3164\u3164\u3164~bob").text, "~bob");
});

test("text - the byte order mark, interlinear annotations and other ignorables are removed", () => {
  assertRemoved("other ignorables", [
    "\ufeff",
    ...range(0xfff9, 0xfffb),
    "\u17b4",
    "\u17b5",
    ...range(0x1bca0, 0x1bca3),
    ...range(0x1d173, 0x1d17a),
  ]);
});

test("text - C0, C1 controls and DEL are removed, escape sequences with them", () => {
  assertRemoved(
    "controls",
    [...range(0x00, 0x08), ...range(0x0e, 0x1f), "\u007f", ...range(0x80, 0x84), ...range(0x86, 0x9f)],
    false,
  );
  assert.equal(sanitizeText("a\u009b31mred").text, "ared");
});

test("text - lone surrogates are removed, real astral characters kept", () => {
  assertRemoved("lone surrogates", ["\ud800", "\udbff", "\udc00", "\udfff"]);
  assert.equal(sanitizeText("tilde 😀 town").text, "tilde 😀 town");
  assert.equal(isSafeText("tilde 😀 town"), true);
});

test("text - line breaks, tabs and wide blanks fold to one space, so nothing reaches the next row", () => {
  const blanks = [
    ...range(0x09, 0x0d),
    "\u0085",
    "\u00a0",
    "\u1680",
    ...range(0x2000, 0x200a),
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u2800",
    "\u3000",
  ];
  for (const c of blanks) {
    const hostile = `~bob says hi${c.repeat(300)}~alice shouts, 'FAKE'`;
    const clean = sanitizeText(hostile).text;
    assert.equal(clean, "~bob says hi ~alice shouts, 'FAKE'", hex(c));
    assert.equal(isSafeText(hostile), false, `${hex(c)} flagged`);
    assert.throws(() => validateEvent({ ...good, text: `a${c}b` }), /text/, `${hex(c)} refused in an envelope`);
  }
  // Blanks hidden between invisible characters still collapse.
  assert.equal(sanitizeText("a \u200b \u2060 \u3000 b").text, "a b");
});

test("text - ordinary text in many scripts passes untouched", () => {
  for (const s of [
    "~alice is baking bread",
    "東京で会いましょう",
    "مرحبا بالعالم",
    "שלום",
    "Ελληνικά",
    "한국어 텍스트",
    "ok… fine",
    "👩‍🚀 launch".replace("\u200d", ""),
  ]) {
    assert.equal(isSafeText(s), true, s);
    assert.equal(sanitizeText(s).text, s);
  }
});

test("text - isSafeText agrees with sanitizeText on every code point of the BMP and the special planes", () => {
  const points = [
    ...range(0, 0xd7ff),
    ...range(0xe000, 0xffff),
    ...range(0x1bc90, 0x1bcaf),
    ...range(0x1d160, 0x1d17f),
    ...range(0xe0000, 0xe01ff),
  ];
  for (const c of points) {
    const s = `a${c}b`;
    assert.equal(isSafeText(s), sanitizeText(s).text === s, hex(c));
  }
});

test("text - displaySafe strips what could steer or hide on a terminal, keeping tabs and spacing", async () => {
  const { displaySafe } = await import("../../cluster/text.js");
  assert.equal(displaySafe("a\tb  c"), "a\tb  c");
  assert.equal(displaySafe("x\u001b[2Jy\u009b1mz\r\u202ew\u00adv\u3164u\u{e0041}t"), "xyzwvut");
});
