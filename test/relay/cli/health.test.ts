import { after, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasError } from "../../../cluster/health.js";
import { readLastEvent } from "../../../relay/health.js";
import { logPositionHealth } from "../../../relay/log-position.js";
import { tempDir } from "../../../cluster/temp.js";

const dir = tempDir("bustle-cli-health-");
after(() => dir.remove());

test("health - the log position file: lag against the stream head, clear errors when absent or bad", () => {
  const f = join(dir.path, "log-position.json");
  assert.match((logPositionHealth(f, 10) as { error: string }).error, /no log position at .* yet/);
  writeFileSync(f, '{"seq":7,"size":900,"ino":12}\n');
  assert.deepEqual(logPositionHealth(f, 10), { file: f, seq: 7, size: 900, lag: 3 });
  assert.deepEqual(logPositionHealth(f, undefined), { file: f, seq: 7, size: 900, lag: undefined });
  assert.equal((logPositionHealth(f, 5) as { lag: number }).lag, 0, "never negative");
  for (const bad of ['{"seq":"7","size":1}', '{"seq":-1,"size":1}', "[]", "null", '{"seq":1}', "{torn"]) {
    writeFileSync(f, bad);
    assert.ok(hasError(logPositionHealth(f, 10)), bad);
  }
});

test("health - the last event line, read from the end", () => {
  const f = join(dir.path, "bustle.log");
  assert.ok(hasError(readLastEvent(f)));
  writeFileSync(f, "");
  assert.deepEqual(readLastEvent(f), { line: undefined });
  writeFileSync(f, "a town one\nb town two\nc town half");
  assert.deepEqual(readLastEvent(f), { line: "b town two" });
  writeFileSync(f, "only\n");
  assert.deepEqual(readLastEvent(f), { line: "only" });
  writeFileSync(f, "x".repeat(100) + "\n" + "y".repeat(300) + "\n");
  assert.deepEqual(
    readLastEvent(f, 200),
    { line: undefined },
    "a line longer than the window is not cut into a fragment",
  );
});
