/**
 * The quakeworld bot as users run it: `bustle-control serve` with a control.yaml, the bot in
 * its own host process, a real mvdsv + ktx and a real nats-server; and `bustle-control check`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { sleep, waitFor } from "../../../cluster/wait-for.js";
import { cli, startControl, stopControl, waitFeeding, type ControlProcess } from "../../control/harness.js";
import { freeUdpPort, QwServer } from "../../fixtures/mvdsv.js";
import { publishEvent } from "../../support/bus.js";
import { gameEvents, startBus, TestPlayer, type Bus } from "./harness.js";

const RCON = "e2epass77";
process.env.QW_E2E_RCON = RCON; // inherited by the control server and its bot host
delete process.env.QW_E2E_UNSET;

const dir = tempDir("bustleqwe2e");
let bus: Bus;
let qw: QwServer;
let port: number;
let control: ControlProcess | undefined;
const players: TestPlayer[] = [];

function controlYaml(file: string, rconEnv: string): string {
  writeFileSync(
    file,
    [
      "node: town",
      `nats: {servers: ["${bus.server.url}"]}`,
      `state: {dir: ${join(dir.path, "state")}}`,
      "bots:",
      "  - id: qw-town",
      "    type: quakeworld",
      '    format: "[bustle] {text}"',
      "    quakeworld:",
      `      servers: [{host: 127.0.0.1, port: ${port}, name: qwtest, rcon_password_env: ${rconEnv}}]`,
      "      poll: 500ms",
      "      relay_contents: true",
      "",
    ].join("\n"),
  );
  return file;
}

before(async () => {
  port = await freeUdpPort();
  bus = await startBus(join(dir.path, "nats"));
  qw = await new QwServer({ dir: join(dir.path, "qw"), port, rconPassword: RCON, hostname: "qwtest" }).start();
});

after(async () => {
  await Promise.all(players.map((p) => p.stop()));
  if (control) await stopControl(control);
  await qw?.stop();
  await bus?.close();
  dir.remove();
});

test("quakeworld e2e - under bustle-control serve, shouts reach the game once and game chat reaches the stream", async () => {
  const file = controlYaml(join(dir.path, "control.yaml"), "QW_E2E_RCON");
  control = startControl(file, join(dir.path, "control.log"));
  await waitFeeding(bus.nc, ["qw-town"], 45_000);
  await waitFor(() => qw.stdout.includes("Spectator bustle connected"), 20_000, "the bot's spectator on the server");
  const watcher = new TestPlayer(port, "watcher", { spectator: true }).start();
  const alice = new TestPlayer(port, "alice").start();
  players.push(watcher, alice);
  await waitFor(() => watcher.client.joined && alice.client.joined, 15_000, "the test clients to join");
  await publishEvent(bus.nc, { kind: "shout", text: "~zoe shouts, 'FRAG ON'" });
  const line = "console: [bustle] ~zoe shouts, 'FRAG ON'";
  await waitFor(() => watcher.heard.includes(line), 20_000, "the shout in the game");
  await sleep(2_500);
  assert.equal(watcher.heard.filter((h) => h === line).length, 1, "said exactly once");
  alice.client.say("anyone for dm4?");
  const ev = await waitFor(
    async () => (await gameEvents(bus.nc, "qw-town")).find((e) => e.text === "[qwtest] alice: anyone for dm4?"),
    20_000,
    "the chat event",
  );
  assert.equal(ev.node, "town");
  assert.equal(ev.source, "qw-town");
});

test("quakeworld e2e - bustle-control check names the unset rcon password variable with file and line", async () => {
  const file = controlYaml(join(dir.path, "bad.yaml"), "QW_E2E_UNSET");
  const r = await cli(["check", "--config", file]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /bad\.yaml:\d+ bots\[0\]\.quakeworld\.servers\[0\]\.rcon_password_env: environment variable QW_E2E_UNSET is not set \(needed for qwtest\)/,
  );
});
