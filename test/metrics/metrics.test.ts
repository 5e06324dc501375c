import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { freePort } from "../../cluster/net.js";
import { RelayProcess, writeRelayConfig } from "../../relay/local-node.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import {
  recorderBot,
  startControl,
  statusJson,
  stopControl,
  writeRecorder,
  type ControlProcess,
} from "../control/harness.js";
import { appendSpool, makeHome } from "../relay/support.js";

const dir = tempDir("bustle-metrics-");
let relay: RelayProcess | undefined;
let control: ControlProcess | undefined;
after(async () => {
  if (control) await stopControl(control);
  await relay?.stop();
  dir.remove();
});

/** One sample's value from a /metrics scrape, read with a real Prometheus text parser; undefined when absent. */
async function scrape(url: string): Promise<(name: string, labels?: Record<string, string>) => number | undefined> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await res.text());
  return (name, labels = {}) => {
    const fam = families.find((f) => f.name === name);
    const m = fam?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
    return m?.value === undefined ? undefined : Number(m.value);
  };
}

async function until(
  url: string,
  what: string,
  ok: (get: Awaited<ReturnType<typeof scrape>>) => boolean,
): Promise<void> {
  await waitFor(async () => ok(await scrape(url)), 30_000, what);
}

test("metrics - bustled's and bustle-control's counters move with real events; /healthz says they are up", async () => {
  const [natsPort, relayMetrics, controlMetrics] = [await freePort(), await freePort(), await freePort()];
  const files = writeRelayConfig(
    join(dir.path, "town"),
    "town",
    { port: natsPort },
    {
      metrics: { listen: `127.0.0.1:${relayMetrics}` },
      ambient: { enabled: true, window: "1s" },
    },
  );
  relay = await new RelayProcess(files).start();
  const url = `http://127.0.0.1:${relayMetrics}`;
  await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 30_000, "bustled's /healthz to say ok");
  const health = (await (await fetch(`${url}/healthz`)).json()) as { ok: boolean; node: string };
  assert.deepEqual([health.ok, health.node], [true, "town"]);
  const get = await scrape(url);
  assert.equal(get("bustle_spool_lines_total"), 0);
  assert.equal(get("bustle_events_published_total"), 0);
  assert.equal(get("bustle_outbox_pending"), 0);

  // Three spool lines and one over spool.max_line_bytes.
  makeHome(files.homes, "alice");
  appendSpool(files.homes, "alice", ["one", "two", JSON.stringify({ kind: "shout", text: "three" }), "x".repeat(9000)]);
  await until(
    url,
    "three spool events published and written, one rejected",
    (g) =>
      g("bustle_spool_lines_total") === 3 &&
      g("bustle_events_published_total") === 3 &&
      g("bustle_log_events_total") === 3 &&
      g("bustle_rejected_total", { reason: "line-too-long" }) === 1 &&
      g("bustle_outbox_pending") === 0 &&
      g("bustle_log_lag_events") === 0,
  );

  // Ambient activity: a page in public_html.
  mkdirSync(join(files.homes, "alice", "public_html"), { recursive: true });
  writeFileSync(join(files.homes, "alice", "public_html", "index.html"), "<p>hi</p>\n");
  await until(
    url,
    "an ambient publish event counted",
    (g) => (g("bustle_ambient_events_total", { kind: "publish" }) ?? 0) >= 1,
  );
  await until(
    url,
    "every event published also written (one node)",
    (g) =>
      (g("bustle_events_published_total") ?? 0) >= 4 &&
      g("bustle_events_published_total") === g("bustle_log_events_total") &&
      g("bustle_log_lag_events") === 0,
  );

  // The control server on the same node, with one exec bot.
  writeRecorder(dir.path);
  const controlFile = join(dir.path, "control.yaml");
  writeFileSync(
    controlFile,
    `nats: {config: ${files.config}}\nstate: {dir: ${join(dir.path, "control-state")}}\nmetrics: {listen: "127.0.0.1:${controlMetrics}"}\nbots:\n${recorderBot(dir.path, "rec")}`,
  );
  control = startControl(controlFile, join(dir.path, "control.log"));
  const curl = `http://127.0.0.1:${controlMetrics}`;
  await until(curl, "the bot running", (g) => g("bustle_bot_state", { bot: "rec", state: "running" }) === 1);
  // Running is not yet reading the stream: events published before that do not reach it.
  await waitFor(
    async () => (await statusJson(controlFile, "rec").catch(() => []))[0]?.feeding === true,
    30_000,
    "the bot reading the stream",
  );
  assert.equal((await scrape(curl))("bustle_bot_restarts", { bot: "rec" }), 0);
  assert.equal((await fetch(`${curl}/healthz`)).status, 200);
  const before = (await scrape(curl))("bustle_bot_events_delivered_total", { bot: "rec" }) ?? 0;
  appendSpool(files.homes, "alice", ["four", "five"]);
  await until(
    curl,
    "two more events delivered to the bot",
    (g) => (g("bustle_bot_events_delivered_total", { bot: "rec" }) ?? 0) >= before + 2,
  );
});

test("metrics - a metrics.listen that cannot be bound is one clear line at start-up", async () => {
  const files = writeRelayConfig(
    join(dir.path, "bad"),
    "bad",
    { port: await freePort() },
    { metrics: { listen: "203.0.113.1:9464" } },
  );
  const r = new RelayProcess(files);
  await r.start(false);
  assert.equal(await r.waitExit(), 1);
  assert.match(
    readFileSync(files.daemonLog, "utf8"),
    /^bustled: metrics\.listen 203\.0\.113\.1:9464: cannot listen \(EADDRNOTAVAIL\)$/m,
  );
});
