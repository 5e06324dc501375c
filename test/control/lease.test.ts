import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kvm, type KV } from "@nats-io/kv";
import { connectBus, closeBus, type NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { sleep, waitFor } from "../../cluster/wait-for.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { Lease } from "../../control/lease.js";

const dir = tempDir("bustle-lease-");
let server: NatsServer;
const conns: NatsConnection[] = [];
const TTL = 3_000;

before(async () => {
  server = await startServer(dir.path);
});
after(async () => {
  await Promise.all(conns.map((c) => closeBus(c)));
  await server.stop();
  dir.remove();
});

async function bucket(): Promise<{ nc: NatsConnection; kv: KV }> {
  const nc = await connectBus({ servers: [server.url], name: "lease-test", logger: silentLogger });
  conns.push(nc);
  return { nc, kv: await new Kvm(nc).create("test-leases", { ttl: TTL, history: 1 }) };
}

/** A lease whose holder periods (acquired → lost) are recorded with times. */
function candidate(kv: KV, name: string, periods: Array<{ who: string; from: number; to?: number }>): Lease {
  let current: { who: string; from: number; to?: number } | undefined;
  return new Lease(
    kv,
    "bot",
    { holder: name, node: name, pid: 1 },
    { ttl: TTL, grace: 200 },
    {
      acquired: () => void periods.push((current = { who: name, from: Date.now() })),
      lost: () => void (current!.to = Date.now()),
    },
    silentLogger,
  );
}

test("lease - one holder at a time; a release hands over at once", async () => {
  const periods: Array<{ who: string; from: number; to?: number }> = [];
  const a = candidate((await bucket()).kv, "a", periods);
  const b = candidate((await bucket()).kv, "b", periods);
  a.start();
  await waitFor(() => a.isHeld, 10_000, "a to hold");
  b.start();
  await sleep(TTL * 1.5); // well past a TTL: a keeps renewing, b keeps failing
  assert.equal(a.isHeld, true);
  assert.equal(b.isHeld, false);
  const t = Date.now();
  await a.release();
  await waitFor(() => b.isHeld, 5_000, "b to take over after the release");
  assert.ok(Date.now() - t < TTL, "a release does not wait for the TTL");
  await b.release();
});

test("lease - a holder that cannot renew gives up before anyone else can start", async () => {
  const periods: Array<{ who: string; from: number; to?: number }> = [];
  const one = await bucket();
  const a = candidate(one.kv, "a", periods);
  const b = candidate((await bucket()).kv, "b", periods);
  a.start();
  await waitFor(() => a.isHeld, 10_000, "a to hold");
  b.start();
  await sleep(500);
  // a's connection goes away (as if its node were cut off): its renewals fail from now on.
  await one.nc.close();
  await waitFor(() => b.isHeld, TTL * 3, "b to take over");
  const [pa, pb] = [periods.find((p) => p.who === "a")!, periods.find((p) => p.who === "b")!];
  assert.ok(pa.to !== undefined, "a noticed it lost the lease");
  assert.ok(pa.to! < pb.from, `a stopped (${pa.to}) before b started (${pb.from})`);
  await a.release();
  await b.release();
});
