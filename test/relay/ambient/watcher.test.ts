import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EVENT_ID_RE, type BustleEvent } from "../../../cluster/envelope.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { createLogger } from "../../../cluster/logger.js";
import { tempDir } from "../../../cluster/temp.js";
import { memoryAudit } from "../../../relay/audit.js";
import { createAmbientWatcher } from "../../../relay/ambient/watcher.js";
import { ambientConfig, makeHome, startHarness, type Harness } from "./harness.js";

const open: Harness[] = [];
after(async () => {
  await Promise.all(open.map((h) => h.close()));
});
async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  open.push(h);
  return h;
}

/** Waits until the watcher has handled everything written to `user`'s home so far (a spool write is the barrier). */
async function settle(h: Harness, user: string): Promise<void> {
  const before = h.spools.filter((u) => u === user).length;
  appendFileSync(join(h.root, user, ".bustle.spool"), "");
  appendFileSync(join(h.root, user, ".bustle.spool"), "x");
  await waitFor(() => h.spools.filter((u) => u === user).length > before, 10_000, `the spool change of ${user}`);
}

/** A watcher on `root` with the default rules, its events and its debug log lines kept in arrays. */
function recordingWatcher(root: string, rescanMs: number) {
  const events: BustleEvent[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const w = createAmbientWatcher({
    node: "town",
    homesRoot: root,
    config: ambientConfig(),
    audit: memoryAudit(),
    rescanMs,
    sink: { submit: async (evs) => void events.push(...evs) },
    log: createLogger({ level: "debug", write: (line) => void logs.push(JSON.parse(line)) }),
  });
  return { w, events, logs };
}

test("ambient - each default rule fires with the right kind, actor and text", async () => {
  const h = await harness(["alice", "bob", "carol", "dave"]);
  // Looked up by kind and actor: under load the watcher may report bob's new file as a create and,
  // in a later batch, a change (an activity event of bob's), which must not hide dave's.
  const find = (kind: string, actor: string | null) => h.events.find((e) => e.kind === kind && e.actor === actor);
  // One change at a time, each waited for: @parcel/watcher drops a change that lands while it
  // hands over the batch before it (parcel-bundler/watcher#183; docs/ambient.md, "Known limits"),
  // and four writes in the same millisecond hit that often enough to fail a run in ten.
  const changes: Array<[() => void, string, string | null]> = [
    [() => writeFileSync(join(h.root, "alice", "public_html", "about.html"), "<p>me</p>"), "publish", "alice"],
    [() => writeFileSync(join(h.root, "bob", "poem.txt"), "roses"), "create", "bob"],
    [() => writeFileSync(join(h.root, "carol", ".ttbp", "entries", "20261122.txt"), "dear diary"), "ttbp", null],
    [() => appendFileSync(join(h.root, "dave", "todo.txt"), "eggs\n"), "activity", "dave"],
  ];
  for (const [change, kind, actor] of changes) {
    change();
    await waitFor(() => find(kind, actor), 10_000, `the ${kind} event of ${actor ?? "an anonymous rule"}`);
  }
  assert.equal(find("publish", "alice")?.text, "~alice just added to their public_html");
  assert.equal(find("create", "bob")?.text, "~bob just created a new file");
  assert.equal(find("ttbp", null)?.text, "there is a rattling sound in ttbp", "the ttbp rule is anonymous");
  assert.equal(find("activity", "dave")?.text, "~dave is moving around in their home directory");
  assert.ok(
    h.events.every((e) => e.kind !== "activity" || e.actor === "dave" || e.actor === "bob"),
    "only dave (and bob's change) are activity",
  );
  for (const e of h.events) {
    assert.equal(e.source, "fs");
    assert.equal(e.node, "town");
    assert.match(e.id, EVENT_ID_RE);
    assert.doesNotMatch(JSON.stringify(e), /about\.html|poem|20261122|todo|roses|diary/, "no file names or contents");
  }
  assert.equal(new Set(h.events.map((e) => e.id)).size, h.events.length);
  const audited = h.audit.records.filter((r) => r.type === "event");
  assert.equal(audited.length, h.events.length);
  assert.ok(
    audited.some((r) => r.kind === "ttbp" && r.actor === "carol"),
    "the audit log keeps the real actor of an anonymous event",
  );
});

test("ambient - 100 rapid writes are one event in the window, and the rest are counted in the audit", async () => {
  const h = await harness(["alice"]);
  const file = join(h.root, "alice", "todo.txt");
  for (let i = 0; i < 100; i++) {
    appendFileSync(file, `line ${i}\n`);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 60)); // spread over several library batches
  }
  await settle(h, "alice");
  assert.equal(h.events.length, 1);
  assert.equal(h.events[0]!.kind, "activity");
  h.advance(600_000); // the 10-minute window has passed
  appendFileSync(file, "one more\n");
  await waitFor(() => h.events.length === 2, 10_000, "an event after the window");
  await h.watcher.stop();
  const note = h.audit.records.find((r) => r.what === "ambient changes held back");
  assert.ok(note, "a summary note in the audit log");
  assert.ok((note.coalesced as number) >= 1);
  assert.ok(((note.coalesced_by as any).alice.activity as number) >= 1);
  assert.equal(
    h.audit.records.filter((r) => r.what === "ambient changes held back").length,
    1,
    "one summary, not one line per change",
  );
});

