import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildRoot } from "../support/paths.js";
import { tempDir } from "../../cluster/temp.js";

const CHECKOUT = join(buildRoot, "..");
const PROGRAMS = ["bustle", "bustled", "bustle-control", "bustle-cluster"];

function npm(args: string[], cwd: string): string {
  const r = spawnSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    timeout: 240_000,
  });
  assert.equal(r.status, 0, `npm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("pack - the tarball carries the four programs and nothing of tests or benchmarks; npm install -g gives working commands", () => {
  const pkg = JSON.parse(readFileSync(join(CHECKOUT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.prepack, "npm run build", "npm pack builds dist/ first");
  const tmp = tempDir("bustle-pack-");
  try {
    // --ignore-scripts: `npm test` has just built dist/; building again here would rewrite the
    // files the tests running beside this one are using (the prepack script is checked above).
    const [packed] = JSON.parse(
      npm(["pack", "--json", "--ignore-scripts", "--pack-destination", tmp.path], CHECKOUT),
    ) as [{ filename: string; files: { path: string }[] }];
    const paths = packed.files.map((f) => f.path);
    for (const bin of [
      "dist/relay/bin/bustle.js",
      "dist/relay/bin/bustled.js",
      "dist/control/bin/bustle-control.js",
      "dist/federation/bin/bustle-cluster.js",
    ]) {
      assert.ok(paths.includes(bin), `${bin} is in the tarball`);
    }
    for (const asset of ["index.html", "app.js", "style.css", "favicon.svg"]) {
      assert.ok(paths.includes(`dist/bots/web/page/${asset}`), `the portal page's ${asset} is in the tarball`);
    }
    const stray = paths.filter((p) => /^dist\/(test|bench)\/|\.test\.js$|\.map$|^node_modules\//.test(p));
    assert.deepEqual(stray, [], "no tests, benchmarks, test doubles or source maps");

    const prefix = join(tmp.path, "global");
    npm(["install", "-g", "--prefer-offline", "--prefix", prefix, join(tmp.path, packed.filename)], tmp.path);
    for (const name of PROGRAMS) {
      const r = spawnSync(join(prefix, "bin", name), ["--help"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmp.path },
      });
      assert.equal(r.status, 0, `${name} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: ${name} `), `${name} --help prints its usage`);
    }
  } finally {
    tmp.remove();
  }
});
