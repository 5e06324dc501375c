/**
 * The subject is the truth: a publisher may write anything in a payload, but the server lets it
 * publish only under its own subjects. Every consumer (log writer, bot feed, portal reader)
 * skips, counts and reports a payload that claims another node, source or kind than its subject,
 * and carries on with the honest traffic.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { encodeEvent, makeEvent, subjectOf, type BustleEvent } from "../../cluster/envelope.js";
import { inboxPrefix } from "../../cluster/permissions.js";
import { silentLogger } from "../../cluster/logger.js";
import { startBus, type Bus } from "../support/bus.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { openAuditLog } from "../../relay/audit.js";
import { createLogWriter } from "../../relay/log-writer.js";
import { startFeed } from "../../control/host/feed.js";
import { StreamReader } from "../../bots/web/stream-reader.js";
import { federationPerFile, readLog, SpoolWriter, waitLogs } from "../federation/harness.js";

const forgeries = (): Array<{ subject: string; event: BustleEvent; what: string }> => [
  // Member a, on its own subject, says the shout is b's.
  {
    what: "another node",
    subject: "bustle.ev.a.spool.shout",
    event: makeEvent({ node: "b", source: "spool", kind: "shout", actor: "bob", text: "~bob shouts, 'FORGED NODE'" }),
  },
  // A bot's subject, a payload that claims the node's spool (a local user's line).
  {
    what: "another source",
    subject: "bustle.ev.a.irc-a.shout",
    event: makeEvent({ node: "a", source: "spool", kind: "shout", actor: "bob", text: "~bob shouts, 'FORGED SOURCE'" }),
  },
  {
    what: "another kind",
    subject: "bustle.ev.a.spool.update",
    event: makeEvent({ node: "a", source: "spool", kind: "shout", actor: "bob", text: "~bob shouts, 'FORGED KIND'" }),
  },
];

test.describe("one server, every consumer", () => {
  const tmp = tempDir("bustle-trust-subject-");
  let bus: Bus;
  before(async () => {
    bus = await startBus(tmp.path);
  });
  after(async () => {
    await bus?.close();
    tmp.remove();
  });

  test("subject - the log writer writes none of the forged events, audits and counts each, and moves past them", async () => {
    const js = jetstream(bus.nc);
    const auditPath = join(tmp.path, "audit.log");
    const audit = openAuditLog(auditPath);
    const logPath = join(tmp.path, "bustle.log");
    const writer = createLogWriter({ logPath, stateDir: join(tmp.path, "state"), node: "a", audit, log: silentLogger });
    await writer.start(bus.nc);
    try {
      const honest1 = makeEvent({ node: "a", source: "spool", kind: "update", actor: "alice", text: "~alice before" });
      await js.publish(subjectOf(honest1), encodeEvent(honest1), { msgID: honest1.id });
      for (const f of forgeries()) await js.publish(f.subject, encodeEvent(f.event), { msgID: f.event.id });
      const honest2 = makeEvent({ node: "b", source: "spool", kind: "update", actor: "carol", text: "~carol after" });
      const last = await js.publish(subjectOf(honest2), encodeEvent(honest2), { msgID: honest2.id });
      await waitFor(() => writer.position >= last.seq, 10_000, "the log writer to pass the last event");
      const lines = readFileSync(logPath, "utf8").split("\n").filter(Boolean);
      assert.deepEqual(
        lines.map((l) => l.split(" ").slice(1).join(" ")),
        ["a ~alice before", "b ~carol after"],
      );
      assert.deepEqual({ ...writer.skipped }, { "subject-mismatch": 3, "invalid-event": 0 });
    } finally {
      await writer.stop();
      audit.close();
    }
    const records = readFileSync(auditPath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rejected = records.filter((r) => r.type === "rejected" && r.reason === "subject-mismatch");
    assert.deepEqual(
      rejected.map((r) => r.origin),
      forgeries().map((f) => f.subject),
    );
    assert.match(String(rejected[0]!.error), /claims node "b"/);
  });

  test("subject - a bot's feed and the portal's stream reader skip forged events and still see the honest ones", async () => {
    const js = jetstream(bus.nc);
    const first = (
      await js.publish(
        "bustle.ev.a.spool.update",
        encodeEvent(makeEvent({ node: "a", source: "spool", kind: "update", actor: "alice", text: "~alice marker" })),
      )
    ).seq;
    for (const f of forgeries()) await js.publish(f.subject, encodeEvent(f.event), { msgID: f.event.id });
    const honest = makeEvent({ node: "b", source: "spool", kind: "update", actor: "carol", text: "~carol honest" });
    const last = (await js.publish(subjectOf(honest), encodeEvent(honest), { msgID: honest.id })).seq;

    const got: string[] = [];
    const consumed: number[] = [];
    const feed = await startFeed({
      nc: bus.nc,
      common: { id: "watcher", type: "fake", enabled: true, subscribe: ["bustle.ev.>"], format: "{text}" },
      startSeq: first + 1,
      log: silentLogger,
      onEvent: async (e) => void got.push(e.text),
      onConsumed: (seq) => void consumed.push(seq),
    });
    try {
      await waitFor(() => consumed.includes(last), 10_000, "the feed to consume the last event");
    } finally {
      await feed.stop();
    }
    assert.deepEqual(got, ["~carol honest"]);
    assert.equal(consumed.length, last - first, "the position moves past the forged events too");

    const reader = new StreamReader(bus.nc, () => true, silentLogger);
    const entries = await reader.read(first + 1, last);
    assert.deepEqual(
      entries.map((e) => e.event.text),
      ["~carol honest"],
    );
  });
});

test.describe("a federation: member n1 forges n2's events", () => {
  const fed = federationPerFile("bustle-trust-fed-");
  const conns: NatsConnection[] = [];
  after(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
  });

  test("subject - n1's own credentials publish a payload saying node n2: no log writes it, every node audits it, honest lines flow", async () => {
    const n1 = fed().node("n1");
    const pass = readFileSync(join(n1.dir, "secrets", "relay.password"), "utf8").trim();
    const nc = await connect({
      servers: n1.server.url,
      user: "n1",
      pass,
      inboxPrefix: inboxPrefix("n1"),
      maxReconnectAttempts: 0,
    });
    conns.push(nc);
    const js = jetstream(nc);
    const writers = fed().nodes.map((n) => new SpoolWriter(n.id, n.homes));
    for (const w of writers) w.write(1);
    await waitLogs(fed(), writers.length, 30_000);
    const forged = makeEvent({
      node: "n2",
      source: "spool",
      kind: "shout",
      actor: "bob",
      text: "~bob shouts, 'I AM NOT BOB'",
    });
    // Allowed by the server (n1's own subject), so it is in the stream: the consumers must catch it.
    await js.publish("bustle.ev.n1.spool.shout", encodeEvent(forged), { msgID: forged.id });
    for (const w of writers) w.write(1);
    await waitLogs(fed(), 2 * writers.length, 30_000);
    const logs = fed().nodes.map((n) => readLog(n.log));
    for (const [i, text] of logs.entries()) {
      assert.ok(!text.includes("I AM NOT BOB"), `log of ${fed().nodes[i]!.id} holds no forged line`);
      assert.equal(text.split("\n").filter(Boolean).length, 2 * writers.length, "every honest line, nothing else");
      assert.equal(text, logs[0], "the logs stay byte-identical");
    }
    for (const n of fed().nodes) {
      await waitFor(
        () =>
          readLog(join(n.dir, "audit.log"))
            .split("\n")
            .some((l) => l.includes('"reason":"subject-mismatch"') && l.includes("bustle.ev.n1.spool.shout")),
        10_000,
        `${n.id}'s audit record of the forged event`,
      );
    }
  });
});