test("ambient - ~/.bustle.optout stops a user's events at once, and removing it resumes them", async () => {
  const h = await harness(["alice"]);
  const file = join(h.root, "alice", "todo.txt");
  appendFileSync(file, "a\n");
  await waitFor(() => h.events.length === 1, 10_000, "the first event");
  writeFileSync(join(h.root, "alice", ".bustle.optout"), "");
  h.advance(600_000);
  appendFileSync(file, "b\n");
  writeFileSync(join(h.root, "alice", "new.txt"), "c");
  mkdirSync(join(h.root, "alice", "public_html", "blog"));
  await settle(h, "alice");
  assert.equal(h.events.length, 1, "nothing while opted out");
  unlinkSync(join(h.root, "alice", ".bustle.optout"));
  appendFileSync(file, "d\n");
  await waitFor(() => h.events.length === 2, 10_000, "an event after opting back in");
});

test("ambient - a home directory created after start is watched, and a removed one is let go", async () => {
  const h = await harness(["alice"], {}, { rescanMs: 60_000 });
  makeHome(h.root, "erin");
  await waitFor(
    () => {
      appendFileSync(join(h.root, "erin", "todo.txt"), "x\n");
      return h.events.some((e) => e.actor === "erin");
    },
    10_000,
    "an event from the new home",
  );
  rmSync(join(h.root, "erin"), { recursive: true });
  makeHome(h.root, "erin"); // the same name again: a new directory
  h.advance(600_000);
  await waitFor(
    () => {
      writeFileSync(join(h.root, "erin", "public_html", "index.html"), "again");
      return h.events.some((e) => e.actor === "erin" && e.kind === "publish");
    },
    10_000,
    "an event from the re-created home",
  );
  assert.ok(!h.logs.some((l) => l.level === "error"), JSON.stringify(h.logs.filter((l) => l.level === "error")));
});

test("ambient - the spool reader is told which homes are watched: at start, a new home, a removed one", async () => {
  const h = await harness(["alice", "bob"], { exclude: ["bob"] }, { rescanMs: 60_000 });
  assert.deepEqual(h.coverage, [["alice", true]], "the excluded home is not covered");
  assert.equal(h.watcher.watches("alice"), true);
  assert.equal(h.watcher.watches("bob"), false);
  makeHome(h.root, "erin");
  await waitFor(() => h.watcher.watches("erin"), 10_000, "the new home watched");
  assert.deepEqual(h.coverage.at(-1), ["erin", true]);
  rmSync(join(h.root, "alice"), { recursive: true });
  await waitFor(() => !h.watcher.watches("alice"), 10_000, "the removed home let go");
  assert.deepEqual(h.coverage.at(-1), ["alice", false], "told when it was let go");
  const told = h.coverage.length;
  await h.watcher.stop();
  assert.equal(h.coverage.length, told, "nothing told on stop: the spool reader stops next");
});

