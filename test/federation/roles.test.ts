/**
 * Roles on a real 3-server federation with running relays: a member's relay and control
 * credentials cannot change, purge or delete the shared stream or the KV buckets (the server
 * refuses, nothing changes, events keep flowing); the admin credential init wrote can.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/transport-node";
import { join } from "node:path";
import { createLogger } from "../../cluster/logger.js";
import { STREAM_NAME } from "../../cluster/names.js";
import { ensureStream } from "../../cluster/stream.js";
import { waitFor } from "../../cluster/wait-for.js";
import {
  connectAs,
  countLines,
  federationPerFile,
  SpoolWriter,
  waitLogs,
  waitRelaysConnected,
  type RoleConnection,
} from "./harness.js";
import { BUSTLE_CLUSTER, runCliSync } from "../support/cli.js";

const fed = federationPerFile("bustle-fed-roles-");
const open: RoleConnection[] = [];
after(async () => {
  await Promise.all(open.map((c) => c.nc.close().catch(() => {})));
});

async function as(who: string, role: "relay" | "control" | "admin"): Promise<RoleConnection> {
  const c = await connectAs(fed(), who, role);
  open.push(c);
  return c;
}

const limits = (c: StreamConfig) => ({
  max_age: c.max_age,
  max_bytes: c.max_bytes,
  max_msgs: c.max_msgs,
  duplicate_window: c.duplicate_window,
  num_replicas: c.num_replicas,
  sealed: c.sealed ?? false,
});

/** Every node's log grows by one line per writer: the federation still carries honest events. */
async function eventsStillFlow(writers: SpoolWriter[]): Promise<void> {
  const before = countLines(fed().nodes[0]!.log);
  for (const w of writers) w.write(1);
  await waitLogs(fed(), before + writers.length, 30_000);
}

test("roles - a member cannot update, seal, purge or delete the stream; its limits stay and events keep flowing", async () => {
  const f = fed();
  const writers = f.nodes.map((n) => new SpoolWriter(n.id, n.homes));
  await eventsStillFlow(writers);
  const admin = await as("admin", "admin");
  const ajsm = await jetstreamManager(admin.nc);
  const was = (await ajsm.streams.info(STREAM_NAME)).config;
  const msgs = (await ajsm.streams.info(STREAM_NAME)).state.messages;

  const mallory = await as("n2", "relay");
  const jsm = await jetstreamManager(mallory.nc, { timeout: 2_000 });
  await assert.rejects(jsm.streams.update(STREAM_NAME, { ...was, max_age: nanos(60_000) }));
  await assert.rejects(jsm.streams.update(STREAM_NAME, { ...was, sealed: true } as never));
  await assert.rejects(jsm.streams.purge(STREAM_NAME));
  await assert.rejects(jsm.streams.deleteMessage(STREAM_NAME, 1));
  await assert.rejects(jsm.streams.delete(STREAM_NAME));
  await waitFor(
    () =>
      ["UPDATE", "PURGE", "MSG.DELETE", "DELETE"].every((op) =>
        mallory.refused.includes(`$JS.API.STREAM.${op}.${STREAM_NAME}`),
      ),
    5_000,
    `the server to refuse every operation (refused: ${mallory.refused.join(" ")})`,
  );

  const now = await ajsm.streams.info(STREAM_NAME);
  assert.deepEqual(limits(now.config), limits(was));
  assert.ok(now.state.messages >= msgs, "nothing was purged");
  await eventsStillFlow(writers);
});

test("roles - ensureStream with other limits reports the difference and changes nothing", async () => {
  const warnings: string[] = [];
  const log = createLogger({ write: (line) => void (JSON.parse(line).level === "warn" && warnings.push(line)) });
  const member = await as("n3", "relay");
  const jsm = await ensureStream(member.nc, { maxAgeMs: 60_000, maxBytes: 1024 }, log, 10_000);
  const cfg = (await jsm.streams.info(STREAM_NAME)).config;
  assert.equal(cfg.max_age, nanos(30 * 86_400_000));
  assert.equal(cfg.max_bytes, 1024 ** 3);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0]!, /limits differ/);
  assert.match(warnings[0]!, /"max_age":\{"stream":2592000000000000,"wanted":60000000000\}/);
  assert.deepEqual(member.refused, []);
});

