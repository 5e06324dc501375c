/**
 * The floors hold: no file imports a floor above it or beside it (floors.ts says which may
 * import which), and no file names a path of a floor it may not import ("relay/bin/bustled.js"
 * in cluster/ is a dependency the import graph does not show). Reads the TypeScript sources.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { ALLOWED, FLOORS, MAY_IMPORT, PUBLISHED, type Floor } from "./floors.js";

/** The checkout: the first folder above the compiled test that holds package.json. */
function sourceRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "cluster"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("no checkout (package.json beside cluster/) above this test");
    dir = up;
  }
  return dir;
}

const ROOT = sourceRoot();
const CHECKED: Floor[] = FLOORS.filter((f) => f !== "test" && f !== "types");

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(p));
    else if (/\.m?ts$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** The top-level folder of a path inside the checkout (posix, relative to the root). */
const floorOf = (rel: string): string => rel.split("/")[0]!;
const posix = (p: string) => p.split(sep).join("/");

interface Found {
  specifiers: string[];
  literals: string[];
}

/** Every module a file imports (static, dynamic, type-only, re-exports) and every other string literal. */
function scan(name: string, text: string): Found {
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true);
  const found: Found = { specifiers: [], literals: [] };
  const specifierNodes = new Set<ts.Node>();
  const visit = (node: ts.Node): void => {
    let spec: ts.Node | undefined;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
      spec = node.moduleSpecifier;
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      spec = node.arguments[0];
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) spec = node.argument.literal;
    if (spec && ts.isStringLiteralLike(spec)) {
      found.specifiers.push(spec.text);
      specifierNodes.add(spec);
    }
    if (
      (ts.isStringLiteralLike(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node)) &&
      !specifierNodes.has(node)
    ) {
      found.literals.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const mayReach = (from: Floor, to: string) => to === from || (MAY_IMPORT[from] as readonly string[]).includes(to);
const published = (from: Floor, target: string) => PUBLISHED.some((p) => p.to === from && p.module === target);
const allowed = (file: string, target: string) => ALLOWED.some((a) => a.file === file && a.imports === target);

/** A path like "relay/bin/bustled.js" or "../control/x": a floor name followed by a path segment. */
const PATH_OF = new RegExp(`(?:^|[^\\w.-])(${FLOORS.join("|")})/[\\w.-]`, "g");

/**
 * The violations in one file (`file` relative to the checkout, posix): relative imports that
 * leave its floor's allowance, and string literals naming a path of a floor it may not import.
 */
function violations(file: string, text: string): string[] {
  const floor = floorOf(file) as Floor;
  const out: string[] = [];
  const found = scan(file, text);
  for (const spec of found.specifiers) {
    if (!spec.startsWith(".")) continue; // node: builtins and packages
    const target = posix(relative(ROOT, resolve(ROOT, dirname(file), spec))).replace(/\.js$/, ".ts");
    const to = floorOf(target);
    if (target.startsWith("..")) out.push(`${file} imports ${spec}: outside the checkout`);
    else if (!mayReach(floor, to) && !published(floor, target) && !allowed(file, target)) {
      out.push(`${file} imports ${target} (${floor}/ may not import ${to}/; floors: test/architecture/floors.ts)`);
    }
  }
  for (const literal of found.literals) {
    for (const m of literal.matchAll(PATH_OF)) {
      const to = m[1]!;
      if (!mayReach(floor, to) && !allowed(file, literal))
        out.push(`${file} names a path of ${to}/: ${JSON.stringify(literal)}`);
    }
  }
  return out;
}

function treeViolations(): string[] {
  return CHECKED.flatMap((floor) => tsFiles(join(ROOT, floor)).map((abs) => posix(relative(ROOT, abs)))).flatMap(
    (file) => violations(file, readFileSync(join(ROOT, file), "utf8")),
  );
}

test("architecture - no production or benchmark file imports a floor above or beside its own, or names one's paths", () => {
  assert.deepEqual(treeViolations(), []);
});

test("architecture - every allow-list entry is still needed (remove it once its import is gone)", () => {
  const stale = ALLOWED.filter((a) => {
    const abs = join(ROOT, a.file);
    if (!existsSync(abs)) return true;
    const found = scan(a.file, readFileSync(abs, "utf8"));
    const targets = found.specifiers
      .filter((x) => x.startsWith("."))
      .map((x) => posix(relative(ROOT, resolve(ROOT, dirname(a.file), x))).replace(/\.js$/, ".ts"));
    return !targets.includes(a.imports) && !found.literals.includes(a.imports);
  });
  assert.deepEqual(
    stale.map((a) => `${a.file} -> ${a.imports}`),
    [],
  );
});

test("architecture - the check names the file and the import: static, dynamic, type-only, re-export, path literal", () => {
  const probe = [
    `import { x } from "../relay/config.js";`,
    `export { y } from "./names.js";`,
    `type T = import("../bots/bot.js").Bot;`,
    `const c = await import("../control/api.js");`,
    `const bin = "relay/bin/bustled.js";`,
    `import { z } from "../test/support/temp.js";`,
  ].join("\n");
  assert.deepEqual(violations("cluster/probe.ts", probe), [
    "cluster/probe.ts imports relay/config.ts (cluster/ may not import relay/; floors: test/architecture/floors.ts)",
    "cluster/probe.ts imports bots/bot.ts (cluster/ may not import bots/; floors: test/architecture/floors.ts)",
    "cluster/probe.ts imports control/api.ts (cluster/ may not import control/; floors: test/architecture/floors.ts)",
    "cluster/probe.ts imports test/support/temp.ts (cluster/ may not import test/; floors: test/architecture/floors.ts)",
    'cluster/probe.ts names a path of relay/: "relay/bin/bustled.js"',
  ]);
  // A published module is open to the floor it is published to, and only to it.
  assert.deepEqual(violations("control/probe.ts", `import { x } from "../relay/config.js";`), []);
  assert.equal(violations("bots/probe.ts", `import { x } from "../relay/config.js";`).length, 1);
  assert.equal(violations("bench/probe.ts", `import { x } from "../test/support/temp.js";`).length, 1);
  for (const a of ALLOWED) assert.ok(a.why.length > 20, `allow-list entry ${a.file} needs a reason`);
});
