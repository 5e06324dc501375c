/**
 * The live page in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
 * no browser is ever downloaded). Skipped with a reason when Chromium is not installed.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { parseConfig } from "../../../cluster/config/load.js";
import { freePort } from "../../../cluster/net.js";
import { tempDir } from "../../../cluster/temp.js";
import { webSectionSchema, type WebConfig } from "../../../bots/web/config.js";
import { WebBot } from "../../../bots/web/web-bot.js";
import { common, context, feed, publishEvent, startBus, type Bus, type Feed } from "./support.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`;
const dir = tempDir();
const c = common("web-page", "web");
let bus: Bus;
let port: number;
let bot: WebBot | undefined;
let running: Feed | undefined;
let browser: Browser | undefined;
let page: Page;
const consoleErrors: string[] = [];
const dialogs: string[] = [];

async function startBot(): Promise<void> {
  const config = parseConfig(
    `{listen: "127.0.0.1:${port}", title: "tilde feed", history: 100}`,
    "control.yaml",
    webSectionSchema,
  ) as WebConfig;
  bot = new WebBot(context(bus, c, config, dir.path));
  await bot.start();
  running = await feed(bus.nc, c, bot);
}

async function stopBot(): Promise<void> {
  await running?.stop();
  await bot?.stop();
  running = bot = undefined;
}

/** Texts of the page's events, newest first. */
const shown = () => page.$$eval("#feed li .text", (els) => els.map((e) => e.textContent ?? ""));

before(async () => {
  if (skip) return;
  bus = await startBus(dir.path);
  port = await freePort();
  await startBot();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  // Records Content-Security-Policy violations (an injected inline handler would cause one).
  await page.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (e) => { (window.cspViolations ??= []).push(e.violatedDirective); });`,
  });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(`page error: ${err.message}`));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

after(async () => {
  await browser?.close();
  await stopBot();
  await bus?.close();
  dir.remove();
});

test("web page - shows events from the bus as they are published, without a reload", { skip }, async () => {
  await publishEvent(bus.nc, { text: "~alice is moving around in their home directory", kind: "activity" });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.locator('#status[data-state="live"]').waitFor({ timeout: 10_000 });
  assert.deepEqual(await shown(), ["~alice is moving around in their home directory"]);
  await publishEvent(bus.nc, { text: "~bob shouts, 'HELLO TILDES'", kind: "shout", node: "club" });
  // The page must show it within a second of the publish.
  await page.locator("#feed li .text", { hasText: "HELLO TILDES" }).waitFor({ timeout: 1_000 });
  assert.deepEqual(await shown(), ["~bob shouts, 'HELLO TILDES'", "~alice is moving around in their home directory"]);
  assert.equal(await page.locator("#feed li").first().locator(".node").textContent(), "club");
  assert.equal(await page.title(), "tilde feed");
});

test("web page - markup in event texts shows as text and runs nothing", { skip }, async () => {
  const evil = [
    `<script>alert("script ran")</script>`,
    `<img src=x onerror="alert('img ran')">`,
    `"><svg onload=alert(1)> & &amp; </li></ol><b>bold?</b>`,
  ];
  for (const text of evil) await publishEvent(bus.nc, { text });
  await page.locator("#feed li .text", { hasText: "bold?" }).waitFor({ timeout: 5_000 });
  const texts = await shown();
  for (const text of evil) assert.ok(texts.includes(text), `shown verbatim: ${text}`);
  assert.equal(
    await page.locator("#feed img, #feed script, #feed svg, #feed b").count(),
    0,
    "no element was made from event text",
  );
  assert.deepEqual(dialogs, [], "no script ran");
  assert.deepEqual(await page.evaluate("window.cspViolations ?? []"), []);
});

test("web page - the feed can be paused and resumed (nothing is lost)", { skip }, async () => {
  const pause = page.getByRole("button", { name: "Pause" });
  await pause.click();
  await publishEvent(bus.nc, { text: "while paused" });
  const resume = page.getByRole("button", { name: "Resume (1 new)" });
  await resume.waitFor({ timeout: 5_000 });
  assert.equal((await shown()).includes("while paused"), false);
  assert.equal(await resume.getAttribute("aria-pressed"), "true");
  await resume.click();
  assert.equal((await shown())[0], "while paused");
  assert.equal(await pause.getAttribute("aria-pressed"), "false");
});

test("web page - recovers after the portal restarts and shows what it missed, once each", { skip }, async () => {
  await stopBot();
  await page.locator('#status[data-state="offline"]').waitFor({ timeout: 10_000 });
  await publishEvent(bus.nc, { text: "missed while down 1" });
  await publishEvent(bus.nc, { text: "missed while down 2" });
  await startBot();
  await page.locator('#status[data-state="live"]').waitFor({ timeout: 30_000 });
  await page.locator("#feed li .text", { hasText: "missed while down 2" }).waitFor({ timeout: 5_000 });
  await publishEvent(bus.nc, { text: "back to normal" });
  await page.locator("#feed li .text", { hasText: "back to normal" }).waitFor({ timeout: 5_000 });
  const texts = await shown();
  assert.deepEqual(texts.slice(0, 3), ["back to normal", "missed while down 2", "missed while down 1"]);
  assert.equal(new Set(texts).size, texts.length, "no event shown twice");
  const seqs = await page.$$eval("#feed li", (els) => els.map((e) => Number(e.getAttribute("data-seq"))));
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => b - a),
    "newest first, in stream order",
  );
  const out = join(process.cwd(), "test-output");
  mkdirSync(out, { recursive: true });
  await page.screenshot({ path: join(out, "web-page.png"), fullPage: true });
  // Errors while the portal was down are expected (refused connections); nothing else.
  const unexpected = consoleErrors.filter(
    (e) => !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/i.test(e),
  );
  assert.deepEqual(unexpected, []);
});
