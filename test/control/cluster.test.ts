import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectBus, closeBus, type NatsConnection } from "../../cluster/connection.js";
import { ensureStream } from "../../cluster/stream.js";
import { silentLogger } from "../../cluster/logger.js";
import { startCluster, type TestCluster } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { sleep, waitFor } from "../../cluster/wait-for.js";
import type { BotStatus } from "../../control/bot-runner.js";
import {
  cli,
  controlYaml,
  waitFeeding,
  pidAlive,
  publish,
  record,
  recorderBot,
  startControl,
  starts,
  stopControl,
  writeRecorder,
  type ControlProcess,
} from "./harness.js";

// Three nats-servers in one cluster, and three control servers (nodes n1, n2, n3) with the same
// bots, each connected to its own server. The lease settings are the defaults (TTL 9 s, grace 1 s).
const dir = tempDir("bustle-control-cluster-");
const d = dir.path;
const BOTS = ["alpha", "beta", "gamma"];
let cluster: TestCluster;
let nc: NatsConnection;
const controls = new Map<string, ControlProcess>();

function configFor(node: string, i: number): string {
  const file = join(d, `control-${node}.yaml`);
  const urls = [cluster.urls[i]!, ...cluster.urls.filter((_, j) => j !== i)];
  writeFileSync(
    file,
    controlYaml({
      node,
      urls,
      stateDir: join(d, `state-${node}`),
      extra: "supervise: {heartbeat: 1s}\n",
      bots: BOTS.map((b) => recorderBot(d, b)).join(""),
    }),
  );
  return file;
}

before(async () => {
  cluster = await startCluster(join(d, "nats"), 3);
  nc = await connectBus({ servers: cluster.urls, name: "cluster-test", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  writeRecorder(d);
});
after(async () => {
  await Promise.all([...controls.values()].map((c) => stopControl(c)));
  await closeBus(nc);
  await cluster.stopAll();
  dir.remove();
});

const got = (id: string) => record(d, id).filter((l) => l.startsWith("got "));
const doubles = () => BOTS.flatMap((b) => record(d, b).filter((l) => l.startsWith("DOUBLE")));

/** Each text of `texts` reached every bot exactly once. */
function deliveredOnce(texts: string[]): boolean {
  return BOTS.every((b) => texts.every((t) => got(b).filter((l) => l.split(" ")[1] === t).length === 1));
}

test("control cluster - three control servers with the same config run each bot exactly once", async () => {
  ["n1", "n2", "n3"].forEach((n, i) => controls.set(n, startControl(configFor(n, i), join(d, `control-${n}.log`))));
  await waitFor(() => BOTS.every((b) => starts(record(d, b)).length >= 1), 45_000, "every bot to start somewhere");
  await waitFeeding(nc, BOTS);
  const texts = Array.from({ length: 10 }, (_, i) => `three-${i}`);
  for (const t of texts) await publish(nc, t);
  await waitFor(() => deliveredOnce(texts), 20_000, "every event at every bot");
  await sleep(3_000); // a second copy, if any, would show up in this time
  assert.deepEqual(doubles(), [], "no bot ever ran twice at once");
  for (const b of BOTS) {
    assert.equal(starts(record(d, b)).length, 1, `${b} started once`);
    assert.ok(deliveredOnce(texts), `${b} got each event once`);
  }
  const r = await cli(["status", "--json", "--config", join(d, "control-n1.yaml")]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as BotStatus[];
  assert.deepEqual(
    list.map((b) => [b.id, b.state]).sort(),
    BOTS.map((b) => [b, "running"]),
  );
  for (const b of list)
    assert.equal(
      b.node,
      record(d, b.id)
        .find((l) => l.startsWith("start "))!
        .split(" ")[1],
      `status names ${b.id}'s node`,
    );
});

test("control cluster - kill -9 of the control server holding a bot moves the bot within 15 s", async () => {
  const [, node, pid] = starts(record(d, "alpha"))[0]!.split(" ");
  const holder = controls.get(node!)!;
  const movingBots = BOTS.filter((b) => starts(record(d, b))[0]!.split(" ")[1] === node);
  const t0 = Date.now();
  holder.proc.kill("SIGKILL");
  await holder.exited;
  controls.delete(node!);
  await waitFor(
    () => movingBots.every((b) => starts(record(d, b)).length === 2),
    15_000,
    `${movingBots.join(", ")} to start on another node`,
  );
  const took = Date.now() - t0;
  assert.ok(took < 15_000, `moved in ${took} ms`);
  assert.ok(!pidAlive(Number(pid)), "the old copy of the program is gone");
  for (const b of movingBots)
    assert.notEqual(starts(record(d, b))[1]!.split(" ")[1], node, `${b} runs on another node now`);
  // Two control servers left: every bot still runs exactly once.
  const texts = Array.from({ length: 5 }, (_, i) => `two-${i}`);
  for (const t of texts) await publish(nc, t);
  await waitFor(() => deliveredOnce(texts), 20_000, "every event at every bot after the move");
  await sleep(2_000);
  assert.deepEqual(doubles(), []);
  for (const b of BOTS) assert.equal(starts(record(d, b)).length, movingBots.includes(b) ? 2 : 1, `${b} start count`);
  process.stderr.write(`# bot moved after kill -9 in ${took} ms\n`);
});

test("control cluster - a hung control server (SIGSTOP) loses its bots before they start elsewhere", async () => {
  const lastStart = (b: string) => starts(record(d, b)).at(-1)!.split(" ");
  const [, node, pid] = lastStart("beta");
  const hung = controls.get(node!)!;
  const moving = BOTS.filter((b) => lastStart(b)[1] === node);
  const before = new Map(moving.map((b) => [b, starts(record(d, b)).length]));
  hung.proc.kill("SIGSTOP");
  try {
    await waitFor(
      () => moving.every((b) => starts(record(d, b)).length === before.get(b)! + 1),
      20_000,
      `${moving.join(", ")} to start elsewhere`,
    );
    assert.ok(!pidAlive(Number(pid)), "the hung server's bot program killed itself when the lease ran out");
    assert.deepEqual(doubles(), []);
  } finally {
    hung.proc.kill("SIGCONT");
  }
  await sleep(3_000); // the resumed server finds its leases gone and must not start second copies
  assert.deepEqual(doubles(), []);
  for (const b of moving) assert.equal(starts(record(d, b)).length, before.get(b)! + 1, `${b} not started again`);
  assert.ok(/lease lost/.test(hung.log()), "the resumed server noticed");
});

test("control cluster - a pinned bot runs only on its node", async () => {
  const alive = [...controls.keys()].sort();
  const pinTo = alive[1]!;
  for (const [n, c] of controls) {
    const i = Number(n.slice(1)) - 1;
    const file = configFor(n, i);
    writeFileSync(
      file,
      controlYaml({
        node: n,
        urls: [cluster.urls[i]!],
        stateDir: join(d, `state-${n}`),
        extra: "supervise: {heartbeat: 1s}\n",
        bots: BOTS.map((b) => recorderBot(d, b, b === "gamma" ? `    placement: {node: ${pinTo}}\n` : "")).join(""),
      }),
    );
    c.proc.kill("SIGHUP");
  }
  await waitFor(
    () => {
      const last = starts(record(d, "gamma")).at(-1)!;
      return last.split(" ")[1] === pinTo && pidAlive(Number(last.split(" ")[2]));
    },
    30_000,
    `gamma to run on ${pinTo}`,
  );
  await sleep(2_000);
  assert.deepEqual(doubles(), []);
});
