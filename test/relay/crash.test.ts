/**
 * Fault tests of one node: kill -9 the relay, and the nats-server, while a user writes 10,000
 * spool lines. Afterwards bustle.log holds every line exactly once, in order.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsServer } from "../../cluster/nats-server.js";
import { RelayProcess, writeRelayConfig } from "../../relay/local-node.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { sleep, waitFor } from "../../cluster/wait-for.js";
import { appendSpool, logLines, makeHome, textOf } from "./support.js";

const TOTAL = 10_000;
// Each test has its own server, so each log holds only its own test's stream.
const dir = tempDir("bustle-crash-");
const servers: NatsServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (!process.env.BUSTLE_KEEP_TEST_DIRS) dir.remove();
});
const freshServer = async (name: string) => {
  const s = await startServer(dir.path, name);
  servers.push(s);
  return s;
};

/** Appends TOTAL numbered lines in small batches over a few seconds, calling `fault` on the way. */
async function writeLines(homes: string, faults: Array<{ at: number; run: () => Promise<void> }>): Promise<void> {
  const batch = 50;
  for (let n = 0; n < TOTAL; n += batch) {
    appendSpool(
      homes,
      "alice",
      Array.from({ length: batch }, (_, i) => `line ${n + i}`),
    );
    for (const f of faults) if (f.at === n) void f.run();
    await sleep(15);
  }
}

function assertExactlyOnceInOrder(log: string): void {
  const texts = logLines(log).map(textOf);
  const expected = Array.from({ length: TOTAL }, (_, i) => `~alice line ${i}`);
  const seen = new Set(texts);
  const missing = expected.filter((t) => !seen.has(t));
  assert.equal(missing.length, 0, `missing lines, e.g. ${missing.slice(0, 3).join(" | ")}`);
  assert.equal(texts.length, TOTAL, `duplicates: ${texts.length - TOTAL}`);
  assert.deepEqual(texts, expected, "lines are in spool order");
}

test("crash - kill -9 of the relay twice during 10,000 lines loses and doubles nothing", async () => {
  const server = await freshServer("n1");
  const files = writeRelayConfig(`${dir.path}/relay-kill`, "town", { servers: [server.url] });
  makeHome(files.homes, "alice");
  const relay = await new RelayProcess(files).start();
  try {
    const crashAndRestart = async () => {
      await relay.kill();
      await sleep(300);
      await relay.start(false);
    };
    await writeLines(files.homes, [
      { at: 2_000, run: crashAndRestart },
      { at: 6_000, run: crashAndRestart },
    ]);
    await waitFor(() => logLines(files.log).length >= TOTAL, 60_000, `${TOTAL} lines in bustle.log`);
    await sleep(500); // a straggling duplicate would land now
    assertExactlyOnceInOrder(files.log);
  } finally {
    await relay.stop();
  }
});

test("crash - kill -9 of the nats-server under the relay: the outbox delivers after it returns", async () => {
  const server = await freshServer("n2");
  const files = writeRelayConfig(`${dir.path}/server-kill`, "town", { servers: [server.url] });
  makeHome(files.homes, "alice");
  const relay = await new RelayProcess(files).start();
  try {
    await writeLines(files.homes, [
      {
        at: 3_000,
        run: async () => {
          await server.kill();
          await sleep(2_000);
          await server.start();
        },
      },
    ]);
    await waitFor(
      () => logLines(files.log).length >= TOTAL,
      90_000,
      `${TOTAL} lines in bustle.log after the server returned`,
    );
    await sleep(500);
    assertExactlyOnceInOrder(files.log);
  } finally {
    await relay.stop();
  }
});
