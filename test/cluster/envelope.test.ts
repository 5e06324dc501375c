import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeEvent,
  encodeEvent,
  eventJson,
  logLine,
  makeEvent,
  stableEventId,
  validateEvent,
} from "../../cluster/envelope.js";
import { eventSubject, parseEventSubject } from "../../cluster/names.js";
import { sanitizeText } from "../../cluster/text.js";

test("envelope - makeEvent builds a valid envelope and its log line", () => {
  const e = makeEvent({
    node: "town",
    source: "spool",
    kind: "shout",
    actor: "alice",
    text: "~alice shouts, 'HI WORLD'",
    ts: "2026-11-22T05:51:05.123Z",
    id: "abcdefgh12",
  });
  assert.deepEqual(decodeEvent(encodeEvent(e)), e);
  assert.equal(logLine(e), "2026-11-22T05:51:05.123Z town ~alice shouts, 'HI WORLD'\n");
});

test("envelope - the JSON text is made once per envelope; a changed copy gets its own", () => {
  const e = makeEvent({ node: "town", source: "spool", kind: "update", actor: "alice", text: "~alice hi" });
  assert.equal(eventJson(e), JSON.stringify(e));
  assert.equal(eventJson(e), eventJson(e));
  const copy = { ...e, id: "renamed12345" };
  assert.equal(JSON.parse(eventJson(copy)).id, "renamed12345");
  assert.deepEqual(decodeEvent(encodeEvent(copy)), copy);
});

test("envelope - makeEvent sanitises a text that is not clean, and keeps a clean one as it is", () => {
  const clean = "~alice says hi 😀";
  assert.equal(makeEvent({ node: "town", source: "spool", kind: "update", actor: "alice", text: clean }).text, clean);
  const dirty = makeEvent({
    node: "town",
    source: "spool",
    kind: "update",
    actor: "alice",
    text: "  a\u001b[31m\tb  ",
  });
  assert.equal(dirty.text, "a b");
});

/** A valid envelope, for tests that break one field of it. */
const good = {
  v: 1,
  id: "abcdefgh12",
  ts: "2026-11-22T05:51:05.123Z",
  node: "town",
  source: "spool",
  kind: "update",
  actor: null,
  text: "hi",
};

test("envelope - validation names the broken field", () => {
  assert.doesNotThrow(() => validateEvent(good));
  assert.throws(() => validateEvent({ ...good, node: "Town" }), /node/);
  assert.throws(() => validateEvent({ ...good, kind: "9x" }), /kind/);
  assert.throws(() => validateEvent({ ...good, text: "two\nlines" }), /text/);
  assert.throws(() => validateEvent({ ...good, text: "x".repeat(401) }), /text/);
  assert.throws(() => validateEvent({ ...good, ts: "yesterday" }), /ts/);
  assert.throws(() => decodeEvent(new Uint8Array([0xff, 0xfe])), /UTF-8 JSON/);
});

test("envelope - stable ids repeat for the same origin and key, and differ otherwise", () => {
  const key = Buffer.alloc(32, 1);
  assert.equal(stableEventId(key, "town", "alice", 1, 0), stableEventId(key, "town", "alice", 1, 0));
  assert.notEqual(stableEventId(key, "town", "alice", 1, 0), stableEventId(key, "town", "alice", 1, 10));
  assert.notEqual(
    stableEventId(key, "town", "alice", 1, 0),
    stableEventId(Buffer.alloc(32, 2), "town", "alice", 1, 0),
    "another node's key, another id",
  );
  assert.match(stableEventId(key, "x"), /^[A-Za-z0-9_-]{27}$/);
  assert.throws(() => stableEventId(Buffer.alloc(4), "x"), /16 bytes/);
});

test("text - escape sequences, controls and long text are made safe", () => {
  assert.equal(sanitizeText("\u001b[31mred\u001b[0m text").text, "red text");
  assert.equal(sanitizeText("title\u001b]0;pwned\u0007 here").text, "title here");
  assert.equal(sanitizeText("a\r\nb\tc\u0000d\u0007").text, "a b cd");
  assert.equal(sanitizeText("\u202eevil").text, "evil");
  const long = sanitizeText("é".repeat(1000)).text;
  assert.equal(Array.from(long).length, 400);
  assert.ok(long.endsWith("…"));
  assert.equal(sanitizeText("plain").changed, false);
});