test("ambient - dot-paths and the spool are not activity; the spool reader is told about the spool", async () => {
  const h = await harness(["alice"]);
  const home = join(h.root, "alice");
  writeFileSync(join(home, ".cache", "thumb.png"), "x");
  mkdirSync(join(home, ".config", "app"), { recursive: true });
  writeFileSync(join(home, ".config", "app", "rc"), "x");
  writeFileSync(join(home, ".profile"), "x");
  mkdirSync(join(home, "public_html", ".git"));
  writeFileSync(join(home, "public_html", ".git", "HEAD"), "ref");
  await settle(h, "alice");
  assert.equal(h.events.length, 0, "no events for dot-paths or the spool");
  assert.ok(h.spools.includes("alice"));
  appendFileSync(join(home, "todo.txt"), "x\n");
  await waitFor(() => h.events.length === 1, 10_000, "an ordinary change after the dot-paths");
  assert.equal(h.events[0]!.kind, "activity");
});

test("ambient - a symlink loop and an unreadable directory in a home do not break the watcher", async () => {
  const tmpUsers = ["alice", "bob"];
  const h0 = await harness([]);
  for (const u of tmpUsers) makeHome(h0.root, u);
  const home = join(h0.root, "alice");
  symlinkSync(".", join(home, "loop"));
  symlinkSync("b-link", join(home, "a-link"));
  symlinkSync("a-link", join(home, "b-link"));
  symlinkSync(home, join(home, "projects", "up"));
  mkdirSync(join(home, "secret", "deeper"), { recursive: true });
  chmodSync(join(home, "secret"), 0o000);
  await waitFor(
    () => {
      appendFileSync(join(home, "todo.txt"), "x\n");
      return h0.events.some((e) => e.actor === "alice");
    },
    10_000,
    "an event from the home with loops",
  );
  symlinkSync("..", join(home, "projects", "parent")); // made while watched
  writeFileSync(join(h0.root, "bob", "public_html", "x.html"), "x");
  await waitFor(() => h0.events.some((e) => e.actor === "bob"), 10_000, "an event from the neighbour");
  chmodSync(join(home, "secret"), 0o755);
  assert.ok(!h0.logs.some((l) => l.level === "error"), JSON.stringify(h0.logs.filter((l) => l.level === "error")));
});

test("ambient - the tilde-wide cap holds a busy minute to max_per_minute and counts what it dropped", async () => {
  const users = ["u1", "u2", "u3", "u4", "u5"];
  const h = await harness(users, { max_per_minute: 2 });
  for (const u of users) appendFileSync(join(h.root, u, "todo.txt"), "x\n");
  for (const u of users) await settle(h, u);
  assert.equal(h.events.length, 2);
  await h.watcher.stop();
  const note = h.audit.records.find((r) => r.what === "ambient changes held back");
  assert.equal(note?.dropped, 3);
});

test("ambient - enabled: false watches nothing", async () => {
  const h = await harness(["alice"], { enabled: false });
  appendFileSync(join(h.root, "alice", "todo.txt"), "x\n");
  writeFileSync(join(h.root, "alice", "new.txt"), "x");
  await new Promise((r) => setTimeout(r, 300)); // nothing to wait for: the absence is the point
  assert.equal(h.events.length, 0);
  assert.equal(h.spools.length, 0);
});

test("ambient - a homes root that appears after start is picked up by the rescan", async () => {
  const tmp = tempDir("bustle-ambient-late-");
  const root = join(tmp.path, "home");
  const { w: watcher, events: got, logs } = recordingWatcher(root, 100);
  const texts = () => got.map((e) => e.text);
  try {
    await watcher.start();
    assert.equal(logs.filter((l) => l.level === "error").length, 1, "one line about the missing root");
    mkdirSync(root);
    makeHome(root, "alice");
    await waitFor(
      () => {
        appendFileSync(join(root, "alice", "todo.txt"), "x\n");
        return texts().includes("~alice is moving around in their home directory");
      },
      10_000,
      "an event once the root exists",
    );
    makeHome(root, "bob"); // seen by the new watch on the root (or the rescan)
    await waitFor(
      () => {
        appendFileSync(join(root, "bob", "todo.txt"), "x\n");
        return texts().includes("~bob is moving around in their home directory");
      },
      10_000,
      "an event from a later home",
    );
    assert.equal(logs.filter((l) => l.level === "error").length, 1, "said once");
  } finally {
    await watcher.stop();
    tmp.remove();
  }
});

