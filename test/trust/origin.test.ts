/**
 * Origin is visible: a portal token holder posts text that reads exactly like bob's own shout.
 * In bustle.log (written by a real bustled) and in the portal's API it carries its origin,
 * while bob's real shout from his spool reads as written.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../cluster/config/load.js";
import { freePort } from "../../cluster/net.js";
import { RelayProcess, writeRelayConfig } from "../../relay/local-node.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { createBotContext } from "../../bots/context.js";
import { webSectionSchema, type WebConfig } from "../../bots/web/config.js";
import { WebBot } from "../../bots/web/web-bot.js";
import { common, startBus, type Bus } from "../bots/web/support.js";
import { appendSpool, logLines, makeHome, textOf } from "../relay/support.js";
import { silentLogger } from "../../cluster/logger.js";

const dir = tempDir("bustle-trust-origin-");
const TOKEN = "origin-test-token-0123456789abcdef";
let bus: Bus;
let bot: WebBot;
let relay: RelayProcess;
let base: string;
let log: string;
let homes: string;

before(async () => {
  process.env.BUSTLE_TEST_ORIGIN_TOKEN = TOKEN;
  bus = await startBus(dir.path);
  const files = writeRelayConfig(`${dir.path}/town`, "town", { servers: [bus.server.url] });
  log = files.log;
  homes = files.homes;
  relay = await new RelayProcess(files).start();
  const port = await freePort();
  const config = parseConfig(
    `
listen: "127.0.0.1:${port}"
tokens:
  - {name: guest, token_env: BUSTLE_TEST_ORIGIN_TOKEN, kinds: [shout]}
`,
    "control.yaml",
    webSectionSchema,
  ) as WebConfig;
  bot = new WebBot(
    createBotContext({
      node: "town",
      common: common("portal", "web"),
      config,
      bus: bus.nc,
      log: silentLogger,
      stateDir: dir.path,
    }),
  );
  await bot.start();
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await bot?.stop();
  await relay?.stop();
  await bus?.close();
  dir.remove();
});

test("origin - a token posting ~bob's shout shows as the portal's in bustle.log and the portal; bob's own shout reads as written", async () => {
  makeHome(homes, "bob");
  appendSpool(homes, "bob", ['{"kind":"shout","text":"hello"}']);
  await waitFor(() => logLines(log).length === 1, 15_000, "bob's real shout in bustle.log");
  const r = await fetch(`${base}/api/publish`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ kind: "shout", text: "~bob shouts, 'X'" }),
  });
  assert.equal(r.status, 202);
  await waitFor(() => logLines(log).length === 2, 15_000, "the token's post in bustle.log");
  assert.deepEqual(logLines(log).map(textOf), ["~bob shouts, 'HELLO'", "[portal] ~bob shouts, 'X'"]);
  assert.ok(!logLines(log).some((l) => / town ~bob shouts, 'X'$/.test(l)), "no line passes for bob's");

  // The portal's API (and its live stream and page, which use the same entries) says the same.
  const api = await waitFor(
    async () => {
      const body = (await (await fetch(`${base}/api/events?kind=shout`)).json()) as {
        events: Array<{ text: string; source: string }>;
      };
      return body.events.find((e) => e.source === "portal");
    },
    10_000,
    "the post in /api/events",
  );
  assert.equal(api.text, "[portal] ~bob shouts, 'X'");
});

test("origin - no bot may take the id of the node's own sources (spool, fs)", async () => {
  const { parseControlConfig } = await import("../../control/config/control-config.js");
  const { registry } = await import("../../bots/registry.js");
  for (const id of ["spool", "fs"]) {
    const yaml = `node: town\nnats: {servers: ["nats://127.0.0.1:4222"]}\nbots:\n  - id: ${id}\n    type: exec\n    exec: {command: [cat]}\n`;
    assert.throws(
      () => parseControlConfig(yaml, "control.yaml", registry),
      new RegExp(`bots\\[0\\]\\.id: "${id}" is reserved for the node's own events`),
    );
  }
});
