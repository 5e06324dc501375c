/**
 * The config schema machinery (cluster/config/schema.ts) through the loader, as a user meets it:
 * every problem at once, each as `file:line path: message`, typos with a suggestion, defaults
 * filled in, durations in milliseconds, and a frozen result.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../cluster/config/load.js";
import {
  array,
  bool,
  duration,
  formatPath,
  int,
  INVALID,
  number,
  object,
  oneOf,
  optional,
  record,
  refine,
  string,
  type Path,
  type Schema,
} from "../../cluster/config/schema.js";
import { ConfigError } from "../../cluster/errors.js";

const bots = array(
  object({
    id: string({ pattern: /^[a-z][a-z0-9-]*$/, describe: "a bot id (lower case letters, digits, dashes)" }),
    type: oneOf(["irc", "web"]),
    enabled: optional(bool(), true),
    irc: optional(
      object({
        host: string({ min: 1 }),
        port: optional(int({ min: 1, max: 65535 }), 6667),
        channels: optional(array(string({ min: 1 }), { min: 1 }), ["#tildetown"]),
      }),
    ),
  }),
  { max: 4 },
);

const schema = object({
  node: string({ min: 1 }),
  nats: optional(
    object({
      servers: optional(array(string()), () => ["nats://127.0.0.1:4222"]),
      timeout: optional(duration({ min: 100 }), 2_000),
    }),
    () => ({ servers: ["nats://127.0.0.1:4222"], timeout: 2_000 }),
  ),
  rate: optional(object({ burst: optional(int({ min: 1 }), 3), per_minute: optional(number({ min: 0 }), 6) }), {
    burst: 3,
    per_minute: 6,
  }),
  env: optional(record(string(), string({ pattern: /^[A-Z_][A-Z0-9_]*$/, describe: "an environment variable name" }))),
  bots: optional(bots, []),
});

/** The problems parseConfig reports for `yaml`, one per line (it must reject it). */
function problems(yaml: string, s: Schema<unknown> = schema): string[] {
  try {
    parseConfig(yaml, "control.yaml", s);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
    assert.equal(err.message, err.problems.join("\n"), "the message is the problems, one per line");
    return [...err.problems];
  }
  assert.fail("the config was accepted");
}

test("schema - an unknown key is named at its own line with a did-you-mean and the known keys", () => {
  assert.deepEqual(problems("node: town\nnats:\n  servres: [nats://a:4222]\n"), [
    'control.yaml:3 nats.servres: unknown key (did you mean "servers"?); known keys: servers, timeout',
  ]);
  // Nothing close: no guess, still the list.
  assert.deepEqual(problems("node: town\ncolour: blue\n"), [
    "control.yaml:2 colour: unknown key; known keys: node, nats, rate, env, bots",
  ]);
});

test("schema - a wrong value names its path in a list, what was expected and what was given", () => {
  const yaml = `node: town
bots:
  - {id: a, type: irc, irc: {host: irc.example}}
  - {id: b, type: web}
  - id: c
    type: irc
    irc:
      host: irc.example
      port: "6667x"
`;
  assert.deepEqual(problems(yaml), ['control.yaml:9 bots[2].irc.port: must be an integer 1–65535, got "6667x"']);
});

test("schema - every problem at once, in file order, each at its line", () => {
  const yaml = `node: ""
nats:
  timeout: soon
rate: {burst: 0, per_minute: -1}
bots:
  - id: Bad_Id
    type: matrix
    enabled: "yes"
`;
  assert.deepEqual(problems(yaml), [
    'control.yaml:1 node: must be a string, got ""',
    'control.yaml:3 nats.timeout: must be a duration like "500ms", "10s", "10m" or "1h" of at least 100ms, got "soon"',
    "control.yaml:4 rate.burst: must be an integer ≥ 1, got 0",
    "control.yaml:4 rate.per_minute: must be a number, got -1",
    'control.yaml:6 bots[0].id: must be a bot id (lower case letters, digits, dashes), got "Bad_Id"',
    'control.yaml:7 bots[0].type: must be one of irc, web, got "matrix"',
    'control.yaml:8 bots[0].enabled: must be true or false, got "yes"',
  ]);
});

test("schema - a missing required key is reported at the mapping that lacks it", () => {
  assert.deepEqual(problems("nats: {}\n"), ["control.yaml:1 node: is required (a string)"]);
  assert.deepEqual(problems("node: town\nbots:\n  - type: irc\n    irc: {port: 1}\n"), [
    "control.yaml:3 bots[0].id: is required (a bot id (lower case letters, digits, dashes))",
    "control.yaml:4 bots[0].irc.host: is required (a string)",
  ]);
});

test("schema - defaults fill absent keys, an empty section and a null value; each result gets its own copy", () => {
  const a = parseConfig("node: town\nbots:\n  - {id: a, type: irc, irc: {host: h}}\n", "c.yaml", schema);
  assert.deepEqual(a.nats, { servers: ["nats://127.0.0.1:4222"], timeout: 2_000 });
  assert.deepEqual(a.rate, { burst: 3, per_minute: 6 });
  assert.equal(a.env, undefined, "an optional key without a default stays absent");
  assert.deepEqual(a.bots, [
    { id: "a", type: "irc", enabled: true, irc: { host: "h", port: 6667, channels: ["#tildetown"] } },
  ]);
  // `nats:` with nothing under it is an empty mapping: its own defaults apply.
  const b = parseConfig("node: town\nnats:\nrate: {burst: 5}\n", "c.yaml", schema);
  assert.deepEqual(b.nats, { servers: ["nats://127.0.0.1:4222"], timeout: 2_000 });
  assert.deepEqual(b.rate, { burst: 5, per_minute: 6 });
  // A null leaf that has a default takes the default.
  assert.equal(parseConfig("node: town\nrate: {burst: null}\n", "c.yaml", schema).rate!.burst, 3);
  // Value defaults are copied, not shared between configs.
  assert.notEqual(a.rate, parseConfig("node: town\n", "c.yaml", schema).rate);
});

