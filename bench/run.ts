// `npm run bench`: runs every bench/*.bench.js (or those whose name contains an argument)
// one after another, each in its own process, and prints their figures.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const benches = readdirSync(here).filter((f) => f.endsWith(".bench.js")).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
let failed = 0;
for (const f of benches) {
  console.log(`\n=== ${f.replace(/\.bench\.js$/, "")} ===`);
  const r = spawnSync(process.execPath, [join(here, f)], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.log(`!!! ${f} failed (exit ${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
