/**
 * Private spools, with real uids: zoe (uid nobody) posts an anonymous shout; another local user
 * (uid 12345) cannot read her spool to learn who it was, while the relay still reads it. An old
 * world-readable spool is made private on its owner's next write; a 0600 spool that is not the
 * home owner's is still refused.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsServer } from "../../cluster/nats-server.js";
import { bin } from "../support/paths.js";
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../../relay/local-node.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { logLines, spoolPath, textOf } from "./support.js";
import { asNobody, asUid, NOBODY, openToOthers } from "./trust-support.js";

const OTHER = 12345;
const dir = tempDir("bustle-trust-spool-");
let server: NatsServer;
let files: RelayFiles;
let relay: RelayProcess;

before(async () => {
  server = await startServer(dir.path);
  files = writeRelayConfig(join(dir.path, "town"), "town", { servers: [server.url] });
  openToOthers(dir.path, files.dir, files.homes);
  relay = await new RelayProcess(files).start();
});
after(async () => {
  await relay?.stop();
  await server?.stop();
  dir.remove();
});

/** A home directory owned by `uid`, as on a tilde (0755). */
function homeOf(user: string, uid: number): string {
  const h = join(files.homes, user);
  mkdirSync(h, { mode: 0o755 });
  chownSync(h, uid, uid);
  return h;
}
const bustle = (home: string, ...args: string[]) =>
  asNobody([process.execPath, bin("relay/bin/bustle.js"), ...args], { HOME: home });
const logTexts = () => logLines(files.log).map(textOf);
const audit = () => (existsSync(files.audit) ? readFileSync(files.audit, "utf8") : "");

test("trust spool - another local user cannot read who posted an anonymous shout; the relay still can", async () => {
  const home = homeOf("zoe", NOBODY);
  const r = await bustle(home, "shout", "--anon", "guess who");
  assert.equal(r.code, 0, r.stderr);
  const spool = spoolPath(files.homes, "zoe");
  const st = statSync(spool);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, NOBODY);
  const peek = await asUid(OTHER, ["cat", spool]);
  assert.notEqual(peek.code, 0);
  assert.match(peek.stderr, /Permission denied/);
  assert.equal(peek.stdout, "");
  await waitFor(() => logTexts().includes("someone shouts, 'GUESS WHO'"), 15_000, "the anonymous shout in bustle.log");
  assert.ok(!logLines(files.log).some((l) => l.includes("zoe")), "the log does not name her");
});

test("trust spool - an old world-readable spool is made private by its owner's next write", async () => {
  const home = homeOf("yan", NOBODY);
  const spool = join(home, ".bustle.spool");
  writeFileSync(spool, "");
  chownSync(spool, NOBODY, NOBODY);
  chmodSync(spool, 0o644);
  const r = await bustle(home, "update", "tidying up");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(spool).mode & 0o777, 0o600);
  assert.equal((await asUid(OTHER, ["cat", spool])).code !== 0, true, "unreadable to others now");
  await waitFor(() => logTexts().includes("~yan tidying up"), 15_000, "yan's update in bustle.log");
});

test("trust spool - a private spool that belongs to someone else than the home's owner is still refused", async () => {
  const home = homeOf("xan", NOBODY);
  const spool = join(home, ".bustle.spool");
  writeFileSync(spool, '{"kind":"shout","text":"planted","anon":false}\n', { mode: 0o600 });
  chownSync(spool, OTHER, OTHER);
  await waitFor(
    () => audit().includes('"reason":"spool-owner-mismatch"') && audit().includes("xan"),
    15_000,
    "the refusal in the audit log",
  );
  const home2 = homeOf("wes", NOBODY);
  assert.equal((await bustle(home2, "update", "still flowing")).code, 0);
  await waitFor(() => logTexts().includes("~wes still flowing"), 15_000, "wes's update");
  assert.ok(!logTexts().some((t) => t.includes("PLANTED")));
});

test("trust spool - a relay running as its own user with CAP_DAC_READ_SEARCH (as the unit runs it) reads a private spool in a private home", async () => {
  const DAEMON = 12346;
  const node = writeRelayConfig(join(dir.path, "cap"), "cap", { servers: [server.url] });
  chownSync(node.dir, DAEMON, DAEMON);
  chownSync(node.homes, 0, 0);
  chmodSync(node.homes, 0o755);
  const h = join(node.homes, "vic");
  mkdirSync(h, { mode: 0o700 });
  chownSync(h, NOBODY, NOBODY);
  assert.equal((await bustle(h, "shout", "--anon", "behind closed doors")).code, 0);
  assert.notEqual(
    (await asUid(DAEMON, ["cat", join(h, ".bustle.spool")])).code,
    0,
    "without the capability the daemon's user cannot read it",
  );
  // Existing spools are read from their end on a first start: this line comes after it.
  const capRelay = new RelayProcess(
    node,
    [],
    [
      "setpriv",
      `--reuid=${DAEMON}`,
      `--regid=${DAEMON}`,
      "--clear-groups",
      "--inh-caps=+dac_read_search",
      "--ambient-caps=+dac_read_search",
    ],
  );
  await capRelay.start();
  try {
    assert.equal((await bustle(h, "shout", "--anon", "still private")).code, 0);
    await waitFor(
      () => logLines(node.log).some((l) => textOf(l) === "someone shouts, 'STILL PRIVATE'"),
      15_000,
      "the shout read through the capability",
    );
    assert.equal(statSync(node.log).uid, DAEMON);
  } finally {
    await capRelay.stop();
  }
});
