/**
 * The log index beside bustle.log stays exact through kill -9 of the relay while it writes: one
 * record per event line, at the line's offset and length, in stream order, none doubled (the
 * writer cuts records past the log's end before writing again).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { encodeEvent, makeEvent, subjectOf } from "../../cluster/envelope.js";
import { startBus } from "../support/bus.js";
import { RelayProcess, writeRelayConfig } from "../../relay/local-node.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { indexPathOf, parseIndexRecord } from "../../relay/log-index.js";
import { createLogWriter } from "../../relay/log-writer.js";
import { memoryAudit } from "../../relay/audit.js";
import { silentLogger } from "../../cluster/logger.js";
import { logLines } from "./support.js";

const dir = tempDir("bustle-log-index-");
after(() => dir.remove());
const TOTAL = 20_000;

test("log index - exact after kill -9 of the relay in the middle of writing", async () => {
  const bus = await startBus(dir.path);
  const files = writeRelayConfig(`${dir.path}/town`, "town", { servers: [bus.server.url] });
  try {
    const js = jetstream(bus.nc);
    const ids: string[] = [];
    for (let i = 0; i < TOTAL; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, k) => {
          const e = makeEvent({
            node: "club",
            source: "spool",
            kind: k % 2 ? "update" : "shout",
            actor: `u${k % 7}`,
            text: `~u${k % 7} line ${i + k}`,
          });
          ids[i + k] = e.id;
          return js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id });
        }),
      );
    }
    const relay = new RelayProcess(files);
    for (const at of [3_000, 9_000]) {
      await relay.start(false);
      await waitFor(() => logLines(files.log).length >= at, 60_000, `${at} lines written`);
      await relay.kill();
    }
    await relay.start(false);
    await waitFor(() => logLines(files.log).length >= TOTAL, 60_000, `${TOTAL} lines`);
    await relay.stop();

    const log = readFileSync(files.log);
    const records = readFileSync(indexPathOf(files.log), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => parseIndexRecord(l)!);
    assert.equal(records.length, TOTAL, "one record per line");
    let offset = 0;
    for (let i = 0; i < TOTAL; i++) {
      const nl = log.indexOf(0x0a, offset);
      const r = records[i]!;
      assert.deepEqual([r.offset, r.length, r.id], [offset, nl - offset, ids[i]], `record ${i}`);
      offset = nl + 1;
    }
    assert.equal(offset, log.length);
  } finally {
    await bus.close();
  }
});

test("log index - offsets and lengths in bytes, for batches of ASCII lines and of lines with wider characters", async () => {
  const bus = await startBus(`${dir.path}/bytes`);
  const logPath = `${dir.path}/bytes/bustle.log`;
  const writer = createLogWriter({
    logPath,
    stateDir: `${dir.path}/bytes/state`,
    node: "town",
    audit: memoryAudit(),
    log: silentLogger,
  });
  await writer.start(bus.nc);
  try {
    const js = jetstream(bus.nc);
    // Each batch waits for the one before, so ASCII-only batches and wider ones are written apart.
    const batches = [
      ["~ann plain", "~ann plain too"],
      ["~bea café", "~bea 日本語", "~bea 😀 smile", "~bea plain"],
      ["~cid plain again", "~cid end"],
    ];
    let last = 0;
    for (const texts of batches) {
      for (const text of texts) {
        const e = makeEvent({ node: "club", source: "spool", kind: "update", actor: "u", text });
        last = (await js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id })).seq;
      }
      await waitFor(() => writer.position >= last, 10_000, "the batch written");
    }
  } finally {
    await writer.stop();
    await bus.close();
  }
  const log = readFileSync(logPath);
  const records = readFileSync(indexPathOf(logPath), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => parseIndexRecord(l)!);
  assert.equal(records.length, 8);
  let offset = 0;
  for (const r of records) {
    const nl = log.indexOf(0x0a, offset);
    assert.deepEqual([r.offset, r.length], [offset, nl - offset], log.subarray(offset, nl).toString());
    offset = nl + 1;
  }
  assert.equal(offset, log.length);
});