test("names - subjects are built and parsed, bad tokens refused", () => {
  assert.equal(eventSubject({ node: "town", source: "spool", kind: "shout" }), "bustle.ev.town.spool.shout");
  assert.deepEqual(parseEventSubject("bustle.ev.town.irc-town.chat"), {
    node: "town",
    source: "irc-town",
    kind: "chat",
  });
  assert.equal(parseEventSubject("bustle.ev.town.spool"), undefined);
  assert.throws(() => eventSubject({ node: "a.b", source: "spool", kind: "x" }), /node/);
  assert.throws(() => eventSubject({ node: "town", source: "spool", kind: "*" }), /kind/);
});

test("text - isSafeText agrees with sanitizeText", async () => {
  const { isSafeText } = await import("../../cluster/text.js");
  const samples = [
    "plain",
    " lead",
    "trail ",
    "dou  ble",
    "tab\there",
    "nl\nx",
    "\u001b[1mx",
    "\u2028",
    "\u202eabc",
    "é".repeat(400),
    "é".repeat(401),
    "ok… fine",
    "\u0085x",
    "zero\u200bwidth",
    "😀".repeat(400),
    // Printable ASCII, which isSafeText judges by its quick expression first.
    "x".repeat(400),
    "x".repeat(401),
    "a b c",
    "a  b",
    " a",
    "a ",
    "a\u007fb",
    "a\u0000b",
    "a\rb",
    "~alice: {\"json\": [1, 2]} <tag> & 'quotes' `ticks` \\ slash",
  ];
  for (const s of samples) assert.equal(isSafeText(s), sanitizeText(s).text === s, JSON.stringify(s));
});

test("envelope - decodeEventOn takes the subject as the truth for node, source and kind", async () => {
  const { decodeEventOn } = await import("../../cluster/envelope.js");
  const { SubjectMismatch } = await import("../../cluster/errors.js");
  const e = makeEvent({ node: "b", source: "spool", kind: "shout", actor: "bob", text: "~bob shouts, 'HI'" });
  assert.deepEqual(decodeEventOn("bustle.ev.b.spool.shout", encodeEvent(e)), e);
  for (const subject of [
    "bustle.ev.a.spool.shout",
    "bustle.ev.b.irc-town.shout",
    "bustle.ev.b.spool.update",
    "bustle.ev.b.spool",
    "other.subject",
  ]) {
    assert.throws(
      () => decodeEventOn(subject, encodeEvent(e)),
      (err: Error) => err instanceof SubjectMismatch,
      subject,
    );
  }
  assert.throws(() => decodeEventOn("bustle.ev.a.spool.shout", encodeEvent(e)), /claims node "b"/);
  assert.throws(
    () => decodeEventOn("bustle.ev.b.spool.shout", new TextEncoder().encode("{}")),
    (err: Error) => !(err instanceof SubjectMismatch) && /invalid event/.test(err.message),
  );
});

test("envelope - a bot's text is shown with its origin everywhere; the node's own users' lines are not", async () => {
  const { shownText, shownEvent } = await import("../../cluster/envelope.js");
  const { formatEvent } = await import("../../bots/format.js");
  const ts = "2026-11-22T05:51:05.123Z";
  const fromWeb = makeEvent({
    node: "town",
    source: "portal",
    kind: "shout",
    actor: "tok",
    text: "~bob shouts, 'X'",
    ts,
  });
  assert.equal(shownText(fromWeb), "[portal] ~bob shouts, 'X'");
  assert.equal(logLine(fromWeb), `${ts} town [portal] ~bob shouts, 'X'\n`);
  assert.equal(formatEvent("<{node}> {text}", fromWeb), "<town> [portal] ~bob shouts, 'X'");
  assert.equal(shownEvent(fromWeb).text, "[portal] ~bob shouts, 'X'");
  for (const source of ["spool", "fs"]) {
    const own = makeEvent({ node: "town", source, kind: "update", actor: "bob", text: "~bob hi", ts });
    assert.equal(logLine(own), `${ts} town ~bob hi\n`);
    assert.equal(shownEvent(own), own);
  }
  // Still one line of at most 400 characters, the origin never cut off.
  const long = makeEvent({ node: "town", source: "irc-town", kind: "chat", actor: null, text: "x".repeat(400), ts });
  const shown = shownText(long);
  assert.equal(Array.from(shown).length, 400);
  assert.ok(shown.startsWith("[irc-town] x") && shown.endsWith("…"));
});

