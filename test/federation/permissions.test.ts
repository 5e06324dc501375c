import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { LocalFederation } from "../../federation/local.js";
import { ensureStream } from "../../cluster/stream.js";
import { STREAM_NAME } from "../../cluster/names.js";
import { silentLogger } from "../../cluster/logger.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { makeEvent, encodeEvent } from "../../cluster/envelope.js";
import { connectAs } from "./harness.js";

const tmp = tempDir("bustle-fed-perm-");
let fed: LocalFederation;
const conns: NatsConnection[] = [];

async function as(node: string, who: "relay" | "control" = "relay"): Promise<NatsConnection> {
  const { nc } = await connectAs(fed, node, who, node);
  conns.push(nc);
  return nc;
}

before(async () => {
  fed = await LocalFederation.create({ dir: tmp.path, nodes: 3, bots: [{ id: "irc-town", nodes: ["n3"] }] });
  await fed.startServers();
});
after(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => {})));
  await fed?.stop();
  tmp.remove();
});

test("federation - a relay's credentials can keep the stream, publish its own events and follow the stream", async () => {
  const nc = await as("n1");
  await ensureStream(nc, { replicas: 3 }, silentLogger, 30_000);
  const js = jetstream(nc);
  const ev = makeEvent({ node: "n1", source: "spool", kind: "update", actor: "alice", text: "~alice hello" });
  const ack = await js.publish("bustle.ev.n1.spool.update", encodeEvent(ev), { msgID: ev.id });
  assert.equal(ack.stream, STREAM_NAME);
  const consumer = await js.consumers.get(STREAM_NAME, { opt_start_seq: ack.seq });
  const msg = await consumer.next({ expires: 5_000 });
  assert.equal(msg?.seq, ack.seq);
  const info = await (await import("@nats-io/jetstream")).jetstreamManager(nc).then((m) => m.streams.info(STREAM_NAME));
  assert.equal(info.config.num_replicas, 3);
});

test("federation - a node's credentials cannot publish under another node's subjects", async () => {
  const nc = await as("n1");
  const js = jetstream(nc);
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
  })();
  const ev = makeEvent({ node: "n2", source: "spool", kind: "update", actor: "mallory", text: "~mallory forged" });
  await assert.rejects(js.publish("bustle.ev.n2.spool.update", encodeEvent(ev), { msgID: ev.id, timeout: 3_000 }));
  nc.publish("bustle.ev.n2.spool.update", encodeEvent(ev));
  await waitFor(
    () => errors.some((e) => /permissions violation/i.test(e) && e.includes("bustle.ev.n2")),
    5_000,
    "the server's permissions violation",
  );
  // The stream holds none of it, seen by another node.
  const other = await as("n2");
  const m = await jetstream(other)
    .streams.get(STREAM_NAME)
    .then((s) => s.getMessage({ last_by_subj: "bustle.ev.n2.spool.update" }));
  assert.equal(m, null);
});

test("federation - a node cannot read another node's replies", async () => {
  const nc = await as("n1");
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
  })();
  nc.subscribe("_INBOX.n2.>");
  await waitFor(
    () => errors.some((e) => /permissions violation/i.test(e) && e.includes("_INBOX.n2")),
    5_000,
    "the server's refusal",
  );
});

test("federation - a control server's credentials can keep its bot's keys in the KV buckets and answer on bustle.ctl", async () => {
  const { Kvm } = await import("@nats-io/kv");
  const nc = await as("n3", "control");
  const kvm = new Kvm(nc);
  const leases = await kvm.create("bustle-leases", { history: 1, replicas: 3, ttl: 30_000 });
  const bots = await kvm.create("bustle-bots", { history: 1, replicas: 3 });
  const rev = await leases.create("irc-town", "n3");
  await leases.update("irc-town", "n3", rev);
  assert.equal((await leases.get("irc-town"))?.string(), "n3");
  await bots.put("pos.irc-town", "42");
  const seen: string[] = [];
  const w = await bots.watch({ key: "pos.>" });
  (async () => {
    for await (const e of w) seen.push(e.key);
  })();
  await waitFor(() => seen.includes("pos.irc-town"), 10_000, "the watch to see the key");
  w.stop();
  await leases.delete("irc-town");
  await (await kvm.open("bustle-leases")).status();
  nc.subscribe("bustle.ctl.status", { callback: (_, m) => void m.respond("ok") });
  const other = await as("n1", "control");
  assert.equal((await other.request("bustle.ctl.status", "", { timeout: 5_000 })).string(), "ok");
  // A relay's credentials do not reach the control subjects or the buckets.
  const relay = await as("n1");
  await assert.rejects(relay.request("bustle.ctl.status", "", { timeout: 2_000 }));
  await assert.rejects(new Kvm(relay).open("bustle-leases").then((kv) => kv.get("irc-town")));
});

test("federation - a node's health report includes every server's routes and the meta leader when given their monitors", async () => {
  const { gatherHealth } = await import("../../relay/health.js");
  const nc = await as("n2");
  const monitors = fed.nodes.map((n) => ({ id: n.id, monitor: `http://127.0.0.1:${n.server.spec.monitorPort}` }));
  const h = await gatherHealth(nc, { monitors });
  assert.equal(h.servers?.length, 3);
  for (const s of h.servers ?? [])
    assert.deepEqual(
      s.routes,
      ["n1", "n2", "n3"].filter((id) => id !== s.id),
    );
  assert.ok(["n1", "n2", "n3"].includes(h.metaLeader ?? ""));
});
