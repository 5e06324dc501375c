// The watcher where the kernel says no: directories it may not read (run as nobody), and the
// inotify watch limit (a user namespace with a limit of 30 watches). Both in child processes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { makeHome } from "./harness.js";
import { CHILD_SCRIPT, runChild, type Child } from "./child.js";

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function homesRoot(users: string[]): string {
  const tmp = tempDir("bustle-ambient-limits-");
  cleanups.push(() => tmp.remove());
  chmodSync(tmp.path, 0o755);
  const root = join(tmp.path, "home");
  mkdirSync(root);
  for (const u of users) makeHome(root, u);
  return root;
}

function start(child: Child): Child {
  cleanups.push(() => child.stop());
  return child;
}

test("ambient - unreadable directories are skipped and unreadable homes retried, without breaking the rest", {
  skip: process.getuid?.() !== 0 && "needs root to run the watcher as another uid",
}, async () => {
  const root = homesRoot(["alice", "bob", "carol"]);
  mkdirSync(join(root, "alice", "secret", "deeper"), { recursive: true });
  chmodSync(join(root, "alice", "secret"), 0o000);
  chmodSync(join(root, "carol"), 0o700); // root's own, closed to the watcher's uid
  const child = start(
    runChild(process.execPath, [CHILD_SCRIPT, JSON.stringify({ root, rescanMs: 100 })], { uid: 65534, gid: 65534 }),
  );
  await child.ready();
  assert.equal(child.lines.find((l) => l.type === "ready")?.uid, 65534);
  await waitFor(
    () => {
      writeFileSync(join(root, "alice", "public_html", "new.html"), "x");
      return child.events().some((e) => e.actor === "alice" && e.kind === "publish");
    },
    10_000,
    "an event from the home with an unreadable directory",
  );
  appendFileSync(join(root, "bob", "todo.txt"), "x\n");
  await waitFor(() => child.events().some((e) => e.actor === "bob"), 10_000, "an event from a neighbour");
  await waitFor(
    () => child.logs("debug").filter((l) => /still cannot watch/.test(l.msg) && l.user === "carol").length >= 2,
    10_000,
    "retries of the unreadable home",
  );
  const carol = child.logs("warn").filter((l) => l.user === "carol");
  assert.equal(carol.length, 1, `one warning for the unreadable home, not one per retry: ${JSON.stringify(carol)}`);
  assert.equal(child.logs("error").length, 0, JSON.stringify(child.logs("error")));
  chmodSync(join(root, "carol"), 0o755);
  await waitFor(
    () => {
      appendFileSync(join(root, "carol", "todo.txt"), "x\n");
      return child.events().some((e) => e.actor === "carol");
    },
    15_000,
    "an event from the home once it is readable",
  );
  assert.ok(child.logs("info").some((l) => /watching a home directory again/.test(l.msg) && l.user === "carol"));
  chmodSync(join(root, "alice", "secret"), 0o755);
});

test("ambient - with CAP_DAC_READ_SEARCH (as under the systemd unit) closed homes of other users are watched", {
  skip: process.getuid?.() !== 0 && "needs root to run the watcher as another uid with a capability",
}, async () => {
  const root = homesRoot(["alice", "bob"]);
  chmodSync(join(root, "alice"), 0o700); // root's own and closed: readable only through the capability
  chmodSync(join(root, "bob"), 0o711);
  const child = start(
    runChild("setpriv", [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=+dac_read_search",
      "--ambient-caps=+dac_read_search",
      process.execPath,
      CHILD_SCRIPT,
      JSON.stringify({ root, rescanMs: 100 }),
    ]),
  );
  await child.ready();
  for (const user of ["alice", "bob"])
    await waitFor(
      () => {
        appendFileSync(join(root, user, "todo.txt"), "x\n");
        return child.events().some((e) => e.actor === user);
      },
      10_000,
      `an event from ${user}'s closed home`,
    );
  assert.equal(child.logs("warn").length, 0, JSON.stringify(child.logs("warn")));
});

const canUnshare =
  spawnSync("unshare", ["-U", "-r", "sh", "-c", "echo 30 > /proc/sys/user/max_inotify_watches"]).status === 0;

test("ambient - at the inotify watch limit it says so once with the sysctl, keeps what it watches, and recovers", {
  skip: !canUnshare && "needs unshare -U (user namespaces)",
}, async () => {
  const users = ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"]; // 5 watched directories each, 40 > 30
  const root = homesRoot(users);
  const args = JSON.stringify({ root, rescanMs: 100, limitRetryMs: 300 });
  const child = start(
    runChild("unshare", [
      "-U",
      "-r",
      "sh",
      "-c",
      `echo 30 > /proc/sys/user/max_inotify_watches && exec "$0" "$1" "$2"`,
      process.execPath,
      CHILD_SCRIPT,
      args,
    ]),
  );
  await child.ready();
  const errors = () => child.logs("error");
  assert.equal(errors().length, 1, JSON.stringify(child.lines));
  assert.match(errors()[0]!.msg, /inotify watch limit is reached/);
  assert.match(errors()[0]!.msg, /sysctl fs\.inotify\.max_user_watches=\d+/);
  assert.match(errors()[0]!.msg, /of 8 home directories are not watched/);
  appendFileSync(join(root, "u1", "todo.txt"), "x\n");
  await waitFor(() => child.events().some((e) => e.actor === "u1"), 10_000, "an event from a watched home");
  await waitFor(() => child.logs("debug").filter((l) => /retrying/.test(l.msg)).length >= 3, 10_000, "a few retries");
  assert.equal(errors().length, 1, "said once, not once per retry");
  for (const u of ["u1", "u2", "u3", "u4"]) rmSync(join(root, u), { recursive: true });
  await waitFor(
    () => child.logs("info").some((l) => /every home directory is watched again/.test(l.msg)),
    10_000,
    "the recovery line",
  );
  appendFileSync(join(root, "u8", "todo.txt"), "x\n");
  await waitFor(
    () => child.events().some((e) => e.actor === "u8"),
    10_000,
    "an event from a home watched after the recovery",
  );
  assert.equal(child.proc.exitCode, null, "still running");
});

test("ambient - one inotify watch per directory, none for dot-directories no rule names at the top two levels", async () => {
  const root = homesRoot(["alice"]); // alice, public_html, projects, .ttbp, .ttbp/entries, .cache
  for (const d of [
    ".cache/a/b/c",
    ".local/share/app",
    ".git/objects/ab",
    "projects/.git/objects/cd",
    "projects/app/.git/objects",
  ]) {
    mkdirSync(join(root, "alice", d), { recursive: true });
  }
  const child = start(runChild(process.execPath, [CHILD_SCRIPT, JSON.stringify({ root })]));
  await child.ready();
  // the homes root (Node's own watch), alice, public_html, projects, .ttbp, .ttbp/entries,
  // projects/app, and projects/app/.git, .git/objects (dot-directories deeper than the second
  // level are watched; the rules drop their changes)
  assert.equal(child.lines.find((l) => l.type === "ready")?.watches, 9);
});
