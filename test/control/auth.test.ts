import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectBus, closeBus, type NatsConnection } from "../../cluster/connection.js";
import { ensureStream } from "../../cluster/stream.js";
import { silentLogger } from "../../cluster/logger.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { decodeEvent, type BustleEvent } from "../../cluster/envelope.js";
import { botSubject } from "../../control/api.js";
import { controlPermissions, renderPermissions } from "../../cluster/permissions.js";
import { cli, held, publish, startControl, stopControl, waitFeeding, type ControlProcess } from "./harness.js";

// A server with users: `town-ctl` has exactly the permissions `bustle-cluster init` gives node
// town's control credential when it may run bot `echo` (docs/control.md); `reader` may only
// read events (like any program on the federation); `admin` sets up.
const AUTH = `authorization {
  users: [
    { user: admin, password: adminpw }
    { user: town-ctl, password: ctlpw, ${renderPermissions(controlPermissions("town", ["echo"]), "    ").trim()} }
    { user: reader, password: readerpw, permissions: { publish: { allow: ["$JS.API.>"] }, subscribe: { allow: ["bustle.ev.>", "_INBOX.>"] } } }
  ]
}`;

const dir = tempDir("bustle-control-auth-");
const d = dir.path;
const file = join(d, "control.yaml");
let server: NatsServer;
let admin: NatsConnection;
let control: ControlProcess;

before(async () => {
  server = await startServer(d, "n1", AUTH);
  admin = await connectBus({
    servers: [server.url],
    user: "admin",
    pass: "adminpw",
    name: "admin",
    logger: silentLogger,
  });
  await ensureStream(admin, {}, silentLogger);
  writeFileSync(join(d, "ctl-password"), "ctlpw\n", { mode: 0o600 });
  writeFileSync(
    join(d, "echo.py"),
    `import json, sys\nfor line in sys.stdin:\n    e = json.loads(line)\n    print(json.dumps({"kind": "chat", "text": "heard " + e["text"]}), flush=True)\n`,
  );
  writeFileSync(
    file,
    `node: town
nats: {servers: ["${server.url}"], user: town-ctl, password_file: ${join(d, "ctl-password")}}
state: {dir: ${join(d, "state")}}
bots:
  - {id: echo, type: exec, kinds: [update], exec: {command: [python3, -u, ${join(d, "echo.py")}]}}
`,
  );
  control = startControl(file, join(d, "control.log"));
});
after(async () => {
  if (control) await stopControl(control);
  if (process.env.BUSTLE_TEST_KEEP_LOG) process.stderr.write(control.log());
  await closeBus(admin);
  await server.stop();
  dir.remove();
});

test("control auth - a control server runs its bots with only the documented permissions", async () => {
  const replies: BustleEvent[] = [];
  admin.subscribe("bustle.ev.town.echo.>", { callback: (_e, m) => void replies.push(decodeEvent(m.data)) });
  await waitFeeding(admin, ["echo"]);
  await publish(admin, "hi from zia");
  await waitFor(() => replies.length === 1, 15_000, "the bot's answer");
  assert.equal(replies[0]!.text, "heard hi from zia");
  const r = await cli(["halt", "echo", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  const s = await cli(["status", "echo", "--json", "--config", file]);
  assert.equal(JSON.parse(s.stdout)[0].halted, true);
  assert.doesNotMatch(control.log(), /Permissions Violation/i);
});

test("control auth - a client without control permissions cannot steer a bot", async () => {
  const reader = await connectBus({
    servers: [server.url],
    user: "reader",
    pass: "readerpw",
    name: "reader",
    logger: silentLogger,
  });
  try {
    await assert.rejects(
      reader.request(botSubject("echo"), new TextEncoder().encode('{"cmd":"resume"}'), { timeout: 2_000 }),
    );
  } finally {
    await closeBus(reader);
  }
  const b = (await held(admin)).find((x) => x.id === "echo")!;
  assert.equal(b.halted, true, "still halted");
});
