import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  fchmodSync,
  fchownSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { isSafeText } from "../../../cluster/text.js";
import { fixture, startReader, texts, waitAudit, waitEvents, USER_UID, type Fixture, type Running } from "./helpers.js";

/**
 * Every hostile spool sits beside bob's ordinary one: after several rescans bob's lines keep
 * arriving (the reader is alive), the hostile one produced nothing, and its refusal was audited
 * exactly once.
 */
async function refusedOnce(f: Fixture, r: Running, reason: string): Promise<void> {
  await waitAudit(r, (x) => x.reason === reason, `a "${reason}" refusal`);
  for (let i = 0; i < 4; i++) {
    f.append("bob", `bob ${i}\n`);
    r.reader.poke();
    await waitEvents(r.sink, i + 1, `bob's line ${i}`);
  }
  assert.deepEqual(
    texts(r.sink),
    [0, 1, 2, 3].map((i) => `~bob bob ${i}`),
  );
  assert.equal(r.audit.records.filter((x) => x.reason === reason).length, 1, "refused once, not on every rescan");
}

async function setup(t: { after(fn: () => unknown): void }, opts: Parameters<typeof startReader>[1] = {}) {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  f.home("bob");
  const r = await startReader(f, { rescanMs: 50, ...opts });
  t.after(() => r.reader.stop());
  return { f, r };
}

test("spool hostile - a symlink to a root-only file is refused", async (t) => {
  const { f, r } = await setup(t);
  const secret = join(f.dir.path, "shadow");
  writeFileSync(secret, "root:secret-hash\n", { mode: 0o600 });
  symlinkSync(secret, f.spool("alice"));
  await refusedOnce(f, r, "spool-symlink");
  assert.ok(!texts(r.sink).some((x) => x.includes("secret")));
});

test("spool hostile - a FIFO is refused without blocking", async (t) => {
  const { f, r } = await setup(t);
  execFileSync("mkfifo", [f.spool("alice")]);
  chownSync(f.spool("alice"), 1001, 1001);
  await refusedOnce(f, r, "spool-not-regular-file");
});

test("spool hostile - a directory is refused", async (t) => {
  const { f, r } = await setup(t);
  mkdirSync(f.spool("alice"));
  chownSync(f.spool("alice"), 1001, 1001);
  await refusedOnce(f, r, "spool-not-regular-file");
});

test("spool hostile - a spool owned by another uid is refused", async (t) => {
  const { f, r } = await setup(t);
  writeFileSync(f.spool("alice"), "planted by someone else\n");
  chownSync(f.spool("alice"), 4242, 4242);
  await refusedOnce(f, r, "spool-owner-mismatch");
});

test("spool hostile - a world-writable spool is refused (anyone could write in its owner's name)", async (t) => {
  const { f, r } = await setup(t);
  const fd = openSync(f.spool("alice"), "a");
  fchownSync(fd, USER_UID, USER_UID);
  fchmodSync(fd, 0o666); // before the first byte, so no line is read while it was still 0644
  writeSync(fd, "written by whom?\n");
  closeSync(fd);
  await refusedOnce(f, r, "spool-world-writable");
});

test("spool hostile - a symlinked home and a strange home name are refused", async (t) => {
  const { f, r } = await setup(t);
  const elsewhere = join(f.dir.path, "elsewhere");
  mkdirSync(elsewhere);
  writeFileSync(join(elsewhere, ".bustle.spool"), "via a symlinked home\n");
  symlinkSync(elsewhere, join(f.homes, "mallory"));
  const odd = join(f.homes, "\u001b[31mevil");
  mkdirSync(odd);
  writeFileSync(join(odd, ".bustle.spool"), "odd name\n");
  r.reader.poke();
  await waitAudit(r, (x) => x.reason === "home-symlink", "a home-symlink refusal");
  await refusedOnce(f, r, "bad-user-name");
});

