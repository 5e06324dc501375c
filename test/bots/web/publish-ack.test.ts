/**
 * The portal's 202 is a promise: the event is in the stream (JetStream acknowledged it), not
 * merely accepted in memory. While the stream cannot take it the answer is 503 and nothing is
 * published; once it can again, posts are accepted and stored.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { parseConfig } from "../../../cluster/config/load.js";
import { silentLogger } from "../../../cluster/logger.js";
import { STREAM_NAME } from "../../../cluster/names.js";
import { freePort } from "../../../cluster/net.js";
import { ensureStream } from "../../../cluster/stream.js";
import { tempDir } from "../../../cluster/temp.js";
import { webSectionSchema, type WebConfig } from "../../../bots/web/config.js";
import { WebBot } from "../../../bots/web/web-bot.js";
import { common, context, startBus, streamEvents, type Bus } from "./support.js";

const dir = tempDir();
const TOKEN = "publish-ack-token-0123456789abcdef";
let bus: Bus;
let bot: WebBot;
let base: string;
const botCommon = common("web-ack", "web");

before(async () => {
  process.env.BUSTLE_TEST_ACK_TOKEN = TOKEN;
  bus = await startBus(dir.path);
  const port = await freePort();
  const config = parseConfig(
    `
listen: "127.0.0.1:${port}"
tokens:
  - {name: portal, token_env: BUSTLE_TEST_ACK_TOKEN, kinds: [update], rate: {burst: 100, per: 1m}}
`,
    "control.yaml",
    webSectionSchema,
  ) as WebConfig;
  bot = new WebBot(context(bus, botCommon, config, dir.path));
  await bot.start();
  base = `http://127.0.0.1:${port}`;
});
after(async () => {
  await bot?.stop();
  await bus?.close();
  dir.remove();
});

const post = (text: string) =>
  fetch(`${base}/api/publish`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ kind: "update", text }),
  });

test("web publish - 202 only once the event is in the stream; 503 and nothing published while the stream cannot take it", async () => {
  const ok = await post("stored");
  assert.equal(ok.status, 202);
  const { id } = (await ok.json()) as { id: string };
  assert.ok(
    (await streamEvents(bus.nc)).some((e) => e.event.id === id),
    "in the stream the moment the 202 arrives",
  );

  const jsm = await jetstreamManager(bus.nc);
  await jsm.streams.delete(STREAM_NAME); // nowhere to store events
  const refused = await post("nowhere to go");
  assert.equal(refused.status, 503, "not accepted into memory: refused");
  assert.equal(refused.headers.get("retry-after"), "5");

  await ensureStream(bus.nc, {}, silentLogger);
  const again = await post("stored again");
  assert.equal(again.status, 202);
  const texts = (await streamEvents(bus.nc)).map((e) => e.event.text);
  assert.deepEqual(texts, ["stored again"], "the refused post was never published");
});
