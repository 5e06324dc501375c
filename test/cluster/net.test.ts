import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../cluster/net.js";

const NET_MODULE = fileURLToPath(new URL("../../cluster/net.js", import.meta.url));

test("freePort - no two live processes draw the same port (test files run two at a time)", async () => {
  const mine = new Set<number>();
  for (let i = 0; i < 300; i++) mine.add(await freePort());
  assert.equal(mine.size, 300, "one process never draws a port twice");
  // 2,000 draws from 12,000 ports beside these 300 would meet one of them about 50 times by chance.
  const script = `const { freePort } = await import(${JSON.stringify(NET_MODULE)});
    const out = []; for (let i = 0; i < 2000; i++) out.push(await freePort());
    console.log(JSON.stringify(out));`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const theirs: number[] = JSON.parse(child.stdout);
  assert.equal(new Set(theirs).size, 2000);
  assert.deepEqual(
    theirs.filter((p) => mine.has(p)),
    [],
    "ports this process holds are never handed to another",
  );
  // The child is gone: its reservations went with it, so its ports can be drawn again.
  const again = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(again.status, 0, again.stderr);
  const overlap = (JSON.parse(again.stdout) as number[]).filter((p) => theirs.includes(p)).length;
  assert.ok(overlap > 0, "a process that exited holds nothing");
});
