/**
 * The portal in a real federation: three nats-servers with per-node credentials and three
 * `bustled` relays. A good post through the portal on node n1 ends up in every node's bustle.log.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { parseConfig } from "../../../cluster/config/load.js";
import { resolveBusSettings } from "../../../cluster/bus-config.js";
import { closeBus, connectBus, type NatsConnection } from "../../../cluster/connection.js";
import type { LocalFederation } from "../../../federation/local.js";
import { silentLogger } from "../../../cluster/logger.js";
import { freePort } from "../../../cluster/net.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { loadNodeConfig } from "../../../relay/config.js";
import { createBotContext } from "../../../bots/context.js";
import { webSectionSchema, type WebConfig } from "../../../bots/web/config.js";
import { WebBot } from "../../../bots/web/web-bot.js";
import { startFederation } from "../../federation/harness.js";
import { common } from "./support.js";

const TOKEN = "federation-portal-token-0123456789";
const dir = tempDir();
let fed: LocalFederation;
let nc: NatsConnection;
let bot: WebBot;
let base: string;

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

before(async () => {
  process.env.BUSTLE_TEST_FED_TOKEN = TOKEN;
  fed = await startFederation(dir.path);
  const n1 = fed.node("n1");
  // The portal connects as its node, with that node's credentials and inbox prefix.
  const node = loadNodeConfig(n1.config);
  nc = await connectBus({
    ...resolveBusSettings(node.nats, n1.config, [...(node.nats.servers ?? [])]),
    name: "web portal n1",
    logger: silentLogger,
    inboxPrefix: "_INBOX.n1",
  });
  // The relays create the BUSTLE stream once they are up; the portal needs it to publish.
  const jsm = await jetstreamManager(nc);
  await waitFor(
    () => jsm.streams.info("BUSTLE").then((i) => Boolean(i.cluster?.leader)),
    30_000,
    "the BUSTLE stream and its leader",
  );
  const port = await freePort();
  const config = parseConfig(
    `{listen: "127.0.0.1:${port}", tokens: [{name: qw-server, token_env: BUSTLE_TEST_FED_TOKEN, kinds: [game]}]}`,
    "control.yaml",
    webSectionSchema,
  ) as WebConfig;
  bot = new WebBot(
    createBotContext({
      node: "n1",
      common: common("portal", "web"),
      config,
      bus: nc,
      log: silentLogger,
      stateDir: dir.path,
    }),
  );
  await bot.start();
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await bot?.stop();
  if (nc) await closeBus(nc).catch(() => {});
  await fed?.stop();
  dir.remove();
});

test("web federation - a good post appears in every node's bustle.log; refused ones in none", async () => {
  const post = (token: string, body: unknown) =>
    fetch(`${base}/api/publish`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  assert.equal((await post("wrong-token-wrong-token-wrong", { kind: "game", text: "refused: bad token" })).status, 401);
  assert.equal((await post(TOKEN, { kind: "shout", text: "refused: kind" })).status, 403);
  const r = await post(TOKEN, { kind: "game", text: "bob joined the dm4 server" });
  assert.equal(r.status, 202);
  // The portal's post shows where it came from (docs/security.md, Origin).
  const line = / n1 \[portal\] bob joined the dm4 server\n/;
  await waitFor(() => fed.nodes.every((n) => line.test(read(n.log))), 30_000, "the post in every node's bustle.log");
  for (const n of fed.nodes) {
    const log = read(n.log);
    assert.equal(log.match(/bob joined the dm4 server/g)?.length, 1, `${n.id}: exactly once`);
    assert.doesNotMatch(log, /refused:/, `${n.id}: nothing refused was published`);
  }
});
