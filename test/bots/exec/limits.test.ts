import { test } from "node:test";
import assert from "node:assert/strict";
import { LineSplitter, TokenBucket } from "../../../bots/exec/limits.js";

test("exec limits - lines are split across chunks and an oversized line is dropped whole", () => {
  const lines: string[] = [];
  const big: number[] = [];
  const s = new LineSplitter(
    10,
    (l) => lines.push(l),
    (n) => big.push(n),
  );
  s.push(Buffer.from("ab"));
  s.push(Buffer.from("c\r\nde"));
  s.push(Buffer.from("f\n0123456789abc"));
  s.push(Buffer.from("def\nok\n"));
  s.push(Buffer.from("tail"));
  s.end();
  assert.deepEqual(lines, ["abc", "def", "ok", "tail"]);
  assert.equal(big.length, 1);
});

test("exec limits - the token bucket allows a burst, then the rate", () => {
  let now = 0;
  const b = new TokenBucket(3, 60, () => now);
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
  now += 1000;
  assert.equal(b.take(), true);
  assert.equal(b.take(), false);
  now += 60_000;
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
});
