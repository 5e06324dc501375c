/**
 * End to end under the control server: `bustle-control serve` runs the irc bot from control.yaml
 * (through the registry and the bot host), events from the stream reach the channel, halt keeps
 * the bot in the channel but silent, and the channel's hum comes back as events.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleep, waitFor } from "../../../cluster/wait-for.js";
import type { Observer } from "../../fixtures/ii-observer.js";
import { cli, controlYaml, publish, startControl, stopControl, type ControlProcess } from "../../control/harness.js";
import { observe, startBench, stopBench, streamEvents, type Bench } from "./harness.js";

const CH = "#bustle";
let b: Bench;
let obs: Observer;
let control: ControlProcess | undefined;
let file: string;

before(async () => {
  b = await startBench();
  obs = await observe(b, CH);
  file = join(b.dir.path, "control.yaml");
  const bot = [
    `  - id: irc-town`,
    `    type: irc`,
    `    kinds: [update]`,
    `    format: "{node}: {text}"`,
    `    irc:`,
    `      host: 127.0.0.1`,
    `      port: ${b.ircd.port}`,
    `      tls: false`,
    `      nick: townbot`,
    `      channels: ["${CH}"]`,
    `      listen: {window: 1s, text: "you hear faint noise in the chat room"}`,
    ``,
  ].join("\n");
  writeFileSync(
    file,
    controlYaml({
      node: "town",
      urls: [b.nats.url],
      stateDir: join(b.dir.path, "control-state"),
      bots: bot,
      extra: "supervise: {heartbeat: 500ms}\nlease: {ttl: 3s, grace: 200ms}\n",
    }),
  );
  control = startControl(file, join(b.dir.path, "control.log"));
});
after(async () => {
  if (process.env.BUSTLE_TEST_LOG) console.log(control?.log());
  if (control) await stopControl(control);
  await stopBench(b);
});

const said = () => obs.said(CH, "townbot");

test("irc under control - events from the stream reach the channel", async () => {
  await waitFor(
    () => obs.seen(CH).some((l) => l.text.startsWith("townbot(") && /joined/.test(l.text)),
    30_000,
    `townbot in ${CH}`,
  );
  await waitFor(
    async () => {
      const r = await cli(["status", "irc-town", "--json", "--config", file]);
      return r.code === 0 && (JSON.parse(r.stdout) as Array<{ state: string }>)[0]?.state === "running";
    },
    15_000,
    "irc-town running in status",
  );
  await publish(b.nc, "hello from the stream");
  await waitFor(() => said().includes("zia: hello from the stream"), 15_000, "the event in the channel");
});

test("irc under control - halt keeps the bot in the channel but silent; resume speaks again", async () => {
  const h = await cli(["halt", "irc-town", "--config", file]);
  assert.equal(h.code, 0, h.stderr);
  await publish(b.nc, "while halted");
  await sleep(3_000);
  assert.ok(!said().some((l) => l.includes("while halted")), "nothing said while halted");
  assert.equal(obs.sawQuit("townbot"), false, "still connected");
  const r = await cli(["resume", "irc-town", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  await publish(b.nc, "after resume");
  await waitFor(() => said().includes("zia: after resume"), 15_000, "the next event");
});

test("irc under control - channel chatter comes back as a chat event from the bot", async () => {
  await obs.say(CH, "anyone around?");
  const [e] = await waitFor(
    async () => {
      const list = await streamEvents(b.nc, "irc-town");
      return list.length ? list : undefined;
    },
    15_000,
    "a chat event from irc-town",
  );
  assert.equal(e!.kind, "chat");
  assert.equal(e!.node, "town");
  assert.equal(e!.text, "you hear faint noise in the chat room");
  await sleep(1_000);
  assert.ok(!said().some((l) => l.includes("noise")), "its own event is not echoed back into the channel");
});

test("irc under control - stopping the control server sends a clean QUIT", async () => {
  await stopControl(control!);
  control = undefined;
  await waitFor(() => obs.sawQuit("townbot"), 10_000, "townbot's QUIT");
  assert.ok(!obs.sawQuit("townbot", /Excess Flood|Ping timeout|Connection reset/i));
});