test("envelope - timestamps: each one is judged whole, whatever the one before it was", () => {
  const at = (ts: string) => ({
    v: 1,
    id: "abcdefgh12",
    ts,
    node: "town",
    source: "spool",
    kind: "update",
    actor: null,
    text: "hi",
  });
  // After a valid timestamp of the same hour, the minutes and seconds are still checked.
  assert.doesNotThrow(() => validateEvent(at("2026-11-22T05:51:05.123Z")));
  assert.doesNotThrow(() => validateEvent(at("2026-11-22T05:59:59Z")));
  assert.throws(() => validateEvent(at("2026-11-22T05:60:00Z")), /ts/);
  assert.throws(() => validateEvent(at("2026-11-22T05:00:60Z")), /ts/);
  assert.throws(() => validateEvent(at("2026-11-22T05:00:00")), /ts/);
  // 24:00:00 is midnight to Date.parse, but no other minute of hour 24 is a time.
  assert.doesNotThrow(() => validateEvent(at("2026-11-22T24:00:00Z")));
  assert.throws(() => validateEvent(at("2026-11-22T24:30:00Z")), /ts/);
  assert.throws(() => validateEvent(at("2026-13-22T05:51:05Z")), /ts/);
  assert.throws(() => validateEvent(at("2026-11-32T05:51:05Z")), /ts/);
});

test("envelope - ids: 8 to 64 characters of [A-Za-z0-9_-], nothing else", () => {
  const withId = (id: string) => ({ ...good, id });
  for (const id of ["abcdefgh", "A_b-9".repeat(12) + "abcd", "x".repeat(64)])
    assert.doesNotThrow(() => validateEvent(withId(id)), id);
  for (const id of [
    "abcdefg",
    "x".repeat(65),
    "abcdefgh!",
    "abcdefgh\u0100",
    "abcdefgh\u0141",
    "abcd efgh",
    "abcdefgh.",
    "",
  ])
    assert.throws(() => validateEvent(withId(id)), /id must be/, JSON.stringify(id));
});

test("envelope - decodeEventOn refuses a payload whose tokens are broken even where the subject spells them", async () => {
  const { decodeEventOn } = await import("../../cluster/envelope.js");
  const base = { v: 1, id: "abcdefgh12", ts: "2026-11-22T05:51:05.123Z", actor: null, text: "hi" };
  const bytes = (o: object) => new TextEncoder().encode(JSON.stringify(o));
  // A subject with a dotted or upper-case token is no event subject: the payload's tokens are checked.
  for (const [subject, names] of [
    ["bustle.ev.a.b.spool.update", { node: "a.b", source: "spool", kind: "update" }],
    ["bustle.ev.Town.spool.update", { node: "Town", source: "spool", kind: "update" }],
    ["bustle.ev.town.spool.9x", { node: "town", source: "spool", kind: "9x" }],
  ] as const)
    assert.throws(() => decodeEventOn(subject, bytes({ ...base, ...names })), /invalid event/, subject);
  // Tokens as the subject's, the rest of the envelope still checked.
  const names = { node: "town", source: "spool", kind: "update" };
  assert.equal(decodeEventOn("bustle.ev.town.spool.update", bytes({ ...base, ...names })).text, "hi");
  for (const bad of [{ text: "a\u001b[31mb" }, { text: "two  spaces" }, { id: "short" }, { actor: "a\nb" }, { v: 2 }])
    assert.throws(
      () => decodeEventOn("bustle.ev.town.spool.update", bytes({ ...base, ...names, ...bad })),
      /invalid event/,
      JSON.stringify(bad),
    );
});
