import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../../cluster/config/load.js";
import { freePort } from "../../../cluster/net.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { webSectionSchema, type WebConfig } from "../../../bots/web/config.js";
import { WebBot } from "../../../bots/web/web-bot.js";
import { common, context, feed, publishEvent, startBus, type Bus, type Feed } from "./support.js";
import { openSse, texts } from "../../../bench/lib/sse-client.js";

const dir = tempDir();
let bus: Bus;
let port: number;
let bot: WebBot;
let running: Feed;
const c = common("web-stream", "web");

const config = (history: number, maxClients = 5) =>
  parseConfig(
    `{listen: "127.0.0.1:${port}", history: ${history}, max_clients: ${maxClients}}`,
    "control.yaml",
    webSectionSchema,
  ) as WebConfig;

async function startBot(history: number, maxClients?: number): Promise<void> {
  bot = new WebBot(context(bus, c, config(history, maxClients), dir.path));
  await bot.start();
  running = await feed(bus.nc, c, bot);
}

async function stopBot(): Promise<void> {
  await running.stop();
  await bot.stop();
}

before(async () => {
  bus = await startBus(dir.path);
  port = await freePort();
});
after(async () => {
  await running?.stop();
  await bot?.stop();
  await bus?.close();
  dir.remove();
});

const url = (q = "") => `http://127.0.0.1:${port}/events${q}`;

test("web stream - live events arrive with their sequence as id; a resume with Last-Event-ID has no gap and no repeat", async () => {
  await startBot(100);
  const a = openSse(url());
  assert.equal(await a.opened, 200);
  const first = await publishEvent(bus.nc, { text: "one" });
  await waitFor(() => texts(a).includes("one"), 5_000, "the first event on the stream");
  assert.equal(a.messages.at(-1)!.id, String(first.seq));
  a.close();
  for (const t of ["two", "three", "four"]) await publishEvent(bus.nc, { text: t });
  const b = openSse(url(), { "Last-Event-ID": String(first.seq) });
  await waitFor(() => texts(b).length >= 3, 5_000, "the missed events after reconnecting");
  await publishEvent(bus.nc, { text: "five" });
  await waitFor(() => texts(b).includes("five"), 5_000, "a live event after the replay");
  assert.deepEqual(texts(b), ["two", "three", "four", "five"]);
  b.close();
  await stopBot();
});

test("web stream - a client further behind than the memory resumes from the stream itself, also across a restart", async () => {
  await startBot(2);
  const start = await publishEvent(bus.nc, { text: "base" });
  await waitFor(
    async () =>
      ((await (await fetch(`http://127.0.0.1:${port}/api/events`)).json()) as { last_seq: number }).last_seq >=
      start.seq,
    5_000,
    "the base event",
  );
  await stopBot();
  const missed = ["m1", "m2", "m3", "m4", "m5"];
  for (const t of missed) await publishEvent(bus.nc, { text: t, kind: "shout" });
  await startBot(2);
  const s = openSse(url(), { "Last-Event-ID": String(start.seq) });
  await waitFor(() => texts(s).length >= 5, 5_000, "the five missed events");
  await publishEvent(bus.nc, { text: "after" });
  await waitFor(() => texts(s).includes("after"), 5_000, "the live event");
  assert.deepEqual(texts(s), [...missed, "after"]);
  s.close();
  // Filters apply to the replay as well.
  const only = openSse(url(`?kind=shout&since=${start.seq}`));
  await waitFor(() => texts(only).length >= 5, 5_000, "the filtered replay");
  assert.deepEqual(texts(only), missed);
  only.close();
  await stopBot();
});

test("web stream - a client from before the stream was recreated is told to start over", async () => {
  await startBot(10);
  const s = openSse(url(), { "Last-Event-ID": "999999" });
  await waitFor(() => s.messages.some((m) => m.event === "reset"), 5_000, "a reset event");
  s.close();
  await stopBot();
});

test("web stream - live clients are bounded; one more is told 503", async () => {
  await startBot(10, 3);
  const clients = [openSse(url()), openSse(url()), openSse(url())];
  for (const x of clients) assert.equal(await x.opened, 200);
  const extra = openSse(url());
  assert.equal(await extra.opened, 503);
  extra.close();
  clients.forEach((x) => x.close());
  await waitFor(
    async () => ((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { clients: number }).clients === 0,
    5_000,
    "clients to be gone",
  );
  const again = openSse(url());
  assert.equal(await again.opened, 200);
  again.close();
  await stopBot();
});
