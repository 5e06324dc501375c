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
