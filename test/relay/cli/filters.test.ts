import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { indexPathOf, openLogIndexWriter, parseIndexRecord, type IndexMeta } from "../../../relay/log-index.js";
import { cliEnv, runBustle } from "./bustle-process.js";
import { BUSTLE, runCliSync } from "../../support/cli.js";

// A large log written the way the log writer writes it (index records through the real index
// writer), with an unindexed stretch at its start (a log older than its index).
const dir = tempDir("bustle-cli-filters-");
const log = join(dir.path, "bustle.log");
const env = cliEnv(dir.path);
const LINES = 300_000;
const UNINDEXED = 1_000;
const NODES = ["town", "club", "ctrl"];

interface Row {
  line: string;
  meta: IndexMeta | undefined;
}
const rows: Row[] = [];
function kindOf(i: number): string {
  if (i % 997 === 0) return "shout";
  if (i % 5 === 0) return "update";
  return i % 7 === 0 ? "chat" : "activity";
}
function row(i: number): Row {
  const node = NODES[i % 3]!;
  const kind = kindOf(i);
  const actor = kind === "chat" ? null : `user${i % 50}`;
  const text =
    kind === "shout"
      ? `~${actor} shouts, 'HI ${i}'`
      : kind === "chat"
        ? `[irc-town] <dan> line ${i}`
        : kind === "update"
          ? `~${actor} wrote ${i}`
          : `~${actor} is moving around in their home directory`;
  const line = `2026-11-22T05:51:${String(i % 60).padStart(2, "0")}.123Z ${node} ${text}\n`;
  return {
    line,
    meta:
      i < UNINDEXED
        ? undefined
        : {
            id: `event-${String(i).padStart(8, "0")}`,
            source: kind === "chat" ? "irc-town" : kind === "activity" ? "fs" : "spool",
            kind,
            actor,
          },
  };
}

before(async () => {
  for (let i = 0; i < LINES; i++) rows.push(row(i));
  writeFileSync(
    log,
    rows
      .slice(0, UNINDEXED)
      .map((r) => r.line)
      .join(""),
  );
  const index = await openLogIndexWriter(log, statSync(log).size, false);
  let size = statSync(log).size;
  for (let at = UNINDEXED; at < LINES; at += 5_000) {
    const batch = rows.slice(at, at + 5_000);
    const lines = batch.map((r) => r.line);
    await index.append(
      size,
      lines,
      batch.map((r) => r.meta),
    );
    const text = lines.join("");
    appendFileSync(log, text);
    size += Buffer.byteLength(text);
  }
  await index.close();
});
after(() => dir.remove());

/** What the feed should print: the last n rows that pass, as in the log. */
const expect = (n: number, keep: (r: Row, i: number) => boolean) =>
  rows
    .filter(keep)
    .slice(-n)
    .map((r) => r.line)
    .join("");

/** Runs the feed and reports how many bytes the process read (its /proc/self/io rchar at exit). */
function feedReading(args: string[]): { stdout: string; read: number } {
  const preload = join(dir.path, "rchar.mjs");
  writeFileSync(
    preload,
    `import { readFileSync } from "node:fs";
process.on("exit", () => process.stderr.write("rchar " + /rchar: (\\d+)/.exec(readFileSync("/proc/self/io", "utf8"))[1] + "\\n"));`,
  );
  const r = runCliSync(BUSTLE, ["--log", log, "--no-follow", ...args], { env, nodeArgs: ["--import", preload] });
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, read: Number(/rchar (\d+)/.exec(r.stderr)![1]) };
}

test("filters - --kind shout -n 3 on a large log: the last three shouts, read from the end only", () => {
  const logBytes = statSync(log).size;
  assert.ok(logBytes > 20_000_000, `a large log (${logBytes} bytes)`);
  const r = feedReading(["--kind", "shout", "-n", "3"]);
  assert.equal(
    r.stdout,
    expect(3, (x) => x.meta?.kind === "shout"),
  );
  assert.ok(r.read < logBytes / 10, `read ${r.read} bytes of a ${logBytes}-byte log`);
});

test("filters - --not-kind, --node, --grep and -n combine; -n counts lines after filtering", async () => {
  const r = await runBustle(
    ["--log", log, "--no-follow", "--not-kind", "activity,chat", "--node", "club", "--grep", "USER1", "-n", "7"],
    env,
  );
  assert.equal(r.stderr, "");
  assert.equal(
    r.stdout.toString(),
    expect(
      7,
      (x) =>
        x.meta?.kind !== "activity" &&
        x.meta?.kind !== "chat" &&
        x.line.split(" ")[1] === "club" &&
        x.line.toLowerCase().includes("user1"),
    ),
  );
  const two = await runBustle(["--log", log, "--no-follow", "--kind", "update", "--kind", "shout", "-n", "4"], env);
  assert.equal(
    two.stdout.toString(),
    expect(4, (x) => x.meta?.kind === "update" || x.meta?.kind === "shout"),
  );
});

test("filters - lines the index does not cover: --kind leaves them out, --not-kind keeps them", async () => {
  const kinds = await runBustle(["--log", log, "--no-follow", "--kind", "chat", "-n", "100000"], env);
  assert.equal(
    kinds.stdout.toString(),
    expect(100_000, (x) => x.meta?.kind === "chat"),
  );
  const not = await runBustle(
    ["--log", log, "--no-follow", "--not-kind", "activity", "--node", "ctrl", "-n", "1000000"],
    env,
  );
  assert.equal(
    not.stdout.toString(),
    expect(1_000_000, (x) => x.meta?.kind !== "activity" && x.line.split(" ")[1] === "ctrl"),
  );
  assert.ok(not.stdout.toString().includes(rows[2]!.line), "an unindexed line is kept by --not-kind");
});

test("filters - a bad kind is a usage error (exit 2, one line)", async () => {
  const r = await runBustle(["--log", log, "--no-follow", "--kind", "Shout!"], env);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^bustle: option '--kind <KINDS>' argument 'Shout!' is invalid\. "Shout!" is not a kind \(like shout, update, activity\)/,
  );
  assert.equal(r.stderr.split("\n").length, 2);
});

test("filters - the index writer cuts records past the log's end (a crash between index and log)", async () => {
  const small = join(dir.path, "crash.log");
  writeFileSync(
    small,
    rows
      .slice(UNINDEXED, UNINDEXED + 3)
      .map((r) => r.line)
      .join(""),
  );
  const w = await openLogIndexWriter(small, 0, false);
  const lines = rows.slice(UNINDEXED, UNINDEXED + 5).map((r) => r.line);
  await w.append(
    0,
    lines,
    rows.slice(UNINDEXED, UNINDEXED + 5).map((r) => r.meta),
  );
  await w.close();
  // The log kept three lines: reopening keeps their three records, and appends after them.
  const again = await openLogIndexWriter(small, statSync(small).size, false);
  await again.close();
  const records = readFileSync(indexPathOf(small), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => parseIndexRecord(l)!);
  assert.deepEqual(
    records.map((e) => e.id),
    rows.slice(UNINDEXED, UNINDEXED + 3).map((r) => r.meta!.id),
  );
  const fresh = await openLogIndexWriter(small, statSync(small).size, true);
  await fresh.close();
  assert.equal(readFileSync(indexPathOf(small), "utf8"), "", "a replaced log starts a new index");
});
