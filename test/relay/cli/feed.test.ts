import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { cliEnv, Feed, runBustle } from "./bustle-process.js";

const dir = tempDir("bustle-cli-feed-");
const feeds: Feed[] = [];
after(async () => {
  for (const f of feeds) await f.stop().catch(() => {});
  dir.remove();
});

const line = (i: number, node = ["town", "club", "ctrl"][i % 3]!) =>
  `2026-11-22T05:51:${String(i % 60).padStart(2, "0")}.123Z ${node} ~user${i} shouts, 'HI ${i}'\n`;
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => line(from + k)).join("");
const env = (extra: Record<string, string> = {}) => cliEnv(dir.path, extra);

function feed(args: string[], extra: Record<string, string> = {}): Feed {
  const f = new Feed(args, env(extra));
  feeds.push(f);
  return f;
}

test("feed - shows the last N lines of a 4 GiB log without reading it from the start", async () => {
  // A sparse 4 GiB hole (no newlines at all) followed by real lines: reading from the start
  // would have to wade through 4 GiB of NULs; reading backwards needs one chunk.
  const log = join(dir.path, "huge.log");
  const fd = openSync(log, "w");
  ftruncateSync(fd, 4 * 1024 ** 3);
  writeSync(fd, "\n" + lines(0, 1000), 4 * 1024 ** 3);
  closeSync(fd);
  const r = await runBustle(["--log", log, "--no-follow", "-n", "5"], env(), 60_000);
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString(), lines(995, 1000));
  const def = await runBustle(["--log", log, "--no-follow"], env());
  assert.equal(def.stdout.toString(), lines(990, 1000), "10 lines by default");
  rmSync(log);
});

test("feed - tail of many lines, -n larger than the log, -n 0, and $BUSTLE_LOG", async () => {
  const log = join(dir.path, "many.log");
  writeFileSync(log, lines(0, 100_000));
  assert.equal(
    (await runBustle(["--log", log, "--no-follow", "--lines", "250"], env())).stdout.toString(),
    lines(99_750, 100_000),
  );
  assert.equal(
    (await runBustle(["--no-follow", "-n", "3"], env({ BUSTLE_LOG: log }))).stdout.toString(),
    lines(99_997, 100_000),
  );
  const small = join(dir.path, "small.log");
  writeFileSync(small, lines(0, 4));
  assert.equal((await runBustle(["--log", small, "--no-follow", "-n", "50"], env())).stdout.toString(), lines(0, 4));
  const none = await runBustle(["--log", small, "--no-follow", "-n", "0"], env());
  assert.equal(none.code, 0);
  assert.equal(none.stdout.length, 0);
});

test("feed - --node and --grep filter the tail (the last N matching lines)", async () => {
  const log = join(dir.path, "filter.log");
  writeFileSync(log, lines(0, 3000));
  const club = await runBustle(["--log", log, "--no-follow", "-n", "2", "--node", "club"], env());
  assert.equal(club.stdout.toString(), line(2995) + line(2998));
  const grep = await runBustle(["--log", log, "--no-follow", "-n", "3", "--grep", "~USER12"], env());
  assert.deepEqual(
    grep.stdout
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ")[2]),
    ["~user1297", "~user1298", "~user1299"],
  );
  const both = await runBustle(["--log", log, "--no-follow", "-n", "5", "--node", "town", "--grep", "hi 27"], env());
  assert.deepEqual(
    both.stdout
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ")[2]),
    ["~user2787", "~user2790", "~user2793", "~user2796", "~user2799"],
  );
});

test("feed - plain output is byte-identical to the log's lines, and a half-written last line waits", async () => {
  const log = join(dir.path, "bytes.log");
  const raw = Buffer.concat([
    Buffer.from(line(1)),
    Buffer.from("2026-11-22T05:51:05.123Z town ~zoë sagt: grüß dich, ☃  two  spaces\ttab\n"),
    Buffer.from([0x32, 0x30, 0x20, 0x74, 0x20, 0xff, 0xfe, 0x80, 0x0a]), // invalid UTF-8 kept as it is
    Buffer.from(line(2)),
  ]);
  writeFileSync(log, Buffer.concat([raw, Buffer.from("2026 town half a li")]));
  const r = await runBustle(["--log", log, "--no-follow", "--plain", "-n", "4"], env());
  assert.ok(r.stdout.equals(raw), `got ${JSON.stringify(r.stdout.toString())}`);
  // Not a TTY: plain even without --plain.
  const r2 = await runBustle(["--log", log, "--no-follow", "-n", "4"], env());
  assert.ok(r2.stdout.equals(raw));
});

