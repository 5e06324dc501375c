/** Bad irc configs get one clear line each, with file, line and key, as `bustle-control check` shows them. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../../cluster/errors.js";
import { tempDir } from "../../../cluster/temp.js";
import { checkIrcConfig } from "../../../bots/irc/config.js";
import { registry } from "../../../bots/registry.js";
import { parseControlConfig } from "../../../control/config/control-config.js";
import { ircConfig } from "./harness.js";
import { BUSTLE_CONTROL, runCliSync } from "../../support/cli.js";

const dir = tempDir("bustle-irc-config-");
after(() => dir.remove());

const control = (bots: string) => `node: town
nats: {servers: ["nats://127.0.0.1:4222"]}
state: {dir: ${dir.path}/state}
bots:
${bots}`;

function problems(text: string): string[] {
  try {
    parseControlConfig(text, "control.yaml", registry, join(dir.path, "control.yaml"));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  return [];
}

test("irc config - defaults fill in and a good config passes", () => {
  const c = ircConfig({
    host: "irc.example.org",
    nick: "bustle",
    channels: ["#bustle", { name: "#secret", key_env: "K" }],
  });
  assert.equal(c.tls, true);
  assert.equal(c.tls_verify, true);
  assert.deepEqual(c.rate, { burst: 4, per: 1500, queue: 12 });
  assert.equal(c.listen.text, "you hear faint noise in the chat room");
  assert.equal(c.listen.window, 600_000);
  assert.deepEqual(c.channels, [{ name: "#bustle" }, { name: "#secret", key_env: "K" }]);
  assert.deepEqual(
    problems(
      control(`  - {id: irc-town, type: irc, irc: {host: irc.example.org, nick: bustle, channels: ["#bustle"]}}`),
    ),
    [],
  );
});

test("irc config - no channels, a bad port and a missing TLS file are each named with line and key", () => {
  const list = problems(
    control(
      [
        `  - id: irc-a`,
        `    type: irc`,
        `    irc: {host: irc.example.org, nick: bustle, channels: []}`,
        `  - id: irc-b`,
        `    type: irc`,
        `    irc: {host: irc.example.org, port: "6667x", nick: bustle, channels: ["#bustle"]}`,
        `  - id: irc-c`,
        `    type: irc`,
        `    irc: {host: irc.example.org, nick: bustle, channels: ["#bustle", "#chan key"], rate: {burst: 0}, listen: {window: soon}}`,
      ].join("\n"),
    ),
  );
  assert.deepEqual(list, [
    "control.yaml:7 bots[0].irc.channels: must have at least 1 entry",
    'control.yaml:10 bots[1].irc.port: must be an integer 1–65535, got "6667x"',
    'control.yaml:13 bots[2].irc.channels[1]: must be a channel name starting with # or & (no spaces or commas), got "#chan key"; put a key in an environment variable: {name: "#chan", key_env: VAR}',
    "control.yaml:13 bots[2].irc.rate.burst: must be an integer 1–20, got 0",
    'control.yaml:13 bots[2].irc.listen.window: must be a duration like "500ms", "10s", "10m" or "1h" of at least 1000ms, got "soon"',
  ]);
  const files = problems(
    control(
      [
        `  - id: irc-d`,
        `    type: irc`,
        `    irc:`,
        `      host: irc.example.org`,
        `      nick: bustle`,
        `      channels: ["#bustle"]`,
        `      tls_ca: ${dir.path}/missing-ca.pem`,
        `      sasl: {account: bustle, password_env: BUSTLE_TEST_UNSET_SASL}`,
      ].join("\n"),
    ),
  );
  assert.deepEqual(files, [
    `control.yaml:11 bots[0].irc.tls_ca: cannot read ${dir.path}/missing-ca.pem (no such file)`,
    "control.yaml:12 bots[0].irc.sasl.password_env: environment variable BUSTLE_TEST_UNSET_SASL is not set",
  ]);
});

test("irc config - validating a validated section gives the same section (the bot host re-checks it)", () => {
  const once = ircConfig({
    host: "h",
    nick: "n",
    channels: ["#a", { name: "#b", key_env: "K" }],
    rate: { per: "2s" },
    listen: { window: "1m" },
    rejoin_delay: "5s",
  });
  assert.deepEqual(ircConfig(once as unknown as Record<string, unknown>), once);
});

test("irc config - cross-key rules", () => {
  assert.throws(
    () => ircConfig({ host: "h", nick: "n", channels: ["#a", "#A"], tls: false, tls_ca: "/x" }),
    (err: ConfigError) => {
      assert.deepEqual(err.problems, [
        "test.yaml:1 tls_ca: only makes sense with tls: true",
        "test.yaml:1 channels[1]: #A is listed twice",
      ]);
      return true;
    },
  );
  const c = ircConfig({ host: "h", nick: "n", channels: [{ name: "#k", key_env: "BUSTLE_TEST_UNSET_KEY" }] });
  assert.deepEqual(checkIrcConfig(c, {}), [
    "channels[0].key_env: environment variable BUSTLE_TEST_UNSET_KEY is not set",
  ]);
});

test("irc config - bustle-control check prints the problem and exits 1", () => {
  const file = join(dir.path, "control.yaml");
  writeFileSync(
    file,
    control(
      `  - {id: irc-town, type: irc, irc: {host: irc.example.org, port: 70000, nick: bustle, channels: ["#bustle"]}}`,
    ),
  );
  const r = runCliSync(BUSTLE_CONTROL, ["check", "--config", file]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /control\.yaml:5 bots\[0\]\.irc\.port: must be an integer 1–65535, got 70000/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});
