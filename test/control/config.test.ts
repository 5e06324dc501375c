import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../cluster/temp.js";
import { ConfigError } from "../../cluster/errors.js";
import { registry } from "../../bots/registry.js";
import { parseControlConfig } from "../../control/config/control-config.js";
import { BUSTLE_CONTROL, runCliSync } from "../support/cli.js";

const dir = tempDir("bustle-control-config-");
process.on("exit", () => dir.remove());

/** Runs `bustle-control check` on YAML text; returns exit code and stderr. */
function check(
  name: string,
  yaml: string,
  env: Record<string, string> = {},
): { code: number | null; out: string; err: string } {
  const file = join(dir.path, name);
  writeFileSync(file, yaml);
  const r = runCliSync(BUSTLE_CONTROL, ["check", "--config", file], { env: { ...process.env, ...env } });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const head = `node: town\nnats: {servers: ["nats://127.0.0.1:4222"]}\n`;

test("control config - a good file passes check with defaults filled in", () => {
  const r = check("good.yaml", `${head}bots:\n  - id: echo\n    type: exec\n    exec: {command: [cat]}\n`);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /ok — node town, 1 bot\(s\): echo \(exec\)/);
  const c = parseControlConfig(
    `${head}bots:\n  - id: echo\n    type: exec\n    exec: {command: [cat]}\n`,
    "control.yaml",
    registry,
  );
  assert.deepEqual(c.bots[0]!.common.subscribe, ["bustle.ev.>"]);
  assert.equal(c.bots[0]!.common.format, "{text}");
  assert.equal(c.bots[0]!.common.enabled, true);
  assert.ok(Object.isFrozen(c.bots[0]!.common));
});

const bad: Array<[string, string, RegExp, Record<string, string>?]> = [
  [
    "syntax error",
    `${head}bots:\n  - id: "x\n`,
    /^bustle-control: .*syntax-error\.yaml:5: YAML syntax error: Missing closing "quote$/,
  ],
  [
    "unknown key",
    `${head}bots:\n  - id: echo\n    type: exec\n    exec: {command: [cat], comand: [x]}\n`,
    /unknown-key\.yaml:6 bots\[0\]\.exec\.comand: unknown key \(did you mean "command"\?\)/,
  ],
  [
    "wrong type",
    `${head}bots:\n  - id: echo\n    type: exec\n    enabled: "yes"\n    exec: {command: [cat]}\n`,
    /wrong-type\.yaml:6 bots\[0\]\.enabled: must be true or false, got "yes"$/,
  ],
  [
    "duplicate id",
    `${head}bots:\n  - id: echo\n    type: exec\n    exec: {command: [cat]}\n  - id: echo\n    type: exec\n    exec: {command: [cat]}\n`,
    /duplicate-id\.yaml:7 bots\[1\]\.id: duplicate bot id "echo" \(already used by bots\[0\]\)/,
  ],
  [
    "unknown type",
    `${head}bots:\n  - id: echo\n    type: telegraph\n`,
    /unknown-type\.yaml:5 bots\[0\]\.type: unknown bot type "telegraph"; known types: .*exec/,
  ],
  [
    "missing secret",
    `${head}bots:\n  - id: echo\n    type: exec\n    exec:\n      command: [cat]\n      secrets: {TOKEN: {env: BUSTLE_TEST_UNSET_TOKEN}}\n`,
    /missing-secret\.yaml:8 bots\[0\]\.exec\.secrets\.TOKEN\.env: environment variable BUSTLE_TEST_UNSET_TOKEN is not set$/,
  ],
  [
    "missing nats password",
    `node: town\nnats: {servers: ["nats://127.0.0.1:4222"], user: town, password_env: BUSTLE_TEST_UNSET_PW}\n`,
    /missing-nats-password\.yaml:2 nats\.password_env: environment variable BUSTLE_TEST_UNSET_PW is not set$/,
  ],
  [
    "missing program",
    `${head}bots:\n  - id: echo\n    type: exec\n    exec: {command: [no-such-program-here]}\n`,
    /missing-program\.yaml:6 bots\[0\]\.exec\.command\[0\]: program "no-such-program-here" not found on PATH$/,
  ],
  [
    "bad template",
    `${head}bots:\n  - id: echo\n    type: exec\n    format: "{txet}"\n    exec: {command: [cat]}\n`,
    /bad-template\.yaml:6 bots\[0\]\.format: unknown template field \{txet\}/,
  ],
  [
    "bad id",
    `${head}bots:\n  - id: Echo.Bot\n    type: exec\n    exec: {command: [cat]}\n`,
    /bad-id\.yaml:4 bots\[0\]\.id: must be a bot id/,
  ],
  [
    "bad subscribe",
    `${head}bots:\n  - id: echo\n    type: exec\n    subscribe: ["other.>"]\n    exec: {command: [cat]}\n`,
    /bad-subscribe\.yaml:6 bots\[0\]\.subscribe\[0\]: must be under bustle\.ev/,
  ],
  ["no node", `nats: {servers: ["nats://127.0.0.1:4222"]}\n`, /no-node\.yaml:1 node: is required/],
];

