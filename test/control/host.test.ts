/**
 * The bot host in this process (createHost with plain functions for the IPC channel and the
 * process exit), against a real nats-server, running the test-only `fake` bot type.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { silentLogger } from "../../cluster/logger.js";
import { BOTS_BUCKET, positionKey } from "../../cluster/names.js";
import { bin } from "../support/paths.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import type { CommonBotConfig } from "../../bots/bot.js";
import { openBuckets } from "../../control/buckets.js";
import { BotProcess } from "../../control/bot-process.js";
import { createHost, type BotHost } from "../../control/host/host.js";
import type { FromHost, HostInit } from "../../control/host/protocol.js";
import { publishEvent, startBus, type Bus } from "../bots/web/support.js";
import { runCliSync } from "../support/cli.js";

const dir = tempDir("bustle-host-");
let bus: Bus;

before(async () => {
  bus = await startBus(dir.path);
  await openBuckets(bus.nc, 10_000, silentLogger);
});
after(async () => {
  await bus?.close();
  dir.remove();
});

/** A host as the program wires it, with what it sends and the exit codes it asks for kept. */
function hostFor(id: string, section: unknown, overrides: Partial<HostInit> = {}) {
  const sent: FromHost[] = [];
  const exits: number[] = [];
  const host: BotHost = createHost({
    send: (m) => void sent.push(m),
    exit: (code) => void exits.push(code),
    log: silentLogger,
  });
  const common: CommonBotConfig = { id, type: "fake", enabled: true, subscribe: ["bustle.ev.>"], format: "{text}" };
  const init: HostInit = {
    t: "init",
    node: "town",
    common,
    section,
    bus: { servers: [bus.server.url] },
    stateDir: join(dir.path, "state", id),
    registryModule: bin("test/support/bot-registry.js"),
    halted: false,
    heartbeatMs: 100,
    leaseUntil: Date.now() + 60_000,
    ...overrides,
  };
  const feeding = () => sent.some((m) => m.t === "heartbeat" && m.feeding);
  /** The host's last consumed sequence once it has reached `seq` (heartbeats carry it). */
  const consumed = (seq: number) =>
    waitFor(() => sent.some((m) => m.t === "heartbeat" && m.seq >= seq), 10_000, `${id} consumed up to ${seq}`);
  return { host, init, sent, exits, feeding, consumed };
}

const record = (id: string) => join(dir.path, `${id}.txt`);
/** What the fake bot recorded, without the pid each line ends with. */
const recorded = (id: string) =>
  existsSync(record(id))
    ? readFileSync(record(id), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/ \d+$/, ""))
    : [];

test("bot host - starts the bot, feeds it new events, skips while halted, and stops with its position saved", async () => {
  const h = hostFor("hosted", { record: record("hosted") });
  await publishEvent(bus.nc, { text: "before the bot ever ran" });
  await h.host.start(h.init);
  assert.deepEqual(
    h.sent.find((m) => m.t === "ready"),
    { t: "ready", seq: 0 },
  );
  await waitFor(h.feeding, 10_000, "the feed to start");

  await publishEvent(bus.nc, { text: "one" });
  await waitFor(() => recorded("hosted").includes("got one"), 10_000, "the bot to get 'one'");

  h.host.receive({ t: "halt" });
  assert.deepEqual(h.sent.at(-1), { t: "halted", halted: true });
  const skipped = await publishEvent(bus.nc, { text: "while halted" });
  await h.consumed(skipped.seq);
  h.host.receive({ t: "resume" });
  const two = await publishEvent(bus.nc, { text: "two" });
  await waitFor(() => recorded("hosted").includes("got two"), 10_000, "the bot to get 'two'");
  await h.consumed(two.seq);

  h.host.receive({ t: "stop" });
  await waitFor(() => h.exits.length > 0, 10_000, "the host to stop");
  assert.deepEqual(h.exits, [0]);
  assert.deepEqual(
    recorded("hosted"),
    ["start", "got one", "got two", "stop"],
    "nothing from before it ran, nothing while halted",
  );
  const kv = await new Kvm(bus.nc).open(BOTS_BUCKET);
  assert.equal(((await kv.get(positionKey("hosted")))!.json() as { seq: number }).seq, two.seq);

  // The next host of the same bot resumes right after the saved position.
  const three = await publishEvent(bus.nc, { text: "three" });
  const next = hostFor("hosted", { record: record("hosted") });
  await next.host.start(next.init);
  assert.deepEqual(
    next.sent.find((m) => m.t === "ready"),
    { t: "ready", seq: 0 },
  );
  await waitFor(() => recorded("hosted").includes("got three"), 10_000, "the next host to deliver 'three'");
  await next.consumed(three.seq);
  await next.host.stop(0, 5_000);
  assert.deepEqual(recorded("hosted").slice(4), ["start", "got three", "stop"]);
});

test("bot host - a bad section or an unknown type is one error message and exit 1, no bot started", async () => {
  const bad = hostFor("bad", { record: 7 });
  await bad.host.start(bad.init);
  assert.deepEqual(bad.exits, [1]);
  const error = bad.sent.find((m) => m.t === "error");
  assert.match(error && error.t === "error" ? error.message : "", /^bad config: fake\.record: /);
  assert.ok(!bad.sent.some((m) => m.t === "ready"));

  const unknown = hostFor(
    "unknown",
    {},
    { common: { id: "unknown", type: "carrier-pigeon", enabled: true, subscribe: ["bustle.ev.>"], format: "{text}" } },
  );
  await unknown.host.start(unknown.init);
  assert.deepEqual(unknown.exits, [1]);
  assert.deepEqual(unknown.sent, [{ t: "error", message: 'unknown bot type "carrier-pigeon"' }]);
});

test("bot host - a lease that is not renewed ends the host at once (exit 3); a renewal moves it", async () => {
  const h = hostFor("leased", { record: record("leased") }, { leaseUntil: Date.now() + 60_000 });
  await h.host.start(h.init);
  h.host.receive({ t: "lease", until: Date.now() + 200 });
  await waitFor(() => h.exits.length > 0, 10_000, "the lease to run out");
  assert.deepEqual(h.exits, [3]);
  assert.ok(!recorded("leased").includes("stop"), "not a graceful stop: the bot must not outlive its lease");
  await h.host.stop(0, 5_000); // what process exit would have done to the rest
});

test("bot host - messages it does not know are ignored", async () => {
  const h = hostFor("ignoring", { record: record("ignoring") });
  h.host.receive({ t: "explode" });
  h.host.receive("init");
  h.host.receive(null);
  assert.deepEqual(h.sent, []);
  assert.deepEqual(h.exits, []);
});

test("bot host - the program run by hand says who starts it and exits 2", () => {
  const r = runCliSync("control/bin/bot-host.js", []);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "bustle bot host: this program is started by `bustle-control serve`, not by hand\n");
  assert.equal(r.stdout, "");
});

test("bot host - the program stops its bot and exits 0 on SIGTERM or SIGINT, as on a stop from its server", async (t) => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    await t.test(signal, async () => {
      const id = `signalled-${signal.toLowerCase()}`;
      const { init } = hostFor(id, { record: record(id) });
      const events = { onState: () => {}, onHeartbeat: () => {}, onHalted: () => {} };
      const proc = new BotProcess(bin("control/bin/bot-host.js"), init, 20_000, events, silentLogger);
      await proc.ready;
      process.kill(proc.pid!, signal);
      const exit = await proc.exited;
      assert.deepEqual([exit.code, exit.signal], [0, null]);
      assert.deepEqual(recorded(id), ["start", "stop"]);
    });
  }
});
