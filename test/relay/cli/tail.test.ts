import { after, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { makeFilter, nodeOf } from "../../../relay/cli/filter.js";
import { MAX_LINE_BYTES, readTail } from "../../../relay/cli/tail.js";
import { spoolLine } from "../../../relay/cli/spool-append.js";
import { splitLine, terminalSafe } from "../../../relay/cli/render.js";

const dir = tempDir("bustle-cli-tail-");
after(() => dir.remove());

/** What a naive reader would say: every complete line, the unfinished last one left out. */
function naive(content: string, n: number, keep?: (l: Buffer) => boolean) {
  const cut = content.lastIndexOf("\n") + 1;
  const all = content
    .slice(0, cut)
    .split("\n")
    .slice(0, -1)
    .map((l) => Buffer.from(l))
    .filter((l) => !keep || keep(l));
  return {
    lines: n === 0 ? [] : all.slice(-n).map((b) => b.toString()),
    end: Buffer.byteLength(content.slice(0, cut)),
  };
}

function tailOf(content: string, n: number, chunk: number, keep?: (l: Buffer) => boolean) {
  const file = join(dir.path, "t.log");
  writeFileSync(file, content);
  const fd = openSync(file, "r");
  try {
    const r = readTail(fd, Buffer.byteLength(content), n, keep, chunk);
    return { lines: r.lines.map((b) => b.toString()), end: r.end };
  } finally {
    closeSync(fd);
  }
}

test("tail - matches a naive reader across chunk sizes, blank lines, a missing final newline", () => {
  const samples = [
    "",
    "\n",
    "no newline at all",
    "one\n",
    "\n\nblank lines\n\n",
    "a town x\nb club yy\nc town zzz\nhalf a li",
    Array.from({ length: 200 }, (_, i) => `l${i} ${i % 2 ? "club" : "town"} ${"w".repeat(i % 17)}`).join("\n") + "\n",
  ];
  const club = makeFilter({ node: "club" });
  for (const s of samples) {
    for (const chunk of [1, 2, 3, 7, 64, 65536]) {
      for (const n of [0, 1, 2, 5, 1000]) {
        assert.deepEqual(tailOf(s, n, chunk), naive(s, n), `n=${n} chunk=${chunk} ${JSON.stringify(s.slice(0, 30))}`);
        assert.deepEqual(tailOf(s, n, chunk, club), naive(s, n, club), `filtered n=${n} chunk=${chunk}`);
      }
    }
  }
});

test("tail - a line longer than the limit is skipped, the ones around it kept", () => {
  const huge = "h".repeat(MAX_LINE_BYTES + 10);
  const content = `a town one\n${huge}\nb town two\n`;
  assert.deepEqual(tailOf(content, 5, 64 * 1024).lines, ["a town one", "b town two"]);
  assert.deepEqual(tailOf(`${huge}\nc town three\n`, 5, 4096).lines, ["c town three"]);
});

test("tail - filters read the node field exactly and grep in any case", () => {
  assert.equal(nodeOf(Buffer.from("2026 town ~a hi")), "town");
  assert.equal(nodeOf(Buffer.from("nospace")), undefined);
  const f = makeFilter({ node: "Town", grep: "HeLLo" })!;
  assert.equal(f(Buffer.from("t town say hello")), true);
  assert.equal(f(Buffer.from("t towns say hello")), false);
  assert.equal(f(Buffer.from("t club town hello")), false);
  assert.equal(f(Buffer.from("t town bye")), false);
  assert.equal(makeFilter({}), undefined);
});

test("cli - spool lines and terminal-safe rendering", () => {
  assert.equal(spoolLine({ kind: "shout", text: 'a"b', anon: true }), '{"kind":"shout","text":"a\\"b","anon":true}\n');
  assert.equal(
    terminalSafe(Buffer.from("t town \u001b[31mred\u001b[0m \u001b]0;title\u0007bell\rCR")),
    "t town red bellCR",
  );
  assert.equal(
    terminalSafe(Buffer.from("a  b\tc \u009b31mC1\u0000\u202eZ")),
    "a  b\tc C1Z",
    "spacing kept; C1 CSI, NUL and bidi removed",
  );
  assert.deepEqual(splitLine("2026-11-22T05:51:05.123Z town ~alice shouts, 'HI'"), {
    ts: "2026-11-22T05:51:05.123Z",
    node: "town",
    text: "~alice shouts, 'HI'",
  });
});