for (const [what, yaml, expected, env] of bad) {
  test(`control config - ${what} gives one clear message naming the place (exit 1)`, () => {
    const r = check(`${what.replace(/ /g, "-")}.yaml`, yaml, env);
    assert.equal(r.code, 1, `exit code; stderr: ${r.err}`);
    const lines = r.err.trimEnd().split("\n");
    assert.equal(lines.length, 1, `one line: ${r.err}`);
    assert.match(lines[0]!, expected);
    assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
  });
}

test("control config - every problem is reported at once", () => {
  const yaml = `${head}bots:\n  - id: a\n    type: exec\n    exec: {command: [cat], x: 1}\n  - id: a\n    type: nope\n  - {id: c, type: exec, enabled: 3, exec: {command: [cat]}}\n`;
  assert.throws(
    () => parseControlConfig(yaml, "control.yaml", registry),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 4, err.problems.join("\n"));
      assert.match(
        err.problems.join("\n"),
        /bots\[0\]\.exec\.x: unknown key[\s\S]*bots\[1\]\.id: duplicate[\s\S]*bots\[1\]\.type: unknown bot type[\s\S]*bots\[2\]\.enabled/,
      );
      return true;
    },
  );
});

test("control config - nats.config takes the node id and connection from a node.yaml", () => {
  writeFileSync(
    join(dir.path, "node.yaml"),
    `node: {id: zia}\nnats: {servers: ["nats://127.0.0.1:4333"], user: zia, password_env: BUSTLE_TEST_PW}\nstate: {dir: ${dir.path}/state}\n`,
  );
  process.env.BUSTLE_TEST_PW = "sekrit";
  const c = parseControlConfig(
    `nats: {config: node.yaml}\nbots: []\n`,
    "control.yaml",
    registry,
    join(dir.path, "control.yaml"),
  );
  assert.equal(c.node, "zia");
  assert.deepEqual(c.bus.servers, ["nats://127.0.0.1:4333"]);
  assert.equal(c.bus.user, "zia");
  assert.equal(c.bus.pass, "sekrit");
  assert.equal(c.stateDir, join(dir.path, "state", "control"));
  assert.throws(
    () =>
      parseControlConfig(`nats: {config: missing.yaml}\n`, "control.yaml", registry, join(dir.path, "control.yaml")),
    /control\.yaml:1 nats\.config: cannot use missing\.yaml: .*no such file/,
  );
});

test("control config - secrets are checked only for bots this node may run", () => {
  const yaml = `${head}bots:\n  - id: elsewhere\n    type: exec\n    placement: {node: other}\n    exec: {command: [cat], secrets: {T: {env: BUSTLE_TEST_UNSET_TOKEN}}}\n`;
  const c = parseControlConfig(yaml, "control.yaml", registry);
  assert.equal(c.bots[0]!.common.placement?.node, "other");
});
