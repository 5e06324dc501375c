import { test } from "node:test";
import assert from "node:assert/strict";
import { LineFramer } from "../../../relay/spool/line-framer.js";
import { parseSpoolLine } from "../../../relay/spool/parse-line.js";
import { renderSpoolRequest } from "../../../relay/spool/render.js";
import { DropSummary, INDIVIDUAL_DROPS, UserRateLimiter } from "../../../relay/spool/rate-limit.js";
import { memoryAudit } from "../../../relay/audit.js";

const b = (s: string) => Buffer.from(s);

test("spool framing - only complete lines, with their offsets, across chunks", () => {
  const f = new LineFramer(100, 10);
  assert.deepEqual(f.push(b("ab"), 10), []);
  assert.equal(f.committed, 10);
  const lines = f.push(b("c\nde\nf"), 12);
  assert.deepEqual(
    lines.map((l) => [l.kind, l.start, l.end, l.kind === "line" ? l.bytes.toString() : ""]),
    [
      ["line", 10, 14, "abc"],
      ["line", 14, 17, "de"],
    ],
  );
  assert.equal(f.committed, 17);
  assert.equal(f.position, 18);
  assert.throws(() => f.push(b("x"), 17), RangeError);
});

test("spool framing - a line over the limit is refused whole without being kept", () => {
  const f = new LineFramer(8, 0);
  assert.deepEqual(
    f.push(b("ok\n0123456"), 0).map((l) => l.kind),
    ["line"],
  );
  assert.deepEqual(f.push(b("789abcdef"), 10), []); // now over the limit: skipping
  const out = f.push(b("ghi\nnext\n"), 19);
  assert.deepEqual(
    out.map((l) => [l.kind, l.start, l.end]),
    [
      ["too-long", 3, 23],
      ["line", 23, 28],
    ],
  );
  // exactly the limit is fine
  const g = new LineFramer(4, 0);
  assert.deepEqual(
    g.push(b("abcd\nabcde\n"), 0).map((l) => l.kind),
    ["line", "too-long"],
  );
});

test("spool parsing - JSON objects, plain text, and malformed lines", () => {
  const ok = (s: string) => {
    const r = parseSpoolLine(b(s));
    assert.ok(r.ok, s);
    return r.request;
  };
  assert.deepEqual(ok('{"kind":"shout","text":"hi","anon":true}'), {
    kind: "shout",
    text: "hi",
    anon: true,
    invalidUtf8: false,
  });
  assert.deepEqual(ok('{"kind":"update","text":"hi","anon":true}'), {
    kind: "update",
    text: "hi",
    anon: false,
    invalidUtf8: false,
  });
  assert.deepEqual(ok("just words {not json}"), {
    kind: "update",
    text: "just words {not json}",
    anon: false,
    invalidUtf8: false,
  });
  for (const bad of [
    '{"kind":"shout"',
    "{}",
    '{"kind":"yell","text":"x"}',
    '{"text":5}',
    '{"text":"x","anon":"yes"}',
    " {nope",
    '{"text":"x"} trailing',
  ]) {
    const r = parseSpoolLine(b(bad));
    assert.equal(r.ok, false, bad);
  }
  assert.equal(parseSpoolLine(b("[1]")).ok, true, "a line not starting with { is plain text");
  const bin = parseSpoolLine(Buffer.from([0x68, 0xff, 0x69]));
  assert.ok(bin.ok && bin.request.invalidUtf8 && bin.request.text === "h\ufffdi");
});

test("spool rendering - the contract's exact sentences", () => {
  const r = (kind: "update" | "shout", text: string, anon = false) => {
    const out = renderSpoolRequest("alice", { kind, text, anon, invalidUtf8: false });
    assert.ok(out.ok);
    return out.rendered;
  };
  assert.deepEqual(r("update", "made tea"), {
    kind: "update",
    actor: "alice",
    text: "~alice made tea",
    sanitised: false,
  });
  assert.deepEqual(r("shout", "hi world"), {
    kind: "shout",
    actor: "alice",
    text: "~alice shouts, 'HI WORLD'",
    sanitised: false,
  });
  assert.deepEqual(r("shout", "hi world", true), {
    kind: "shout",
    actor: null,
    text: "someone shouts, 'HI WORLD'",
    sanitised: false,
  });
  const dirty = r("update", "\u001b[31mred\u001b[0m\r and \u0000nul");
  assert.equal(dirty.text, "~alice red and nul");
  assert.equal(dirty.sanitised, true);
  const long = r("shout", "a".repeat(1000));
  assert.equal(Array.from(long.text).length, 400);
  assert.ok(long.text.endsWith("…'"), "the closing quote survives the cut");
  assert.deepEqual(
    renderSpoolRequest("alice", { kind: "update", text: " \u001b[2J\t ", anon: false, invalidUtf8: false }),
    { ok: false, reason: "empty" },
  );
});

test("spool rate limit - burst, refill, per user; drops summarised", () => {
  let now = 0;
  const lim = new UserRateLimiter({ burst: 2, perMinute: 6 }, () => now);
  assert.deepEqual([lim.take("a"), lim.take("a"), lim.take("a"), lim.take("b")], [true, true, false, true]);
  now += 10_000; // one token per 10 s
  assert.deepEqual([lim.take("a"), lim.take("a")], [true, false]);

  const audit = memoryAudit();
  const drops = new DropSummary(audit, () => now);
  for (let i = 0; i < 1000; i++) drops.dropped("a", "/home/a/.bustle.spool#0", i);
  assert.equal(audit.records.length, INDIVIDUAL_DROPS);
  now += 60_000;
  drops.flush();
  const summary = audit.records.at(-1)!;
  assert.equal(summary.reason, "rate-limited");
  assert.equal(summary.dropped, 1000 - INDIVIDUAL_DROPS);
  assert.equal(audit.records.length, INDIVIDUAL_DROPS + 1);
});
