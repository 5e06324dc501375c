import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import { parseConfig } from "../../../cluster/config/load.js";
import { freePort } from "../../../cluster/net.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { webhookSectionSchema, type WebhookConfig } from "../../../bots/webhook/config.js";
import { WebhookBot } from "../../../bots/webhook/webhook-bot.js";
import { common, context, feed, publishEvent, startBus, type Bus } from "../web/support.js";

const SECRET = "webhook-test-secret-42";
const dir = tempDir();
let bus: Bus;
let receiver: Server;
let port: number;

interface Received {
  id: string;
  attempt: number;
  signed: boolean;
  status: number;
  body: Record<string, unknown>;
}
const received: Received[] = [];
/** Per event id: how many attempts to fail before accepting, and how. */
let failPlan: (id: string, attempt: number) => "ok" | "500" | "429" | "drop" = () => "ok";

function validSignature(ts: string | undefined, sig: string | undefined, raw: Buffer): boolean {
  if (!ts || !sig || !/^\d+$/.test(ts)) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const want = Buffer.from("sha256=" + createHmac("sha256", SECRET).update(`${ts}.`).update(raw).digest("hex"));
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want);
}

before(async () => {
  bus = await startBus(dir.path);
  port = await freePort();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const id = String(req.headers["x-bustle-event-id"]);
      const attempt = Number(req.headers["x-bustle-delivery-attempt"]);
      const signed = validSignature(
        req.headers["x-bustle-timestamp"] as string,
        req.headers["x-bustle-signature"] as string,
        raw,
      );
      const plan = failPlan(id, attempt);
      const status = plan === "ok" ? 204 : plan === "429" ? 429 : plan === "500" ? 500 : 0;
      received.push({ id, attempt, signed, status, body: JSON.parse(raw.toString("utf8")) as Record<string, unknown> });
      if (plan === "drop") {
        req.socket.destroy();
        return;
      }
      res.writeHead(status, plan === "429" ? { "Retry-After": "0" } : {});
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(port, "127.0.0.1", r));
});

after(async () => {
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  await bus?.close();
  dir.remove();
});

function makeBot(id: string, yaml: string): WebhookBot {
  process.env.BUSTLE_TEST_WEBHOOK_SECRET = SECRET;
  const config = parseConfig(yaml, "control.yaml", webhookSectionSchema) as WebhookConfig;
  // Each bot its own state folder, as the host gives it (<state>/bots/<id>): one bot's saved queue
  // is never another's.
  const stateDir = join(dir.path, "bots", id);
  mkdirSync(stateDir, { recursive: true });
  return new WebhookBot(context(bus, common(id, "webhook", { format: "[{node}] {text}" }), config, stateDir));
}

test("webhook - a receiver failing the first attempts gets every event once, in order, each signed", async () => {
  received.length = 0;
  failPlan = (_id, attempt) => (attempt === 1 ? "500" : attempt === 2 ? "drop" : attempt === 3 ? "429" : "ok");
  const c = common("hook-json", "webhook", { format: "[{node}] {text}" });
  const bot = makeBot(
    "hook-json",
    `{url: "http://127.0.0.1:${port}/hook", secret_env: BUSTLE_TEST_WEBHOOK_SECRET, backoff: {initial: 20ms, max: 200ms}}`,
  );
  await bot.start();
  const f = await feed(bus.nc, c, bot);
  const sent: string[] = [];
  for (let i = 0; i < 5; i++) sent.push((await publishEvent(bus.nc, { text: `event ${i}` })).event.id);
  await waitFor(() => received.filter((r) => r.status === 204).length >= 5, 20_000, "five accepted deliveries");
  await f.stop();
  await bot.stop();
  const accepted = received.filter((r) => r.status === 204);
  assert.deepEqual(
    accepted.map((r) => r.id),
    sent,
    "each event accepted exactly once, in order",
  );
  assert.ok(
    received.every((r) => r.signed),
    "every attempt carries a valid signature",
  );
  assert.ok(accepted.every((r) => r.attempt === 4));
  assert.equal(accepted[0]!.body.text, "event 0");
  assert.equal(accepted[0]!.body.formatted, "[town] event 0");
  assert.equal(accepted[0]!.body.id, sent[0]);
  assert.deepEqual(bot.stats().dropped, { queue_full: 0, refused: 0, gave_up: 0, stopped: 0 });
});

