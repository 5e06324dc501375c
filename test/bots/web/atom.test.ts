import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { parseConfig } from "../../../cluster/config/load.js";
import { freePort } from "../../../cluster/net.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { webSectionSchema, type WebConfig } from "../../../bots/web/config.js";
import { WebBot } from "../../../bots/web/web-bot.js";
import { common, context, feed, publishEvent, startBus, type Bus, type Feed } from "./support.js";

const dir = tempDir();
let bus: Bus;
let bot: WebBot;
let base: string;
let stopFeed: Feed;
const botCommon = common("web-atom", "web");

before(async () => {
  bus = await startBus(dir.path);
  const port = await freePort();
  const config = parseConfig(
    `listen: "127.0.0.1:${port}"\ntitle: "tildes & friends"\nhistory: 50\n`,
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

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  isArray: (name) => name === "entry" || name === "link",
});
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

async function atom(query = ""): Promise<{ res: Response; doc: any }> {
  const res = await fetch(`${base}/feed.atom${query}`);
  const text = await res.text();
  assert.equal(XMLValidator.validate(text), true, "well-formed XML");
  return { res, doc: parser.parse(text) };
}

test("atom - a valid Atom 1.0 feed of the recent events, newest first, ids are event ids", async () => {
  const a = await publishEvent(bus.nc, { text: '~alice <b>bold</b> & "quoted"', actor: "alice" });
  const b = await publishEvent(bus.nc, { kind: "shout", text: "~bob shouts, 'HI'", actor: "bob", node: "club" });
  await waitFor(async () => (await atom()).doc.feed.entry?.length === 2, 10_000, "both events in the feed");
  const { res, doc } = await atom();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/atom+xml; charset=utf-8");
  const f = doc.feed;
  assert.equal(f["@xmlns"], "http://www.w3.org/2005/Atom");
  // RFC 4287 4.1.1: atom:feed has exactly one id, title and updated, and an author (or every entry has one).
  assert.equal(f.id, "urn:bustle:portal:web-atom");
  assert.equal(f.title["#text"], "tildes & friends");
  assert.match(f.updated, ISO);
  assert.equal(f.author.name, "tildes & friends");
  assert.ok(f.link.some((l: any) => l["@rel"] === "self" && l["@href"] === "/feed.atom"));
  const [first, second] = f.entry;
  for (const e of f.entry) {
    assert.match(e.updated, ISO);
    assert.ok(e.title["#text"] && e.id && e.author.name, "each entry has id, title, updated, author");
  }
  assert.equal(first.id, `urn:bustle:event:${b.event.id}`);
  assert.equal(first.title["#text"], "~bob shouts, 'HI'");
  assert.equal(first.category["@term"], "shout");
  assert.equal(second.id, `urn:bustle:event:${a.event.id}`);
  assert.equal(second.title["#text"], '~alice <b>bold</b> & "quoted"', "text is escaped, not markup");
  assert.equal(second.updated, a.event.ts);
  assert.equal(f.updated, b.event.ts);
});

test("atom - the filters of /api/events apply; bad ones are 400; the page links the feed", async () => {
  const shouts = (await atom("?kind=shout")).doc.feed;
  assert.ok(shouts.entry.length >= 1);
  assert.ok(shouts.entry.every((e: any) => e.category["@term"] === "shout"));
  assert.ok(shouts.link.some((l: any) => l["@rel"] === "self" && l["@href"] === "/feed.atom?kind=shout"));
  assert.equal((await atom("?node=club&limit=1")).doc.feed.entry.length, 1);
  assert.equal((await atom("?node=nowhere")).doc.feed.entry, undefined, "an empty feed is still a feed");
  assert.equal((await fetch(`${base}/feed.atom?kind=Bad!`)).status, 400);
  assert.equal((await fetch(`${base}/feed.atom?limit=0`)).status, 400);
  const page = await (await fetch(`${base}/`)).text();
  assert.match(page, /<link rel="alternate" type="application\/atom\+xml" title="[^"]*" href="\/feed\.atom">/);
  assert.match(page, /<a href="\/feed\.atom"/);
});
