/**
 * Power loss, by simulation: files left empty or torn as a crash between write and rename (on a
 * filesystem that had not yet written their data) would leave them. The writers say so and
 * recover without doubling or losing a line: bustle.log's position from the log's own last line
 * found in the stream, the spool offsets from their previous version, the outbox journal from
 * its whole records.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { encodeEvent, makeEvent, subjectOf, type BustleEvent } from "../../../cluster/envelope.js";
import { createLogger, silentLogger } from "../../../cluster/logger.js";
import { startBus, type Bus } from "../../support/bus.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { memoryAudit } from "../../../relay/audit.js";
import { LOG_POSITION_FILE } from "../../../relay/log-position.js";
import { createLogWriter } from "../../../relay/log-writer.js";
import { openOutbox } from "../../../relay/outbox.js";
import { loadOffsets, OffsetsWriter, OFFSETS_FILE, type SpoolPosition } from "../../../relay/spool/offsets-store.js";
import { logLines, textOf } from "../support.js";
import { recordingLogger } from "./small-fs.js";

const dir = tempDir("bustle-power-");
let bus: Bus | undefined;
after(async () => {
  await bus?.close();
  dir.remove();
});

const ev = (n: number, run: string): BustleEvent =>
  makeEvent({
    node: "town",
    source: "spool",
    kind: "update",
    actor: "alice",
    text: `~alice ${run} line ${n}`,
    id: `power-${run}-${n}`,
  });

for (const [name, damage] of [
  ["an empty", ""],
  ["a torn", '{"seq":4'],
] as const) {
  test(`power loss - ${name} log position file: the writer finds the log's last line in the stream and doubles nothing`, async (t) => {
    bus ??= await startBus(dir.path, "power");
    const js = jetstream(bus.nc);
    const run = `run-${name.split(" ")[1]}`;
    const publish = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const e = ev(i, run);
        await js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id });
      }
    };
    const state = join(dir.path, run);
    const logPath = join(state, "bustle.log");
    const first = createLogWriter({ logPath, stateDir: state, node: "town", audit: memoryAudit(), log: silentLogger });
    await first.start(bus.nc);
    const mine = () =>
      logLines(logPath)
        .map(textOf)
        .filter((l) => l.includes(run));
    await publish(0, 100);
    await waitFor(() => mine().length >= 100, 10_000, "100 events logged");
    await first.stop();
    await publish(100, 150); // while the writer is down

    // The crash: the position file's data never reached the disk, and the log's last write was torn.
    writeFileSync(join(state, LOG_POSITION_FILE), damage);
    appendFileSync(logPath, `2026-12-01T00:00:00.000Z town ~alice ${run} li`);

    const rec = recordingLogger();
    const audit = memoryAudit();
    const second = createLogWriter({
      logPath,
      stateDir: state,
      node: "town",
      audit,
      log: createLogger({ write: rec.write }),
    });
    t.after(() => second.stop());
    await second.start(bus.nc);
    const last = (await (await js.streams.get("BUSTLE")).info()).state.last_seq;
    await waitFor(() => second.position >= last, 15_000, "the writer at the stream's end");
    const texts = mine();
    assert.deepEqual(
      texts,
      Array.from({ length: 150 }, (_, i) => `~alice ${run} line ${i}`),
      "every line once, in order, the torn one gone",
    );
    assert.ok(readFileSync(logPath, "utf8").endsWith("\n"));
    assert.ok(
      rec.lines.some((l) => String(l.msg).includes("is damaged")),
      "the damage is said clearly",
    );
    assert.ok(
      audit.records.some((r) => r.what === "log position recovered"),
      "and audited",
    );
  });
}

test("power loss - an empty spool offsets file: the previous version is used, not a first start", async () => {
  const state = join(dir.path, "offsets");
  const positions = new Map<string, SpoolPosition>([
    ["alice", { dev: 1, ino: 2, tail: "t", generation: 3, offset: 100 }],
  ]);
  const writer = new OffsetsWriter(state, () => positions);
  await writer.save();
  positions.set("alice", { dev: 1, ino: 2, tail: "u", generation: 3, offset: 200 });
  await new Promise((r) => setTimeout(r, 150)); // past the writer's minimum interval
  await writer.save();
  writeFileSync(join(state, OFFSETS_FILE), ""); // the newest write's data was lost
  const loaded = loadOffsets(state);
  assert.equal(loaded.kind, "loaded");
  if (loaded.kind !== "loaded") return;
  assert.ok(loaded.recovered, "reported as recovered");
  assert.match(loaded.recovered!.error, /empty/);
  assert.deepEqual(
    loaded.positions.get("alice"),
    { dev: 1, ino: 2, tail: "t", generation: 3, offset: 100 },
    "the previous offsets: those lines are read again with the same ids",
  );
});

test("power loss - a torn last journal record: the whole records before it stay pending, the journal is whole again", async () => {
  const state = join(dir.path, "outbox");
  const a = await openOutbox(state, silentLogger);
  await a.submit([ev(1, "journal"), ev(2, "journal")]);
  await a.close();
  const file = join(state, "outbox.jsonl");
  const whole = readFileSync(file, "utf8");
  writeFileSync(file, whole + whole.split("\n")[0]!.slice(0, 40)); // a third record cut short
  const b = await openOutbox(state, silentLogger);
  assert.deepEqual(
    b.pending().map((e) => e.id),
    ["power-journal-1", "power-journal-2"],
  );
  await b.submit([ev(3, "journal")]);
  await b.close();
  const ids = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { e: BustleEvent }).e.id);
  assert.deepEqual(
    ids,
    ["power-journal-1", "power-journal-2", "power-journal-3"],
    "the new record does not merge with the torn one",
  );
});