test("ambient - excluded home directories are not watched", async () => {
  const h = await harness(["alice", "svc-backup"], { exclude: ["svc-backup"] });
  appendFileSync(join(h.root, "svc-backup", "todo.txt"), "x\n");
  appendFileSync(join(h.root, "svc-backup", ".bustle.spool"), "x\n");
  await settle(h, "alice");
  appendFileSync(join(h.root, "alice", "todo.txt"), "x\n");
  await waitFor(() => h.events.length >= 1, 10_000, "alice's event");
  assert.deepEqual(
    h.events.map((e) => e.actor),
    ["alice"],
  );
  assert.ok(!h.spools.includes("svc-backup"), "not even the spool hook: the home is not watched");
});

test("ambient - homes present at start: a symlinked home, and one removed and made again under the same name, are watched", async () => {
  // Ordinary homes share one subscription on the root; a symlinked home gets its own, and a
  // home made again after start is watched anew (not left to the old subscription's partial view).
  const tmp = tempDir("bustle-ambient-start-");
  const root = join(tmp.path, "home");
  mkdirSync(root);
  for (const u of ["alice", "carol"]) makeHome(root, u);
  const elsewhere = makeHome(tmp.path, "bob");
  symlinkSync(elsewhere, join(root, "bob"));
  const { w, events, logs } = recordingWatcher(root, 60_000);
  await w.start();
  try {
    appendFileSync(join(elsewhere, "todo.txt"), "x\n");
    await waitFor(() => events.some((e) => e.actor === "bob"), 10_000, "an event from the symlinked home");
    appendFileSync(join(root, "alice", "todo.txt"), "x\n");
    await waitFor(
      () => events.some((e) => e.actor === "alice"),
      10_000,
      "an event from a home on the shared subscription",
    );
    rmSync(join(root, "carol"), { recursive: true });
    makeHome(root, "carol");
    await waitFor(
      () => {
        writeFileSync(join(root, "carol", "public_html", "index.html"), "again");
        return events.some((e) => e.actor === "carol" && e.kind === "publish");
      },
      10_000,
      "an event from the home made again",
    );
    assert.equal(events.filter((e) => e.actor === "alice").length, 1, "one event per change, not one per subscription");
    assert.ok(
      !logs.some((l) => l.level === "error" || l.level === "warn"),
      JSON.stringify(logs.filter((l) => l.level !== "debug")),
    );
  } finally {
    await w.stop();
    tmp.remove();
  }
});

test("ambient - entries of the homes root that are not homes (a FIFO, a file, links to them, a dangling link) are skipped without stalling", async () => {
  // The listing opens each entry to see whether it may list it: a FIFO must not block that open.
  const tmp = tempDir("bustle-ambient-odd-");
  const root = join(tmp.path, "home");
  mkdirSync(root);
  makeHome(root, "alice");
  const fifo = join(tmp.path, "fifo");
  assert.equal(spawnSync("mkfifo", [fifo, join(root, "pipe")]).status, 0, "mkfifo");
  symlinkSync(fifo, join(root, "pipelink"));
  writeFileSync(join(root, "notes"), "a file, not a home\n");
  symlinkSync(join(root, "notes"), join(root, "notelink"));
  symlinkSync(join(tmp.path, "nowhere"), join(root, "ghost"));
  const { w, events, logs } = recordingWatcher(root, 100);
  await w.start();
  try {
    appendFileSync(join(root, "alice", "todo.txt"), "x\n");
    await waitFor(() => events.some((e) => e.actor === "alice"), 10_000, "an event from the one real home");
    for (const odd of ["pipe", "pipelink", "notes", "notelink", "ghost"]) assert.equal(w.watches(odd), false, odd);
    assert.equal(logs.find((l) => l.msg === "watching home directories for ambient activity")?.homes, 1);
    assert.ok(
      !logs.some((l) => l.level === "error" || l.level === "warn"),
      JSON.stringify(logs.filter((l) => l.level !== "debug")),
    );
  } finally {
    await w.stop();
    tmp.remove();
  }
});
