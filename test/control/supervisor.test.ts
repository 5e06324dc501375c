import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectBus, closeBus, type NatsConnection } from "../../cluster/connection.js";
import { ensureStream } from "../../cluster/stream.js";
import { createLogger, silentLogger } from "../../cluster/logger.js";
import { bin } from "../support/paths.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { registry as testRegistry } from "../support/bot-registry.js";
import { parseControlConfig } from "../../control/config/control-config.js";
import { createControlServer, type ControlServer } from "../../control/server.js";
import { sendCommand } from "../../control/client.js";
import { held, publish } from "./harness.js";

// The control server in this process, with a registry that knows the test-only `fake` type.
const dir = tempDir("bustle-control-sup-");
const d = dir.path;
let server: NatsServer;
let nc: NatsConnection;
let control: ControlServer;
const logs: string[] = [];

const lines = (id: string) =>
  existsSync(join(d, `${id}.txt`))
    ? readFileSync(join(d, `${id}.txt`), "utf8")
        .split("\n")
        .filter(Boolean)
    : [];

before(async () => {
  server = await startServer(d);
  nc = await connectBus({ servers: [server.url], name: "sup-test", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  const yaml = `node: town
nats: {servers: ["${server.url}"]}
state: {dir: ${d}/state}
lease: {ttl: 3s, grace: 100ms}
supervise: {heartbeat: 300ms, backoff: 100ms, give_up_after: 3, fast_crash: 10s}
bots:
  - {id: calm, type: fake, fake: {record: ${d}/calm.txt, report: reconnecting}}
  - {id: crasher, type: fake, fake: {record: ${d}/crasher.txt, crash_after: 200ms}}
  - {id: refuser, type: fake, fake: {record: ${d}/refuser.txt, fail_start: true}}
`;
  const config = parseControlConfig(yaml, "control.yaml", testRegistry);
  control = createControlServer(config, {
    log: createLogger({ write: (l) => void logs.push(l) }),
    reread: () => config,
    registryModule: bin("test/support/bot-registry.js"),
  });
  await control.start();
});
after(async () => {
  await control?.stop();
  await closeBus(nc);
  await server.stop();
  dir.remove();
});

test("supervisor - a bot type from a registry handed to the server runs, and its own reports reach status", async () => {
  await waitFor(async () => (await held(nc)).find((b) => b.id === "calm")?.feeding, 30_000, "calm feeding");
  await publish(nc, "hello fake");
  await waitFor(() => lines("calm").some((l) => l.startsWith("got hello fake")), 10_000, "the event at the fake bot");
  const calm = (await held(nc)).find((b) => b.id === "calm")!;
  assert.equal(calm.bot, "reconnecting");
  assert.equal(calm.detail, "told to by its config");
});

test("supervisor - a bot that crashes on demand is restarted, then given up after repeated fast crashes", async () => {
  await waitFor(
    async () => (await held(nc)).find((b) => b.id === "crasher")?.state === "failed",
    30_000,
    "crasher given up",
  );
  assert.equal(lines("crasher").filter((l) => l.startsWith("start")).length, 3);
  const s = (await held(nc)).find((b) => b.id === "crasher")!;
  assert.equal(s.restarts, 2);
  assert.match(s.lastError ?? "", /fake bot crashed on demand/);
  assert.ok(logs.some((l) => /"level":"error".*giving up/.test(l) && l.includes("crasher")));
});

test("supervisor - a bot that cannot start is reported with its reason", async () => {
  await waitFor(
    async () => (await held(nc)).find((b) => b.id === "refuser")?.state === "failed",
    30_000,
    "refuser given up",
  );
  const s = (await held(nc)).find((b) => b.id === "refuser")!;
  assert.match(s.lastError ?? "", /bot could not start: fake bot told to fail at start/);
});

test("supervisor - commands reach the holder over NATS and unknown commands are refused", async () => {
  const r = await sendCommand(nc, "calm", "halt");
  assert.equal(r.ok, true);
  assert.equal(r.status?.halted, true);
  const raw = await nc.request("bustle.ctl.bot.calm", new TextEncoder().encode('{"cmd":"format-disk"}'), {
    timeout: 5_000,
  });
  assert.match(raw.string(), /unknown command/);
  await assert.rejects(sendCommand(nc, "nobody", "halt"), /not running on any control server/);
});
