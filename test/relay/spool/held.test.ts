import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  accessSync,
  appendFileSync,
  chmodSync,
  constants,
  linkSync,
  mkdirSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { deviceMajor, readsInline, SpoolFile } from "../../../relay/spool/spool-file.js";
import { mountSmallFs } from "../durability/small-fs.js";
import { fixture, startReader, texts, waitAudit, waitEvents, type Fixture, type Running } from "./helpers.js";

/**
 * A held spool is re-checked with one fstat of the open file when only its content changed, and
 * its path is looked at when inotify says the name may name another file now. These tests give
 * the reader no pokes and no rescans (inotify only), so a shortcut that read through the old
 * handle, or through the path without the checks, would show: after each swap the reader must
 * refuse exactly as on a first open, read nothing from the swapped-in file nor from the old one,
 * and keep reading bob's spool.
 */
async function setup(t: { after(fn: () => unknown): void }) {
  const f = fixture();
  t.after(() => f.remove());
  f.home("alice");
  f.home("bob");
  const r = await startReader(f, { rescanMs: 600_000 });
  t.after(() => r.reader.stop());
  f.append("alice", "alice 1\n");
  await waitEvents(r.sink, 1, "alice's first line (the spool is now held open)");
  return { f, r };
}

/** Bob's spool keeps flowing (the reader is alive); returns once his lines are in. */
async function bobStillRead(f: Fixture, r: Running, before: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    f.append("bob", `bob ${i}\n`);
    await waitEvents(r.sink, before + i + 1, `bob's line ${i}`);
  }
}

test("spool held - renamed away and replaced by a symlink to bob's spool: nothing of either file is read as alice's", async (t) => {
  const { f, r } = await setup(t);
  f.append("bob", "bob's own line\n");
  await waitEvents(r.sink, 2, "bob's own line");
  const old = join(f.homes, "alice", "old-spool");
  renameSync(f.spool("alice"), old);
  symlinkSync(f.spool("bob"), f.spool("alice"));
  appendFileSync(old, "written to the old file\n");
  f.append("bob", "bob's private line\n");
  await waitAudit(r, (x) => x.reason === "spool-symlink", "a spool-symlink refusal");
  await waitEvents(r.sink, 3, "bob's private line, as bob's");
  await bobStillRead(f, r, 3);
  assert.deepEqual(texts(r.sink), [
    "~alice alice 1",
    "~bob bob's own line",
    "~bob bob's private line",
    "~bob bob 0",
    "~bob bob 1",
    "~bob bob 2",
  ]);
});

test("spool held - replaced by a hard link to another uid's file, then appended: refused, nothing read", async (t) => {
  const { f, r } = await setup(t);
  const theirs = join(f.dir.path, "theirs");
  writeFileSync(theirs, "someone else's\n");
  execFileSync("chown", ["4242:4242", theirs]);
  renameSync(f.spool("alice"), join(f.homes, "alice", "old-spool"));
  linkSync(theirs, f.spool("alice"));
  appendFileSync(f.spool("alice"), "appended to someone else's\n");
  await waitAudit(r, (x) => x.reason === "spool-owner-mismatch", "a spool-owner-mismatch refusal");
  await bobStillRead(f, r, 1);
  assert.deepEqual(texts(r.sink), ["~alice alice 1", "~bob bob 0", "~bob bob 1", "~bob bob 2"]);
});

test("spool held - made world-writable, then appended by another uid: refused, the line is not read", async (t) => {
  const { f, r } = await setup(t);
  for (const d of [f.dir.path, f.homes, join(f.homes, "alice")]) chmodSync(d, 0o755); // nobody may reach it
  f.append("alice", "alice 2\n"); // read after the chmods' notifications, so only the spool's own follow
  await waitEvents(r.sink, 2, "alice's second line");
  chmodSync(f.spool("alice"), 0o666);
  execFileSync("setpriv", [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "sh",
    "-c",
    `printf 'written by nobody\\n' >> '${f.spool("alice")}'`,
  ]);
  await waitAudit(r, (x) => x.reason === "spool-world-writable", "a spool-world-writable refusal");
  await bobStillRead(f, r, 2);
  assert.deepEqual(texts(r.sink), ["~alice alice 1", "~alice alice 2", "~bob bob 0", "~bob bob 1", "~bob bob 2"]);
});

test("spool held - rotated (renamed away, a new file): the new file is read, later appends to the old one are not", async (t) => {
  const { f, r } = await setup(t);
  const old = `${f.spool("alice")}.1`;
  renameSync(f.spool("alice"), old);
  f.append("alice", "new file\n");
  appendFileSync(old, "appended to the old file\n");
  await waitEvents(r.sink, 2, "the new file's line");
  await bobStillRead(f, r, 2);
  assert.deepEqual(texts(r.sink), ["~alice alice 1", "~alice new file", "~bob bob 0", "~bob bob 1", "~bob bob 2"]);
});

