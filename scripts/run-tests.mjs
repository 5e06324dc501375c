// Runs every compiled test file under dist/test with node's test runner.
// Usage: node scripts/run-tests.mjs [substring ...]   (only files whose path contains one)
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const root = "dist/test";
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.js")) files.push(p);
  }
})(root);
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (chosen.length === 0) {
  console.error(`no test files match ${filters.join(", ")}`);
  process.exit(1);
}
const concurrency = process.env.BUSTLE_TEST_CONCURRENCY ?? "2";
const r = spawnSync(
  process.execPath,
  ["--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...chosen],
  { stdio: "inherit" },
);
process.exit(r.status ?? 1);
