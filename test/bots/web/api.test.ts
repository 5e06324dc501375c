import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../../cluster/config/load.js";
import { freePort } from "../../../cluster/net.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { webSectionSchema, type WebConfig } from "../../../bots/web/config.js";
import { WebBot } from "../../../bots/web/web-bot.js";
import { common, context, feed, publishEvent, startBus, streamEvents, type Bus, type Feed } from "./support.js";

const dir = tempDir();
const GAME_TOKEN = "game-server-token-0123456789abcdef";
const PORTAL_TOKEN = "portal-token-fedcba9876543210xyz";
let bus: Bus;
let bot: WebBot;
let base: string;
let stopFeed: Feed;
const botCommon = common("web-api", "web");

before(async () => {
  process.env.BUSTLE_TEST_GAME_TOKEN = GAME_TOKEN;
  process.env.BUSTLE_TEST_PORTAL_TOKEN = PORTAL_TOKEN;
  bus = await startBus(dir.path);
  const port = await freePort();
  const config = parseConfig(
    `
listen: "127.0.0.1:${port}"
title: test portal
history: 50
max_body: 1024
tokens:
  - {name: quake, token_env: BUSTLE_TEST_GAME_TOKEN, kinds: [game], rate: {burst: 100, per: 1m}}
  - {name: portal, token_env: BUSTLE_TEST_PORTAL_TOKEN, kinds: [update], rate: {burst: 3, per: 1h}}
`,
    "control.yaml",
    webSectionSchema,
  ) as WebConfig;
  bot = new WebBot(context(bus, botCommon, config, dir.path));
  await bot.start();
  stopFeed = await feed(bus.nc, botCommon, bot);
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await stopFeed?.stop();
  await bot?.stop();
  await bus?.close();
  dir.remove();
});

const post = (body: string, token?: string) =>
  fetch(`${base}/api/publish`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body,
  });

/** Events the portal published (source = the bot id), from the stream itself. */
const published = async () => (await streamEvents(bus.nc)).filter((e) => e.event.source === botCommon.id);

test("web api - refuses bad posts with the right status and publishes none of them", async () => {
  const good = JSON.stringify({ kind: "game", text: "frag" });
  const cases: Array<[string, Promise<Response>, number]> = [
    ["no token", post(good), 401],
    ["wrong token", post(good, "not-the-token-at-all-0000000000"), 401],
    ["a kind outside the token's kinds", post(JSON.stringify({ kind: "shout", text: "HI" }), GAME_TOKEN), 403],
    ["an oversized body", post(JSON.stringify({ kind: "game", text: "x".repeat(5000) }), GAME_TOKEN), 413],
    ["malformed JSON", post("{kind: game", GAME_TOKEN), 400],
    ["a JSON array", post("[1,2]", GAME_TOKEN), 400],
    ["an empty text", post(JSON.stringify({ kind: "game", text: " \n " }), GAME_TOKEN), 400],
    ["a bad kind", post(JSON.stringify({ kind: "Game!", text: "x" }), GAME_TOKEN), 400],
  ];
  for (const [what, res, status] of cases) {
    const r = await res;
    assert.equal(r.status, status, `${what}: status`);
    const body = (await r.json()) as { error?: string };
    assert.ok(body.error, `${what}: an error message`);
  }
  const wrong = await post(good);
  assert.match(wrong.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.equal(wrong.headers.get("content-security-policy")?.includes("frame-ancestors 'none'"), true);
  assert.deepEqual(await published(), []);
});

test("web api - a flood over the token's rate is refused with 429 after the burst", async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await post(JSON.stringify({ kind: "update", text: `flood ${i}` }), PORTAL_TOKEN);
    statuses.push(r.status);
    if (r.status === 429) assert.ok(Number(r.headers.get("retry-after")) >= 1);
    await r.arrayBuffer();
  }
  assert.deepEqual(statuses, [202, 202, 202, 429, 429, 429, 429, 429, 429, 429]);
  const mine = (await published()).filter((e) => e.event.actor === "portal");
  assert.deepEqual(
    mine.map((e) => e.event.text),
    ["flood 0", "flood 1", "flood 2"],
  );
});

test("web api - a good post is in the stream with the token's name as actor, and on the portal", async () => {
  const r = await post(JSON.stringify({ kind: "game", text: "alice fragged bob\u001b[31m on dm4" }), GAME_TOKEN);
  assert.equal(r.status, 202);
  const { id } = (await r.json()) as { id: string };
  const inStream = (await published()).find((e) => e.event.id === id);
  assert.ok(inStream, "the event is in the stream");
  assert.equal(inStream.event.actor, "quake");
  assert.equal(inStream.event.kind, "game");
  assert.equal(inStream.event.node, "portal");
  assert.equal(inStream.event.text, "alice fragged bob on dm4");
  // The host never echoes a bot's own events; the portal shows its posts anyway.
  await waitFor(
    async () => {
      const list = (await (await fetch(`${base}/api/events?kind=game`)).json()) as { events: Array<{ id: string }> };
      return list.events.some((e) => e.id === id);
    },
    5_000,
    "the post in /api/events",
  );
});

test("web api - lists recent events newest first with filters and paging by sequence", async () => {
  const seqs: number[] = [];
  for (let i = 0; i < 6; i++)
    seqs.push((await publishEvent(bus.nc, { node: i % 2 ? "club" : "town", text: `page ${i}` })).seq);
  await waitFor(
    async () => {
      const l = (await (await fetch(`${base}/api/events?limit=1`)).json()) as { last_seq: number };
      return l.last_seq >= seqs.at(-1)!;
    },
    5_000,
    "the portal to receive the events",
  );
  const first = (await (await fetch(`${base}/api/events?limit=2&kind=update`)).json()) as {
    events: Array<{ seq: number; text: string }>;
  };
  assert.deepEqual(
    first.events.map((e) => e.text),
    ["page 5", "page 4"],
  );
  const next = (await (
    await fetch(`${base}/api/events?limit=2&kind=update&before=${first.events[1]!.seq}`)
  ).json()) as { events: Array<{ text: string }> };
  assert.deepEqual(
    next.events.map((e) => e.text),
    ["page 3", "page 2"],
  );
  const club = (await (await fetch(`${base}/api/events?node=club&since=${seqs[0]! - 1}`)).json()) as {
    events: Array<{ text: string; node: string }>;
  };
  assert.deepEqual(
    club.events.map((e) => e.text),
    ["page 5", "page 3", "page 1"],
  );
  for (const bad of ["limit=0", "limit=x", "node=Bad%20Node", "before=-1"]) {
    assert.equal((await fetch(`${base}/api/events?${bad}`)).status, 400, bad);
  }
});

test("web api - health, metrics and security headers", async () => {
  const h = await fetch(`${base}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(((await h.json()) as { status: string }).status, "ok");
  const m = await (await fetch(`${base}/metrics`)).text();
  assert.match(m, /^bustle_web_publish_total\{bot="web-api",result="unauthorized"\} [1-9]/m);
  assert.match(m, /^bustle_web_publish_total\{bot="web-api",result="rate_limited"\} 7$/m);
  const page = await fetch(`${base}/`);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await page.text();
  assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, "no inline script");
  assert.equal((await fetch(`${base}/api/publish`)).status, 405);
  assert.equal((await fetch(`${base}/nope`)).status, 404);
});