test("webhook - discord and slack shapes carry the formatted text and cannot ping anyone", async () => {
  received.length = 0;
  failPlan = () => "ok";
  for (const shape of ["discord", "slack"] as const) {
    const id = `hook-${shape}`;
    const bot = makeBot(id, `{url: "http://127.0.0.1:${port}/${shape}", shape: ${shape}}`);
    await bot.start();
    const f = await feed(bus.nc, common(id, "webhook", { format: "[{node}] {text}" }), bot);
    await publishEvent(bus.nc, { text: `@everyone <!channel> hi from ${shape}` });
    await waitFor(
      () => received.some((r) => JSON.stringify(r.body).includes(`hi from ${shape}`)),
      10_000,
      `the ${shape} post`,
    );
    await f.stop();
    await bot.stop();
  }
  const discord = received.find((r) => "content" in r.body)!;
  assert.deepEqual(discord.body, {
    content: "[town] @everyone <!channel> hi from discord",
    allowed_mentions: { parse: [] },
  });
  assert.equal(discord.signed, false, "no secret, no signature");
  const slack = received.find((r) => "text" in r.body && !("id" in r.body))!;
  assert.equal(slack.body.text, "[town] @everyone &lt;!channel&gt; hi from slack");
});

test("webhook - a receiver refusing for good (404) is not retried, and the drop is counted", async () => {
  let hits = 0;
  const gone = createServer((_req, res) => {
    hits++;
    res.writeHead(404).end();
  });
  const gonePort = await freePort();
  await new Promise<void>((r) => gone.listen(gonePort, "127.0.0.1", r));
  const refusing = makeBot("hook-404", `{url: "http://127.0.0.1:${gonePort}/", backoff: {initial: 20ms, max: 100ms}}`);
  await refusing.start();
  const f = await feed(bus.nc, common("hook-404", "webhook"), refusing);
  await publishEvent(bus.nc, { text: "nobody wants this" });
  await waitFor(() => refusing.stats().dropped.refused === 1, 10_000, "the refusal to be counted");
  await refusing.idle();
  await f.stop();
  await refusing.stop();
  gone.closeAllConnections();
  await new Promise((r) => gone.close(r));
  assert.equal(hits, 1);
});

test("webhook - events still queued at stop are sent after the next start", async () => {
  received.length = 0;
  let accept = false;
  failPlan = () => (accept ? "ok" : "500");
  const c = common("hook-saved", "webhook");
  const yaml = `{url: "http://127.0.0.1:${port}/saved", backoff: {initial: 50ms, max: 100ms}, attempts: 100}`;
  const first = makeBot("hook-saved", yaml);
  await first.start();
  const f = await feed(bus.nc, c, first);
  const ids = [
    (await publishEvent(bus.nc, { text: "s1" })).event.id,
    (await publishEvent(bus.nc, { text: "s2" })).event.id,
  ];
  await waitFor(() => first.stats().queued === 2 && received.length >= 1, 10_000, "two queued events");
  await f.stop();
  await first.stop();
  accept = true;
  const second = makeBot("hook-saved", yaml);
  await second.start();
  await waitFor(() => received.filter((r) => r.status === 204).length >= 2, 10_000, "the saved events delivered");
  await second.idle();
  await second.stop();
  // At least once: a retry still in flight when the first bot stopped may also be accepted, so an
  // event can arrive twice — always under its own id (the Idempotency-Key) — and none is missing.
  assert.deepEqual([...new Set(received.filter((r) => r.status === 204).map((r) => r.id))], ids);
});
