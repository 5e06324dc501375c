/**
 * The portal and a webhook as an admin runs them: `bustle-control serve` with both in its
 * control.yaml, each bot in its own host process fed from the stream.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../../cluster/net.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { controlYaml, startControl, stopControl, type ControlProcess } from "../../control/harness.js";
import { publishEvent, startBus, type Bus } from "./support.js";

const TOKEN = "control-test-token-0123456789abcdef";
const dir = tempDir();
let bus: Bus;
let control: ControlProcess | undefined;
let receiver: Server;
const hooked: Array<{ id: string; body: { text?: string; source?: string } }> = [];
let base: string;

before(async () => {
  bus = await startBus(dir.path);
  const hookPort = await freePort();
  receiver = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    req.on("end", () => {
      hooked.push({ id: String(req.headers["x-bustle-event-id"]), body: JSON.parse(raw) as { text?: string } });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(hookPort, "127.0.0.1", r));
  const webPort = await freePort();
  base = `http://127.0.0.1:${webPort}`;
  process.env.BUSTLE_TEST_CONTROL_TOKEN = TOKEN;
  const file = join(dir.path, "control.yaml");
  writeFileSync(
    file,
    controlYaml({
      node: "town",
      urls: [bus.server.url],
      stateDir: join(dir.path, "control-state"),
      bots: [
        "  - id: portal",
        "    type: web",
        `    web: {listen: "127.0.0.1:${webPort}", tokens: [{name: game, token_env: BUSTLE_TEST_CONTROL_TOKEN, kinds: [game]}]}`,
        "  - id: hook",
        "    type: webhook",
        `    webhook: {url: "http://127.0.0.1:${hookPort}/", backoff: {initial: 50ms, max: 500ms}}`,
        "",
      ].join("\n"),
    }),
  );
  control = startControl(file, join(dir.path, "control.log"));
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 30_000, "the portal to answer under bustle-control");
});

after(async () => {
  if (control) await stopControl(control);
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  await bus?.close();
  dir.remove();
});

test("web control - under bustle-control the portal shows events and publishes; the webhook posts both", async () => {
  // The hosts start from the stream's end once they hold their lease: publish until one arrives.
  let spool = "";
  await waitFor(
    async () => {
      spool = (await publishEvent(bus.nc, { text: "~alice is around" })).event.id;
      await new Promise((r) => setTimeout(r, 300));
      const list = (await (await fetch(`${base}/api/events`)).json()) as { events: Array<{ id: string }> };
      return list.events.some((e) => e.id === spool) && hooked.some((h) => h.id === spool);
    },
    30_000,
    "a spool event on the portal and at the webhook",
  );
  const r = await fetch(`${base}/api/publish`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ kind: "game", text: "bob joined" }),
  });
  assert.equal(r.status, 202);
  const { id } = (await r.json()) as { id: string };
  await waitFor(() => hooked.some((h) => h.id === id), 10_000, "the portal's post at the webhook");
  assert.equal(hooked.find((h) => h.id === id)!.body.source, "portal");
  assert.equal(new Set(hooked.map((h) => h.id)).size, hooked.length, "each event posted once");
  assert.doesNotMatch(control!.log(), /"level":"error"/);
});
