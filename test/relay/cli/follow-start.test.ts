import { after, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, constants, openSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { LogFollower, type FollowNotice } from "../../../relay/cli/follow.js";

// The race behind a rare "feed - a log cut back after a relay crash" failure: the feed printed its
// tail, the relay (the test) cut the log back, and only then did the follower read the lines it
// had shown — from a file that was now shorter ("log shrank while being read", the feed died).
const dir = tempDir("bustle-follow-start-");
after(() => dir.remove());
const line = (i: number) =>
  `2026-11-22T05:51:${String(i % 60).padStart(2, "0")}.123Z town ~user${i} shouts, 'HI ${i}'\n`;

test("follow - a log cut back between showing the tail and following it: no crash, shown lines not repeated", async () => {
  const log = join(dir.path, "cut.log");
  const body = Array.from({ length: 1000 }, (_, i) => line(i)).join("");
  writeFileSync(log, body + line(1000) + line(1001));
  const fd = openSync(log, constants.O_RDONLY);
  const shown: string[] = [];
  const notices: FollowNotice[] = [];
  const follower = new LogFollower(
    log,
    { line: (l) => shown.push(l.toString() + "\n"), notice: (k) => notices.push(k) },
    { fd, offset: statSync(log).size },
  );
  try {
    // Cut back and rewritten with the same bytes, before the follower has started.
    truncateSync(log, Buffer.byteLength(body));
    appendFileSync(log, line(1000));
    follower.start();
    await waitFor(() => notices.includes("truncated"), 10_000, "the truncation notice");
    appendFileSync(log, line(1001) + line(2000));
    await waitFor(() => shown.includes(line(2000)), 10_000, "the line after the rewrite");
    assert.deepEqual(shown, [line(2000)], "lines shown before the cut are not shown again");
  } finally {
    follower.stop();
  }
});
