/**
 * Hostile input against a real bustled and a real nats-server: after every attack the daemon
 * is still up, bustle.log holds exactly the good lines (and nothing a terminal would obey), and
 * the audit log says what was refused.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsServer } from "../../cluster/nats-server.js";
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../../relay/local-node.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { isSafeText } from "../../cluster/text.js";
import { appendSpool, logLines, makeHome, spoolPath, textOf } from "./support.js";
import { BUSTLED, runCliSync } from "../support/cli.js";

const dir = tempDir("bustle-hostile-");
let server: NatsServer;
let files: RelayFiles;
let relay: RelayProcess;
/** Every line bustle.log must hold by now, in any order across users. */
const expected: string[] = [];

before(async () => {
  server = await startServer(dir.path);
  files = writeRelayConfig(
    join(dir.path, "town"),
    "town",
    {},
    {
      // burst 3 and (practically) no refill: each user gets exactly 3 lines, however slow the machine.
      spool: { rate: { burst: 3, per_minute: 0.01 }, max_line_bytes: 8192, rescan: "200ms" },
    },
  );
  relay = await new RelayProcess(files, ["--nats", server.url]).start();
});

after(async () => {
  await relay?.stop();
  await server?.stop();
  dir.remove();
});

type AuditRecord = Record<string, unknown>;
const audit = (): AuditRecord[] =>
  existsSync(files.audit)
    ? readFileSync(files.audit, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditRecord)
    : [];
const auditFor = (user: string, reason: string) => audit().filter((r) => r.actor === user && r.reason === reason);

let canaries = 0;
/** A good line from a fresh user: once it is in the log, the relay has lived through what came before. */
async function canary(): Promise<void> {
  const user = `canary${++canaries}`;
  makeHome(files.homes, user);
  appendSpool(files.homes, user, [`still here ${canaries}`]);
  expected.push(`~${user} still here ${canaries}`);
  await logHoldsExpected();
}

async function logHoldsExpected(): Promise<void> {
  await waitFor(() => logLines(files.log).length >= expected.length, 15_000, `${expected.length} lines in bustle.log`);
  assert.ok(relay.running, "bustled is still running");
  const lines = logLines(files.log);
  assert.deepEqual(lines.map(textOf).sort(), [...expected].sort(), "bustle.log holds exactly the good lines");
  for (const l of lines) {
    assert.ok(isSafeText(l), `a clean log line: ${JSON.stringify(l)}`);
    assert.doesNotMatch(l, /[\u0000-\u001f\u007f-\u009f]/);
  }
}

/** Waits for `user`'s refusal, then proves the relay goes on and refused it only once. */
async function refused(user: string, reason: string): Promise<void> {
  await waitFor(() => auditFor(user, reason).length > 0, 10_000, `the audit's "${reason}" for ${user}`);
  await canary();
  await canary(); // a few rescans later
  assert.equal(auditFor(user, reason).length, 1, "audited once, not on every rescan");
}

test("relay hostile - a spool symlinked to a root-only file is refused", async () => {
  const home = makeHome(files.homes, "sym");
  const secret = join(dir.path, "shadow");
  writeFileSync(secret, "root:SECRET\n", { mode: 0o600 });
  symlinkSync(secret, join(home, ".bustle.spool"));
  await refused("sym", "spool-symlink");
  assert.ok(!readFileSync(files.log, "utf8").includes("SECRET"));
});

test("relay hostile - a FIFO spool does not block the relay", async () => {
  makeHome(files.homes, "fifo");
  execFileSync("mkfifo", [spoolPath(files.homes, "fifo")]);
  await refused("fifo", "spool-not-regular-file");
});

test("relay hostile - a directory spool is refused", async () => {
  makeHome(files.homes, "dir");
  mkdirSync(spoolPath(files.homes, "dir"));
  await refused("dir", "spool-not-regular-file");
});

test("relay hostile - a spool owned by another user is refused", async () => {
  const home = makeHome(files.homes, "owner");
  const planted = join(home, "planted");
  writeFileSync(planted, "planted\n");
  chownSync(planted, 4242, 4242);
  renameSync(planted, spoolPath(files.homes, "owner")); // never there with the home's owner
  await refused("owner", "spool-owner-mismatch");
});

test("relay hostile - a 1 MB line is refused whole; the lines around it pass", async () => {
  makeHome(files.homes, "big");
  appendSpool(files.homes, "big", ["before", "x".repeat(1024 * 1024), "after"]);
  expected.push("~big before", "~big after");
  await logHoldsExpected();
  assert.equal(auditFor("big", "line-too-long").length, 1);
});

test("relay hostile - invalid UTF-8, NUL bytes, ANSI/OSC escapes and CR come out clean", async () => {
  makeHome(files.homes, "esc");
  const p = spoolPath(files.homes, "esc");
  writeFileSync(
    p,
    Buffer.concat([Buffer.from("bad "), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(" bytes\nnul\u0000byte\n")]),
  );
  writeFileSync(p, "\u001b[2J\u001b[31mred\u001b[0m \u001b]0;pwned\u0007title\rcr\r\n", { flag: "a" });
  expected.push("~esc bad \ufffd(\ufffd bytes", "~esc nulbyte", "~esc red title cr");
  await logHoldsExpected();
  const notes = audit().filter((r) => r.actor === "esc" && r.what === "text-sanitised");
  assert.equal(notes.length, 3, "each changed text is noted in the audit");
});

test("relay hostile - a flood of 10,000 lines is rate-limited; other users are unaffected", async () => {
  makeHome(files.homes, "flood");
  makeHome(files.homes, "calm");
  appendSpool(
    files.homes,
    "flood",
    Array.from({ length: 10_000 }, (_, i) => `flood ${i}`),
  );
  appendSpool(files.homes, "calm", ["calm one", "calm two"]);
  expected.push("~flood flood 0", "~flood flood 1", "~flood flood 2", "~calm calm one", "~calm calm two");
  await logHoldsExpected();
  await waitFor(() => auditFor("flood", "rate-limited").length > 0, 10_000, "the flood's rate-limited audit");
  assert.ok(auditFor("flood", "rate-limited").length <= 5, "a bounded number of audit lines for the flood");
});

test("relay hostile - malformed JSON lines are refused and audited", async () => {
  makeHome(files.homes, "json");
  appendSpool(files.homes, "json", ['{"kind":"shout","text":', '{"kind":"nuke","text":"boom"}', "good line"]);
  expected.push("~json good line");
  await logHoldsExpected();
  await waitFor(() => auditFor("json", "malformed").length === 2, 10_000, "two malformed lines in the audit");
  await canary();
});

test("relay hostile - bustled check names the key and line of a typo or a bad value", () => {
  const bad = join(dir.path, "bad.yaml");
  writeFileSync(bad, "node: {id: town}\nspool:\n  rate: {burst: 3, per_minut: 6}\n  max_line_bytes: lots\n");
  const r = runCliSync(BUSTLED, ["check", "--config", bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.yaml:3 spool\.rate\.per_minut: unknown key \(did you mean "per_minute"\?\)/);
  assert.match(r.stderr, /bad\.yaml:4 spool\.max_line_bytes: must be an integer/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const typo = join(dir.path, "typo.yaml");
  writeFileSync(typo, "node: {id: town}\nhomes:\n  roots: /home\n");
  const t = runCliSync(BUSTLED, ["check", "--config", typo]);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /typo\.yaml:3 homes\.roots: unknown key/);
  assert.ok(relay.running, "bustled is still running after everything");
});
