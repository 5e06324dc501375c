// `npm run bench`: runs every bench/*.bench.js (or those whose name contains an argument)
// one after another, each in its own process, and prints their figures. The soak runs only by name.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const here = dirname(fileURLToPath(import.meta.url));
// Arguments from the first `--option` on are passed to every benchmark run (`soak --minutes 2`).
const firstOption = process.argv.findIndex((a, i) => i >= 2 && a.startsWith("--"));
const filters = process.argv.slice(2, firstOption < 0 ? undefined : firstOption);
const passed = firstOption < 0 ? [] : process.argv.slice(firstOption);
/** Long or diagnostic benchmarks run only when named (`npm run bench soak`), never in the default set. */
const BY_NAME_ONLY = ["soak.bench.js", "publish.bench.js", "consume.bench.js", "spool-intake.bench.js"];
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".bench.js"))
  .sort()
  .filter((f) => (filters.length === 0 ? !BY_NAME_ONLY.includes(f) : filters.some((x) => f.includes(x))));
let failed = 0;
for (const f of benches) {
  console.log(`\n=== ${f.replace(/\.bench\.js$/, "")} ===`);
  const r = spawnSync(process.execPath, [join(here, f), ...passed], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.log(`!!! ${f} failed (exit ${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