test("spool hostile - a 1 MB line is refused whole, the next line is read", async (t) => {
  const { f, r } = await setup(t, { maxLineBytes: 8192 });
  f.append("alice", "before\n" + "a".repeat(600_000));
  r.reader.poke("alice");
  await waitEvents(r.sink, 1);
  f.append("alice", "b".repeat(448_576) + "\nafter\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 2);
  assert.deepEqual(texts(r.sink), ["~alice before", "~alice after"]);
  const refusal = r.audit.records.find((x) => x.reason === "line-too-long");
  assert.equal(refusal?.bytes, 1_048_576);
  assert.equal(refusal?.actor, "alice");
});

test("spool hostile - invalid UTF-8, NUL bytes, ANSI/OSC escapes and CR are cleaned and noted", async (t) => {
  const { f, r } = await setup(t);
  f.append("alice", Buffer.concat([Buffer.from("bad "), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(" bytes\n")]));
  f.append("alice", "nul\u0000byte\n");
  f.append(
    "alice",
    "\u001b[31mred\u001b[0m \u001b]0;owned title\u0007\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\ \u009b2Jcr\rline\r\n",
  );
  f.append("alice", '{"kind":"shout","text":"esc\\u001b[2Jape\\u0000"}\n');
  r.reader.poke("alice");
  await waitEvents(r.sink, 4);
  assert.deepEqual(texts(r.sink), [
    "~alice bad \ufffd\ufffd\ufffd bytes",
    "~alice nulbyte",
    "~alice red link cr line",
    "~alice shouts, 'ESCAPE'",
  ]);
  for (const e of r.sink.events) assert.ok(isSafeText(e.text), e.text);
  const notes = r.audit.records.filter((x) => x.what === "text-sanitised");
  assert.equal(notes.length, 4);
  assert.equal(notes[0]!.invalid_utf8, true);
});

test("spool hostile - a flood of 10,000 lines is rate-limited with bounded audit; others unaffected", async (t) => {
  const { f, r } = await setup(t, { rate: { burst: 3, perMinute: 0.01 } }); // no refill while the test runs, however slow the machine
  f.append("alice", Array.from({ length: 10_000 }, (_, i) => `flood ${i}\n`).join(""));
  f.append("bob", "bob is fine\n");
  r.reader.poke();
  await waitEvents(r.sink, 4);
  await r.reader.stop();
  assert.deepEqual(
    texts(r.sink).filter((x) => x.startsWith("~alice")),
    ["~alice flood 0", "~alice flood 1", "~alice flood 2"],
  );
  assert.deepEqual(
    texts(r.sink).filter((x) => x.startsWith("~bob")),
    ["~bob bob is fine"],
  );
  const limited = r.audit.records.filter((x) => x.reason === "rate-limited");
  assert.ok(limited.length <= 5, `a bounded number of audit records, got ${limited.length}`);
  assert.equal(
    limited.reduce((n, x) => n + (typeof x.dropped === "number" ? x.dropped : 1), 0),
    9_997,
  );
});

test("spool hostile - malformed JSON lines and empty text are refused; good lines around them pass", async (t) => {
  const { f, r } = await setup(t);
  const bad = [
    '{"kind":"shout","text":',
    '{"kind":"nuke","text":"x"}',
    '{"text":["a"]}',
    "{}",
    '{"kind":"shout","text":"hi","anon":"yes"}',
    "   ",
    '{"text":"\\u001b[2J"}',
  ];
  f.append("alice", ["good 1", ...bad, "good 2"].join("\n") + "\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 2);
  await waitAudit(
    r,
    (x) =>
      x.reason === "empty" &&
      String(x.origin).endsWith(`@${"good 1\n".length + bad.slice(0, 5).join("\n").length + 1}`),
    "the whitespace line refused",
  );
  assert.deepEqual(texts(r.sink), ["~alice good 1", "~alice good 2"]);
  assert.equal(r.audit.records.filter((x) => x.reason === "malformed").length, 5);
  assert.equal(r.audit.records.filter((x) => x.reason === "empty").length, 2);
});

test("spool hostile - a sparse terabyte spool without newlines is skipped, not read", async (t) => {
  const { f, r } = await setup(t);
  f.append("alice", "before\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 1);
  truncateSync(f.spool("alice"), 2 ** 40); // 1 TiB of holes after "before\n"
  f.append("alice", "\nafter\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 2);
  assert.deepEqual(texts(r.sink), ["~alice before", "~alice after"]);
  assert.equal(r.audit.records.filter((x) => x.reason === "line-runaway").length, 1);
});

test("spool hostile - on a first start, a spool ending in a huge unfinished line starts after it", async (t) => {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  f.append("alice", "old\n");
  truncateSync(f.spool("alice"), 2 ** 40);
  const r = await startReader(f, { rescanMs: 50 });
  t.after(() => r.reader.stop());
  f.append("alice", "tail of the huge line\nnew\n");
  r.reader.poke("alice");
  await waitEvents(r.sink, 1);
  assert.deepEqual(texts(r.sink), ["~alice new"]);
});

/**
 * The reader keeps a spool open between checks. Whatever is swapped in under the open handle,
 * or done to the file itself, gets the same refusal as on a first open, and nothing more is
 * read through the old handle: not the swapped-in file, not lines appended to the old one.
 */
const swaps: Array<{ what: string; reason: string; swap(f: Fixture): void }> = [
  {
    what: "the spool replaced by a symlink to a root-only file",
    reason: "spool-symlink",
    swap(f) {
      const secret = join(f.dir.path, "shadow");
      writeFileSync(secret, "root:secret-hash\n", { mode: 0o600 });
      renameSync(f.spool("alice"), join(f.dir.path, "old-spool"));
      symlinkSync(secret, f.spool("alice"));
      appendFileSync(join(f.dir.path, "old-spool"), "written to the old file\n");
    },
  },
  {
    what: "the spool replaced by a FIFO",
    reason: "spool-not-regular-file",
    swap(f) {
      unlinkSync(f.spool("alice"));
      execFileSync("mkfifo", [f.spool("alice")]);
      chownSync(f.spool("alice"), USER_UID, USER_UID);
    },
  },
  {
    what: "the open spool given to another uid",
    reason: "spool-owner-mismatch",
    swap(f) {
      chownSync(f.spool("alice"), 4242, 4242);
      appendFileSync(f.spool("alice"), "written after the chown\n");
    },
  },
  {
    what: "the open spool made world-writable",
    reason: "spool-world-writable",
    swap(f) {
      chmodSync(f.spool("alice"), 0o666);
      appendFileSync(f.spool("alice"), "written by whom?\n");
    },
  },
  {
    what: "the home replaced by a symlink to elsewhere",
    reason: "home-symlink",
    swap(f) {
      const elsewhere = join(f.dir.path, "elsewhere");
      renameSync(join(f.homes, "alice"), elsewhere);
      symlinkSync(elsewhere, join(f.homes, "alice"));
      appendFileSync(join(elsewhere, ".bustle.spool"), "via a symlinked home\n");
    },
  },
];

for (const s of swaps) {
  test(`spool hostile - ${s.what} while it is held open is refused; nothing more is read from it`, async (t) => {
    const { f, r } = await setup(t);
    f.append("alice", "alice 1\n");
    r.reader.poke("alice");
    await waitEvents(r.sink, 1, "alice's first line (the spool is now held open)");
    s.swap(f);
    r.reader.poke();
    await waitAudit(r, (x) => x.reason === s.reason, `a "${s.reason}" refusal`);
    for (let i = 0; i < 4; i++) {
      f.append("bob", `bob ${i}\n`);
      r.reader.poke();
      await waitEvents(r.sink, i + 2, `bob's line ${i}`);
    }
    assert.deepEqual(texts(r.sink), ["~alice alice 1", ...[0, 1, 2, 3].map((i) => `~bob bob ${i}`)]);
    assert.equal(r.audit.records.filter((x) => x.reason === s.reason).length, 1, "refused once, not on every rescan");
  });
}