test("roles - a control credential cannot purge, change or delete the KV buckets", async () => {
  const ctl = await as("n1", "control");
  const kvm = new Kvm(ctl.nc);
  // Creating the buckets when they are absent is allowed (a control server does it at start).
  const leases = await kvm.create("bustle-leases", { history: 1, replicas: 3, ttl: 30_000 });
  await kvm.create("bustle-bots", { history: 1, replicas: 3 });
  const jsm = await jetstreamManager(ctl.nc, { timeout: 2_000 });
  const was = (await jsm.streams.info("KV_bustle-leases")).config;
  await assert.rejects(jsm.streams.purge("KV_bustle-leases"));
  await assert.rejects(jsm.streams.purge("KV_bustle-bots"));
  await assert.rejects(jsm.streams.update("KV_bustle-leases", { ...was, max_age: nanos(3_600_000) }));
  await assert.rejects(jsm.streams.delete("KV_bustle-bots"));
  // Nor write a key of a bot nobody granted it (this federation grants none).
  await assert.rejects(leases.put("irc-town", "mallory", { timeout: 2_000 } as never));
  await waitFor(
    () =>
      ["PURGE.KV_bustle-leases", "PURGE.KV_bustle-bots", "UPDATE.KV_bustle-leases", "DELETE.KV_bustle-bots"].every(
        (s) => ctl.refused.includes(`$JS.API.STREAM.${s}`),
      ) && ctl.refused.includes("$KV.bustle-leases.irc-town"),
    5_000,
    `the refusals (refused: ${ctl.refused.join(" ")})`,
  );
  assert.equal(await leases.get("irc-town"), null);
  assert.equal((await jsm.streams.info("KV_bustle-leases")).config.max_age, was.max_age);
});

test("roles - the admin credential administers the stream and the buckets", async () => {
  const admin = await as("admin", "admin");
  const jsm = await jetstreamManager(admin.nc);
  const was = (await jsm.streams.info(STREAM_NAME)).config;
  // As an operator does it: bustle-cluster stream with the admin.yaml init wrote.
  const admin_yaml = join(fed().adminDir, "admin.yaml");
  const set = runCliSync(BUSTLE_CLUSTER, ["stream", "--admin", admin_yaml, "--max-bytes", "2GiB", "--json"]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(JSON.parse(set.stdout).maxBytes, 2 * 1024 ** 3);
  assert.equal((await jsm.streams.info(STREAM_NAME)).config.max_bytes, 2 * 1024 ** 3);
  assert.equal((await jsm.streams.info(STREAM_NAME)).config.max_age, was.max_age, "the other limits are kept");
  await jsm.streams.update(STREAM_NAME, was);
  const show = runCliSync(BUSTLE_CLUSTER, ["stream", "--admin", admin_yaml]);
  assert.match(
    show.stdout,
    /^stream BUSTLE: max age 720h, max bytes 1073741824, duplicate window 6h, R3$/m,
    show.stderr,
  );
  const kv = await new Kvm(admin.nc).open("bustle-leases");
  await kv.put("some-bot", "x");
  const purged = await jsm.streams.purge("KV_bustle-leases");
  assert.ok(purged.success);
  assert.equal(await kv.get("some-bot"), null);
  assert.deepEqual(admin.refused, []);
  await eventsStillFlow(fed().nodes.map((n) => new SpoolWriter(n.id, n.homes)));
});

test("roles - re-running init with a new bot grant applies on reload, to connections already open; new hashes drop nobody", async () => {
  const ctl = await as("n3", "control");
  const leases = await new Kvm(ctl.nc).open("bustle-leases");
  await assert.rejects(leases.put("late-bot", "n3"), "not granted yet");
  fed().replan({ bots: [{ id: "late-bot", nodes: ["n3"] }] });
  // A reload briefly restarts the account's JetStream ("no responders" for a moment): wait until the
  // write and a read both succeed, as a control server retrying would.
  const granted = async () => {
    await leases.put("late-bot", "n3");
    return (await leases.get("late-bot"))?.string() === "n3";
  };
  await waitFor(() => granted().catch(() => false), 20_000, "the grant to apply after the servers' reload");
  assert.equal(ctl.nc.isClosed(), false);
  await waitRelaysConnected(fed(), 10_000);
  await eventsStillFlow(fed().nodes.map((n) => new SpoolWriter(n.id, n.homes, "carol")));
});