test("feed - follows appended lines, survives truncation and replacement, prints only complete lines", async () => {
  const log = join(dir.path, "follow.log");
  writeFileSync(log, lines(0, 20));
  const f = feed(["--log", log, "-n", "2"]);
  await f.until((t) => t === lines(18, 20), "the last two lines");

  appendFileSync(log, line(20) + line(21));
  await f.until((t) => t.endsWith(line(21)), "appended lines");
  appendFileSync(log, "2026-11-22T05:52:00.000Z town ~half");
  appendFileSync(log, line(22));
  await f.until((t) => t.includes(line(22)), "the line after the half one");
  assert.ok(
    f.text.includes("2026-11-22T05:52:00.000Z town ~half" + line(22)),
    "the half line is printed only once completed, whole",
  );

  writeFileSync(log, ""); // truncated (copytruncate rotation)
  await f.untilErr((e) => e.includes("truncated"), "a truncation notice");
  appendFileSync(log, line(100));
  await f.until((t) => t.endsWith(line(100)), "a line after truncation");

  appendFileSync(log, "x".repeat(3 * 1024 * 1024) + "\n" + line(101)); // an absurd line is skipped
  await f.until((t) => t.endsWith(line(101)), "the line after an absurdly long one");

  renameSync(log, log + ".1"); // replaced (rename rotation)
  writeFileSync(log, line(200));
  await f.until((t) => t.endsWith(line(200)), "the first line of the new file");
  appendFileSync(log, line(201));
  await f.until((t) => t.endsWith(line(201)), "a line appended to the new file");
  appendFileSync(log + ".1", line(999)); // the old file is no longer followed
  appendFileSync(log, line(202));
  await f.until((t) => t.endsWith(line(202)), "another line");
  assert.equal(
    f.text,
    lines(18, 22) +
      "2026-11-22T05:52:00.000Z town ~half" +
      line(22) +
      line(100) +
      line(101) +
      line(200) +
      line(201) +
      line(202),
  );
  assert.ok(!f.text.includes(line(999)));
  assert.equal(await f.stop(), 0);
});

test("feed - a log cut back after a relay crash: new lines shown, rewritten ones not repeated", async () => {
  const log = join(dir.path, "cut.log");
  const body = lines(0, 1000); // ~60 KB: more than a fresh rotated log
  writeFileSync(log, body + line(1000) + line(1001));
  const f = feed(["--log", log, "-n", "1"]);
  await f.until((t) => t === line(1001), "the last line");

  // Cut back to `body` and rewritten with one of the two lines, the same bytes at the same
  // place (as the relay does); the feed is stopped meanwhile so it sees only the result.
  f.signal("SIGSTOP");
  truncateSync(log, Buffer.byteLength(body));
  appendFileSync(log, line(1000));
  f.signal("SIGCONT");
  await f.untilErr((e) => e.includes("truncated"), "a truncation notice");
  appendFileSync(log, line(1001) + line(2000));
  await f.until((t) => t.endsWith(line(2000)), "the line written after the rewrite");
  assert.equal(f.text, line(1001) + line(2000), "rewritten lines are not shown again");

  // Cut back and followed by different lines: those are shown.
  f.signal("SIGSTOP");
  truncateSync(log, Buffer.byteLength(body));
  appendFileSync(log, line(3000));
  f.signal("SIGCONT");
  await f.until((t) => t.endsWith(line(3000)), "the different line after the cut");
  assert.equal(f.text, line(1001) + line(2000) + line(3000));
});

test("feed - follow applies --node and --grep to new lines", async () => {
  const log = join(dir.path, "follow-filter.log");
  writeFileSync(log, "");
  const f = feed(["--log", log, "--node", "club", "--grep", "wave"]);
  appendFileSync(log, line(1, "town").replace("HI", "wave") + line(2, "club") + line(3, "club").replace("HI", "WAVE"));
  await f.until((t) => t.length > 0, "a matching line");
  appendFileSync(log, line(4, "club").replace("HI", "wave"));
  await f.until((t) => t.split("\n").length === 3, "two matching lines");
  assert.equal(f.text, line(3, "club").replace("HI", "WAVE") + line(4, "club").replace("HI", "wave"));
});

test("feed - a log that does not exist yet: one clear line; following waits for it", async () => {
  const log = join(dir.path, "later", "bustle.log");
  const r = await runBustle(["--log", log, "--no-follow"], env());
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `bustle: no bustle.log at ${log} yet — is bustled running?\n`);
  const f = feed(["--log", log]);
  await f.untilErr((e) => e.includes(`no bustle.log at ${log} yet — is bustled running?`), "the waiting notice");
  mkdirSync(join(dir.path, "later"));
  writeFileSync(log, line(7));
  await f.until((t) => t === line(7), "the log's first line once it appears");
  assert.equal(await f.stop(), 0);
});

test("feed - usage errors exit 2 with one line", async () => {
  for (const args of [["-n", "lots"], ["--bogus"], ["nonsense"]]) {
    const r = await runBustle(args, env());
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^bustle: /);
  }
  const help = await runBustle(["--help"], env());
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /--no-follow/);
});
