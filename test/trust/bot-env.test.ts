/**
 * A bot host and the program an exec bot runs see only what their bot declares: a secret in the
 * control server's environment that the bot does not name is visible to neither; the declared
 * one reaches both (the host reads it, the program gets it under the name its section gives).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { ensureStream } from "../../cluster/stream.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { botHostEnv, declaredEnv } from "../../control/bot-env.js";
import { controlYaml, startControl, stopControl, type ControlProcess } from "../control/harness.js";

const dir = tempDir("bustle-trust-env-");
const d = dir.path;
let server: NatsServer;
let nc: NatsConnection;
let control: ControlProcess | undefined;

const UNDECLARED = "hunter2-not-for-bots";
const DECLARED = "declared-token-value";
// Writes the bot host's environment (its parent) and its own, then waits for input to end.
const SPY = `#!/bin/sh
tr '\\0' '\\n' < /proc/$PPID/environ > "$1/host.env"
env > "$1/program.env"
exec cat > /dev/null
`;

before(async () => {
  server = await startServer(d);
  nc = await connectBus({ servers: [server.url], name: "env-test", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  writeFileSync(join(d, "spy.sh"), SPY, { mode: 0o755 });
});
after(async () => {
  if (control) await stopControl(control);
  await closeBus(nc);
  await server.stop();
  dir.remove();
});

test("bot env - the declared names are every *_env key and secret env reference, not an exec env mapping's literals", () => {
  const section = {
    host: "irc.example.org",
    password_env: "IRC_PASS",
    sasl: { account: "b", password_env: "SASL_PASS" },
    channels: ["#a", { name: "#b", key_env: "CHAN_KEY" }],
    tokens: [{ name: "t", token_env: "TOKEN_1" }],
    servers: [{ rcon_password_env: "RCON" }],
    secrets: { API: { env: "API_TOKEN" }, F: { file: "/x" } },
    env: { LITERAL_env: "NOT_A_NAME_REF", OTHER: "x" },
  };
  assert.deepEqual(declaredEnv(section), ["IRC_PASS", "SASL_PASS", "CHAN_KEY", "TOKEN_1", "RCON", "API_TOKEN"]);
  const env = botHostEnv(section, {
    PATH: "/bin",
    IRC_PASS: "p",
    AWS_SECRET_ACCESS_KEY: "no",
    NOT_A_NAME_REF: "no",
    RCON: "r",
  });
  assert.deepEqual(env, { PATH: "/bin", IRC_PASS: "p", RCON: "r" });
});

test("bot env - an undeclared secret of the control server reaches neither the bot host nor its program; the declared one does", async () => {
  process.env.BUSTLE_TEST_UNDECLARED_SECRET = UNDECLARED;
  process.env.BUSTLE_TEST_DECLARED_SECRET = DECLARED;
  const bots = `  - id: spy\n    type: exec\n    exec:\n      command: [${join(d, "spy.sh")}, ${d}]\n      secrets: {API_TOKEN: {env: BUSTLE_TEST_DECLARED_SECRET}}\n`;
  const file = join(d, "control.yaml");
  writeFileSync(file, controlYaml({ node: "town", urls: [server.url], stateDir: join(d, "state"), bots }));
  try {
    control = startControl(file, join(d, "control.log"));
  } finally {
    delete process.env.BUSTLE_TEST_UNDECLARED_SECRET;
    delete process.env.BUSTLE_TEST_DECLARED_SECRET;
  }
  await waitFor(
    () => existsSync(join(d, "program.env")) && readFileSync(join(d, "program.env"), "utf8").includes("API_TOKEN="),
    30_000,
    "the spy program to write its environment",
  );
  const host = readFileSync(join(d, "host.env"), "utf8");
  const program = readFileSync(join(d, "program.env"), "utf8");
  // The control server itself has both (the test's own environment is inherited by it).
  const controlEnv = readFileSync(`/proc/${control.pid}/environ`, "utf8");
  assert.ok(controlEnv.includes(UNDECLARED), "the control server holds the undeclared secret");
  assert.ok(!host.includes(UNDECLARED), "the bot host does not");
  assert.ok(!program.includes(UNDECLARED), "the program does not");
  assert.match(
    host,
    new RegExp(`^BUSTLE_TEST_DECLARED_SECRET=${DECLARED}$`, "m"),
    "the host reads the declared secret",
  );
  assert.match(program, new RegExp(`^API_TOKEN=${DECLARED}$`, "m"), "the program gets it under its own name");
  assert.doesNotMatch(program, /BUSTLE_TEST_DECLARED_SECRET/, "and not under the control server's name");
  assert.match(host, /^PATH=/m);
});
