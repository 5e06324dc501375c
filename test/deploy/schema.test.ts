import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { buildRoot } from "../support/paths.js";
import { BUSTLE_CLUSTER, BUSTLE_CONTROL, BUSTLED, runCliSync } from "../support/cli.js";
import { tempDir } from "../../cluster/temp.js";

// One source of truth: the JSON Schemas are generated from the schemas the loaders validate
// with, and both must agree — every example and generated config passes both, a typo fails both.
const CHECKOUT = join(buildRoot, "..");
const tmp = tempDir("bustle-schema-");
after(() => tmp.remove());

const emitted = (prog: string) => {
  const r = runCliSync(prog, ["schema"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const nodeSchema = emitted(BUSTLED);
const controlSchema = emitted(BUSTLE_CONTROL);
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validNode = ajv.compile(nodeSchema);
const validControl = ajv.compile(controlSchema);

const errorsOf = (v: typeof validNode) => ajv.errorsText(v.errors);
const nodeCheck = (file: string) => runCliSync(BUSTLED, ["check", "--config", file]);
const controlCheck = (file: string) => runCliSync(BUSTLE_CONTROL, ["check", "--config", file]);

test("schema - both are draft 2020-12 and the copies in deploy/schema are what the programs print", () => {
  for (const [name, schema] of [
    ["node", nodeSchema],
    ["control", controlSchema],
  ] as const) {
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.deepEqual(
      JSON.parse(readFileSync(join(CHECKOUT, "deploy", "schema", `${name}.schema.json`), "utf8")),
      schema,
      `deploy/schema/${name}.schema.json is stale: regenerate it: npm run schema`,
    );
  }
});

test("schema - the example configs name their schema and pass it and the loader", () => {
  for (const name of ["node", "control"]) {
    const text = readFileSync(join(CHECKOUT, "deploy", "examples", `${name}.yaml`), "utf8");
    assert.equal(text.split("\n")[0], `# yaml-language-server: $schema=../schema/${name}.schema.json`);
  }
  const node = join(CHECKOUT, "deploy", "examples", "node.yaml");
  assert.ok(validNode(parse(readFileSync(node, "utf8")) ?? {}), errorsOf(validNode));
  assert.equal(nodeCheck(node).code, 0, nodeCheck(node).stderr);
  const control = parse(readFileSync(join(CHECKOUT, "deploy", "examples", "control.yaml"), "utf8"));
  assert.ok(validControl(control), errorsOf(validControl));
});

test("schema - every config bustle-cluster init generates passes the schema and the loader", () => {
  const out = join(tmp.path, "fed");
  const init = runCliSync(BUSTLE_CLUSTER, [
    "init",
    "--out",
    out,
    "--node",
    "town=127.0.0.1:4222:6222",
    "--node",
    "club=127.0.0.1:4223:6223",
    "--node",
    "envs=127.0.0.1:4224:6224",
    "--member",
    "late",
  ]);
  assert.equal(init.code, 0, init.stderr);
  let nodes = 0;
  let controls = 0;
  for (const id of readdirSync(out)) {
    const nodeFile = join(out, id, "node.yaml");
    if (existsSync(nodeFile)) {
      nodes++;
      assert.ok(validNode(parse(readFileSync(nodeFile, "utf8"))), `${id}/node.yaml: ${errorsOf(validNode)}`);
      assert.equal(nodeCheck(nodeFile).code, 0, nodeCheck(nodeFile).stderr);
    }
    const controlFile = join(out, id, "control.yaml");
    if (existsSync(controlFile)) {
      controls++;
      assert.ok(
        validControl(parse(readFileSync(controlFile, "utf8"))),
        `${id}/control.yaml: ${errorsOf(validControl)}`,
      );
      assert.equal(controlCheck(controlFile).code, 0, controlCheck(controlFile).stderr);
    }
  }
  assert.equal(nodes, 4);
  assert.ok(controls >= 3, "a control.yaml per core node");
});

test("schema - a typo fails both the schema and the loader", () => {
  const node = join(tmp.path, "typo-node.yaml");
  writeFileSync(node, "node: {id: town}\nspool:\n  rat: {burst: 3}\n");
  assert.equal(validNode(parse(readFileSync(node, "utf8"))), false);
  assert.match(errorsOf(validNode), /must NOT have additional properties/);
  const n = nodeCheck(node);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /typo-node\.yaml:3 spool\.rat: unknown key \(did you mean "rate"\?\)/);

  const bad = {
    "bad-port": "node: {id: town, name: 5}\n",
    "bad-duration": "node: {id: town}\nambient: {window: 10 minutes}\n",
  };
  for (const [name, text] of Object.entries(bad)) {
    const f = join(tmp.path, `${name}.yaml`);
    writeFileSync(f, text);
    assert.equal(validNode(parse(text)), false, name);
    assert.equal(nodeCheck(f).code, 1, name);
  }

  for (const [name, bot] of Object.entries({
    "section typo": "{id: rec, type: exec, exec: {comand: [cat]}}",
    "bot key typo": "{id: rec, type: exec, kind: [shout], exec: {command: [cat]}}",
    "unknown type": "{id: rec, type: exek, exec: {command: [cat]}}",
  })) {
    const text = `node: town\nnats: {servers: ["nats://127.0.0.1:4222"]}\nbots:\n  - ${bot}\n`;
    const f = join(tmp.path, "typo-control.yaml");
    writeFileSync(f, text);
    assert.equal(validControl(parse(text)), false, name);
    assert.equal(controlCheck(f).code, 1, name);
  }
  // and the same file without the typo passes both
  const good = `node: town\nnats: {servers: ["nats://127.0.0.1:4222"]}\nbots:\n  - {id: rec, type: exec, kinds: [shout], exec: {command: [cat]}}\n`;
  const f = join(tmp.path, "good-control.yaml");
  writeFileSync(f, good);
  assert.ok(validControl(parse(good)), errorsOf(validControl));
  assert.equal(controlCheck(f).code, 0, controlCheck(f).stderr);
});
