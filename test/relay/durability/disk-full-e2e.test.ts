/**
 * Disk full, end to end: a real bustled whose log, audit log and state dir live on a small tmpfs
 * the test mounts. Four users write 4,000 spool lines; half-way a ballast file fills the
 * filesystem. bustled stays up and says so, `bustle status` shows the fault, the ballast goes,
 * and in the end every line is in bustle.log exactly once, in each user's order, none torn.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsServer } from "../../../cluster/nats-server.js";
import { RelayProcess, writeRelayConfig } from "../../../relay/local-node.js";
import { startServer } from "../../../cluster/servers.js";
import { tempDir } from "../../../cluster/temp.js";
import { sleep, waitFor } from "../../../cluster/wait-for.js";
import { cliEnv, runBustle } from "../cli/bustle-process.js";
import { appendSpool, logLines, makeHome, textOf } from "../support.js";
import { mountSmallFs, type SmallFs } from "./small-fs.js";

const USERS = ["alice", "bob", "carol", "dave"];
const PER_USER = 1_000;
const dir = tempDir("bustle-diskfull-");
let server: NatsServer | undefined;
let small: SmallFs | undefined;
after(async () => {
  await server?.stop();
  small?.remove();
  if (!process.env.BUSTLE_KEEP_TEST_DIRS) dir.remove();
});

test("disk full - bustled stays up, says so, shows it in status, and loses, doubles and tears nothing", async (t) => {
  const m = mountSmallFs(6 * 1024 * 1024);
  if ("skip" in m) return t.skip(m.skip);
  small = m;
  server = await startServer(dir.path, "n1");
  const onDisk = { log: join(m.path, "bustle.log"), audit: join(m.path, "audit.log"), state: join(m.path, "state") };
  mkdirSync(onDisk.state);
  const base = writeRelayConfig(
    join(dir.path, "node"),
    "town",
    { servers: [server.url] },
    {
      log: { path: onDisk.log, audit: onDisk.audit },
      state: { dir: onDisk.state },
    },
  );
  const files = { ...base, ...onDisk };
  for (const u of USERS) makeHome(files.homes, u);
  const relay = await new RelayProcess(files).start();
  t.after(() => relay.stop());

  const write = async (from: number, to: number) => {
    for (let n = from; n < to; n += 25) {
      for (const u of USERS)
        appendSpool(
          files.homes,
          u,
          Array.from({ length: 25 }, (_, i) => `line ${n + i}`),
        );
      await sleep(10);
    }
  };
  await write(0, 400);
  await waitFor(() => logLines(files.log).length >= 400, 30_000, "the first lines in bustle.log");

  m.fill();
  const statusFault = async () => {
    const r = await runBustle(["status", "--config", files.config, "--json"], cliEnv(dir.path));
    return r.code === 0
      ? (JSON.parse(r.stdout.toString()) as { diskFault: { path: string; code: string } | null }).diskFault
      : null;
  };
  try {
    await write(400, PER_USER); // the rest arrives while the disk is full
    const fault = await waitFor(statusFault, 30_000, "bustle status to show the disk fault");
    assert.ok(fault.path.startsWith(m.path), `the fault names a path on the full filesystem (${fault.path})`);
    const human = await runBustle(["status", "--config", files.config], cliEnv(dir.path));
    assert.match(human.stdout.toString(), /disk\s+FAULT since .*cannot write/, "the human report shows it too");
    await sleep(2_000); // retries under the fault
    assert.ok(relay.running, "bustled stays up");
    const said = readFileSync(files.daemonLog, "utf8")
      .split("\n")
      .filter((l) => l.includes("DISK FAULT"));
    assert.ok(said.length >= 1 && said.length <= 5, `said once per path, not per retry (${said.length})`);
    // A retry's short write is cut back to the last whole line at once; a read may land between the
    // two (a reader waits on a half line), so the log is checked to be whole again, not at one instant.
    await waitFor(
      () => readFileSync(files.log, "utf8").endsWith("\n"),
      5_000,
      "no torn line while the disk is full (a short write cut back)",
    );
  } finally {
    m.free();
  }

  await waitFor(
    () => logLines(files.log).length >= USERS.length * PER_USER,
    120_000,
    "every line in bustle.log after space returned",
  );
  await waitFor(async () => (await statusFault()) === null, 30_000, "bustle status to show the fault is over");
  await sleep(500); // a straggling duplicate would land now
  const text = readFileSync(files.log, "utf8");
  assert.ok(text.endsWith("\n"));
  const lines = logLines(files.log);
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT[\d:.]+Z town ~[a-z]+ line \d+$/, "every line whole");
  assert.equal(lines.length, USERS.length * PER_USER, "no duplicates");
  for (const u of USERS) {
    const mine = lines.map(textOf).filter((x) => x.startsWith(`~${u} `));
    assert.deepEqual(
      mine,
      Array.from({ length: PER_USER }, (_, i) => `~${u} line ${i}`),
      `${u}'s lines once each, in order`,
    );
  }
  assert.ok(relay.running);
});