test("spool held - the home moved away and replaced by a symlink to it: refused, nothing more is read", async (t) => {
  const { f, r } = await setup(t);
  const elsewhere = join(f.dir.path, "elsewhere");
  renameSync(join(f.homes, "alice"), elsewhere);
  symlinkSync(elsewhere, join(f.homes, "alice"));
  appendFileSync(join(elsewhere, ".bustle.spool"), "via a symlinked home\n");
  await waitAudit(r, (x) => x.reason === "home-symlink", "a home-symlink refusal");
  await bobStillRead(f, r, 1);
  assert.deepEqual(texts(r.sink), ["~alice alice 1", "~bob bob 0", "~bob bob 1", "~bob bob 2"]);
});

test("spool held - plain appends to the held spool keep being read, in order", async (t) => {
  const { f, r } = await setup(t);
  for (let i = 2; i <= 20; i++) f.append("alice", `alice ${i}\n`);
  await waitEvents(r.sink, 20, "alice's 20 lines");
  assert.deepEqual(
    texts(r.sink),
    Array.from({ length: 20 }, (_, i) => `~alice alice ${i + 1}`),
  );
});

test("spool file - device numbers: a block device's file system is read inline, anonymous devices are not", () => {
  assert.equal(deviceMajor(253 * 256), 253); // 253:0, /dev/vda
  assert.equal(deviceMajor(8 * 256 + 1), 8); // 8:1, /dev/sda1
  assert.equal(deviceMajor(0x12000 * 2 ** 32 + 0x5600 + 7), 0x12056); // a major above 4095: glibc's encoding
  assert.equal(readsInline(253 * 256), true);
  assert.equal(readsInline(45), false); // 0:45 — FUSE, NFS, tmpfs, overlay
});

test("spool file - reads and stats are the same on the main thread and through the thread pool", async (t) => {
  const dir = tempDir("bustle-spool-file-");
  t.after(() => dir.remove());
  mkdirSync(join(dir.path, "d"));
  const path = join(dir.path, "d", "f");
  writeFileSync(path, "0123456789\n");
  for (const inline of [true, false]) {
    const fh = await open(path, "r");
    const file = new SpoolFile(fh, 0, inline);
    try {
      assert.equal(file.inline, inline);
      const buf = Buffer.alloc(8);
      assert.equal(await file.read(buf, 5), 6);
      assert.equal(buf.subarray(0, 6).toString(), "56789\n");
      assert.equal(await file.read(Buffer.alloc(0), 0), 0);
      assert.equal((await file.stat()).size, 11);
    } finally {
      await file.close();
    }
  }
});

/**
 * A writable folder on a file system with an anonymous device (tmpfs, overlay: read through the
 * thread pool): a usual one if there is one, else a tmpfs mounted for the test (root), else why not.
 */
function poolReadDir(): { path: string; remove(): void } | { skip: string } {
  for (const dir of ["/dev/shm", "/run", tmpdir(), "/tmp"]) {
    try {
      accessSync(dir, constants.W_OK);
      if (!readsInline(statSync(dir).dev)) return { path: dir, remove() {} };
    } catch {
      /* missing or read-only here: the next one */
    }
  }
  return mountSmallFs(16 * 1024 * 1024);
}

test("spool held - on a file system read through the thread pool (tmpfs): new lines, a rewrite and a truncation read as on a disk", async (t) => {
  const dir = poolReadDir();
  if ("skip" in dir) return t.skip(`no anonymous-device file system here, and ${dir.skip}`);
  const f = fixture(dir.path);
  t.after(() => f.remove());
  f.home("alice");
  const r = await startReader(f, { rescanMs: 600_000 });
  t.after(() => r.reader.stop());
  t.after(() => dir.remove()); // a tmpfs mounted for the test: unmounted once nothing holds it
  f.append("alice", "one\n");
  await waitEvents(r.sink, 1, "the first line");
  f.append("alice", "two\n");
  await waitEvents(r.sink, 2, "the second line (the held file re-checked through the pool)");
  writeFileSync(f.spool("alice"), "ONE\nTWO\nsix\n"); // same inode, refilled longer
  await waitAudit(r, (x) => x.what === "spool-rewritten", "the rewrite noticed");
  await waitEvents(r.sink, 5, "the refilled file from its beginning");
  writeFileSync(f.spool("alice"), "x\n"); // shorter: truncated
  await waitAudit(r, (x) => x.what === "spool-truncated", "the truncation noticed");
  await waitEvents(r.sink, 6, "the line after the truncation");
  assert.deepEqual(
    texts(r.sink),
    ["one", "two", "ONE", "TWO", "six", "x"].map((x) => `~alice ${x}`),
  );
});