test("schema - the loaded config is deeply frozen", () => {
  const c = parseConfig("node: town\nbots:\n  - {id: a, type: irc, irc: {host: h}}\n", "c.yaml", schema);
  assert.ok(
    Object.isFrozen(c) &&
      Object.isFrozen(c.bots) &&
      Object.isFrozen(c.bots![0]) &&
      Object.isFrozen(c.bots![0]!.irc!.channels),
  );
  assert.throws(() => ((c as { node: string }).node = "elsewhere"), TypeError);
});

test("schema - durations: units ms s m h d, decimals and spaces, a plain number is milliseconds, limits hold", () => {
  const d = object({ t: duration({ min: 100, max: 86_400_000 }) });
  const ms = (t: string) => parseConfig(`t: ${t}`, "d.yaml", d).t;
  assert.equal(ms("500ms"), 500);
  assert.equal(ms('" 1.5s "'), 1_500);
  assert.equal(ms("10m"), 600_000);
  assert.equal(ms("1h"), 3_600_000);
  assert.equal(ms("1d"), 86_400_000);
  assert.equal(ms("250"), 250, "already milliseconds (what the bot host re-validates)");
  for (const bad of ["10 minutes", "1w", "-5s", "99ms", "2d", "s", "true"]) {
    assert.equal(problems(`t: ${bad}`, d).length, 1, `${bad} is refused`);
  }
  assert.match(
    problems("t: 1w", d)[0]!,
    /^control\.yaml:1 t: must be a duration like "500ms", "10s", "10m" or "1h" of at least 100ms, got "1w"$/,
  );
});

test("schema - lists and free mappings check their length, keys and entries", () => {
  assert.deepEqual(problems("node: town\nbots: {id: a}\n"), ['control.yaml:2 bots: must be a list, got {"id":"a"}']);
  const five = Array.from({ length: 5 }, (_, i) => `  - {id: b${i}, type: web}`).join("\n");
  assert.deepEqual(problems(`node: town\nbots:\n${five}\n`), ["control.yaml:3 bots: must have at most 4 entries"]);
  assert.deepEqual(problems("node: town\nbots:\n  - {id: a, type: irc, irc: {host: h, channels: []}}\n"), [
    "control.yaml:3 bots[0].irc.channels: must have at least 1 entry",
  ]);
  assert.deepEqual(problems("node: town\nenv:\n  GOOD: 1\n  bad-name: x\n"), [
    "control.yaml:3 env.GOOD: must be a string, got 1",
    'control.yaml:4 env.bad-name: must be an environment variable name, got "bad-name"',
  ]);
  assert.deepEqual(problems("node: town\nenv: [A]\n"), ['control.yaml:2 env: must be a mapping, got ["A"]']);
});

test("schema - a cross-field rule runs once the shape is right, and reports at the path it names", () => {
  const range = refine(object({ low: int(), high: int() }), (v, report, path) => {
    if (v.low > v.high) report([...path, "low"], `must not be above high (${v.high})`);
  });
  const s = object({ range });
  assert.deepEqual(parseConfig("range: {low: 1, high: 2}", "r.yaml", s), { range: { low: 1, high: 2 } });
  assert.deepEqual(problems("range:\n  low: 5\n  high: 2\n", s), [
    "control.yaml:2 range.low: must not be above high (2)",
  ]);
  // A shape problem stops there: the rule does not see a half-checked value.
  assert.deepEqual(problems("range: {low: x, high: 2}", s), ['control.yaml:1 range.low: must be an integer, got "x"']);
});

test("schema - YAML syntax errors and duplicate keys are reported with their line before any schema check", () => {
  assert.match(problems("node: town\nnats: {servers: [a\n")[0]!, /^control\.yaml:\d+: YAML syntax error: /);
  const dup = problems("node: town\nnode: club\n");
  assert.equal(dup.length, 1);
  assert.match(dup[0]!, /^control\.yaml:2: YAML syntax error: Map keys must be unique/);
});

test("schema - long values are shortened in messages; paths read as written", () => {
  const long = "x".repeat(200);
  const [p] = problems(`node: town\nrate: {burst: "${long}"}\n`);
  assert.ok(p!.endsWith(`got "${"x".repeat(56)}...`), p);
  assert.equal(formatPath(["bots", 2, "irc", "port"]), "bots[2].irc.port");
  assert.equal(formatPath([]), "(top level)");
  assert.equal(formatPath([0, "id"] as Path), "[0].id");
});

test("schema - check() used directly returns INVALID and reports, without the loader", () => {
  const seen: Array<[string, string, boolean | undefined]> = [];
  const r = object({ port: int({ min: 1, max: 65535 }) }).check({ prot: 1 }, ["web"], {
    report: (path, message, onKey) => void seen.push([formatPath(path), message, onKey]),
  });
  assert.equal(r, INVALID);
  assert.deepEqual(seen, [
    ["web.prot", 'unknown key (did you mean "port"?); known keys: port', true],
    ["web.port", "is required (an integer 1–65535)", undefined],
  ]);
});
