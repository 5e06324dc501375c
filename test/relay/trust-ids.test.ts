/**
 * Event ids nobody can guess. A federation member (here: any client of the shared server, as a
 * member's relay is) publishes junk under the ids alice's next spool lines would get, hoping
 * JetStream drops her real events as duplicates. With keyed ids the predicted ones miss; an id
 * taken anyway (the key leaked) is detected, audit-logged, and alice's event still arrives.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { encodeEvent, makeEvent, stableEventId } from "../../cluster/envelope.js";
import { silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../../relay/local-node.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { idKeyPath } from "../../relay/id-key.js";
import { appendSpool, logLines, makeHome, textOf } from "./support.js";

const dir = tempDir("bustle-trust-ids-");
let server: NatsServer;
let files: RelayFiles;
let relay: RelayProcess;
let member: NatsConnection;
let js: JetStreamClient;

before(async () => {
  server = await startServer(dir.path);
  files = writeRelayConfig(join(dir.path, "town"), "town", { servers: [server.url] });
  relay = await new RelayProcess(files).start();
  member = await connectBus({ servers: [server.url], name: "member evil", logger: silentLogger });
  js = jetstream(member);
});
after(async () => {
  await closeBus(member);
  await relay?.stop();
  await server?.stop();
  dir.remove();
});

/** The ids of before: anyone could compute them from node, user, generation and offset. */
const oldPredictableId = (...parts: Array<string | number>) =>
  createHash("sha256").update(parts.join("\u0000")).digest("base64url").slice(0, 27);

/** The member's junk, published under `id` on its own subjects. */
async function squat(id: string, n: number): Promise<void> {
  const junk = makeEvent({ id, node: "evil", source: "spool", kind: "update", actor: "evil", text: `evil junk ${n}` });
  const ack = await js.publish("bustle.ev.evil.spool.update", encodeEvent(junk), { msgID: id });
  assert.equal(ack.duplicate, false, "the junk took the id first");
}

type AuditRecord = Record<string, unknown>;
const audit = (): AuditRecord[] =>
  existsSync(files.audit)
    ? readFileSync(files.audit, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditRecord)
    : [];
const collisions = () => audit().filter((r) => r.what === "id-collision");

const logTexts = () => logLines(files.log).map(textOf);

test("trust ids - junk pre-published under alice's predictable ids no longer removes her events", async () => {
  const lines = ["first of three", "second of three", "third of three"];
  let offset = 0;
  for (const [i, l] of lines.entries()) {
    // Her new spool is read from its start: generation 0, each line at its byte offset.
    await squat(oldPredictableId("town", "alice", 0, offset), i);
    offset += Buffer.byteLength(l) + 1;
  }
  makeHome(files.homes, "alice");
  appendSpool(files.homes, "alice", lines);
  await waitFor(
    () => lines.every((l) => logTexts().includes(`~alice ${l}`)),
    15_000,
    "all of alice's lines in bustle.log",
  );
  assert.equal(collisions().length, 0, "the keyed ids never met the junk");
});

test("trust ids - an id taken anyway is audit-logged as a collision and the event is re-sent under a new id", async () => {
  // The attacker somehow has the node's key (the worst case): bob's first line's id is taken.
  const key = Buffer.from(readFileSync(idKeyPath(files.state), "utf8").trim(), "hex");
  const taken = stableEventId(key, "town", "bob", 0, 0);
  await squat(taken, 99);
  makeHome(files.homes, "bob");
  appendSpool(files.homes, "bob", ["made it anyway", "and once more"]);
  await waitFor(
    () => logTexts().includes("~bob made it anyway") && logTexts().includes("~bob and once more"),
    15_000,
    "bob's lines in bustle.log",
  );
  const c = collisions();
  assert.equal(c.length, 1, JSON.stringify(c));
  assert.equal(c[0]!.id, taken);
  assert.equal(c[0]!.stored_subject, "bustle.ev.evil.spool.update");
  assert.equal(c[0]!.actor, "bob");
  assert.match(String(c[0]!.resent_as), /^[A-Za-z0-9_-]{27}$/);
  assert.match(readFileSync(files.daemonLog, "utf8"), /event id collision/);
  assert.equal(logTexts().filter((t) => t === "~bob made it anyway").length, 1, "once, not twice");
});

test("trust ids - a copy of our own event already in the stream (a retry after a crash) is not a collision", async () => {
  // What a run of this relay that died before saving its spool offsets left behind: dave's line,
  // published under its id, with the time of that earlier run.
  const key = Buffer.from(readFileSync(idKeyPath(files.state), "utf8").trim(), "hex");
  const id = stableEventId(key, "town", "dave", 0, 0);
  const earlier = makeEvent({
    id,
    ts: new Date(Date.now() - 60_000),
    node: "town",
    source: "spool",
    kind: "update",
    actor: "dave",
    text: "~dave retry me",
  });
  await js.publish("bustle.ev.town.spool.update", encodeEvent(earlier), { msgID: id });
  makeHome(files.homes, "dave");
  appendSpool(files.homes, "dave", ["retry me", "and then this"]);
  await waitFor(() => logTexts().includes("~dave and then this"), 15_000, "dave's second line");
  assert.equal(logTexts().filter((t) => t === "~dave retry me").length, 1, "the re-read line is written once");
  assert.equal(collisions().length, 1, "still only bob's collision");
});
