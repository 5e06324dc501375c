import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { cliEnv, runBustle } from "./bustle-process.js";

const dir = tempDir("bustle-cli-spool-");
after(() => dir.remove());

let n = 0;
/** A fresh home for each test. */
function home(): string {
  const h = join(dir.path, `home${++n}`);
  mkdirSync(h);
  return h;
}

test("spool - update and shout append the exact JSON lines, creating the spool 0600", async () => {
  const h = home();
  const env = cliEnv(h);
  const runs = [
    await runBustle(["update", "planting", "tulips"], env),
    await runBustle(["shout", "HI", "WORLD"], env),
    await runBustle(["shout", "--anon", "who", "am", "I?"], env),
    await runBustle(["update", `quotes " and \\ and\nnewline ☃`], env),
  ];
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  }
  const spool = join(h, ".bustle.spool");
  assert.equal(
    readFileSync(spool, "utf8"),
    [
      '{"kind":"update","text":"planting tulips","anon":false}',
      '{"kind":"shout","text":"HI WORLD","anon":false}',
      '{"kind":"shout","text":"who am I?","anon":true}',
      '{"kind":"update","text":"quotes \\" and \\\\ and\\nnewline ☃","anon":false}',
      "",
    ].join("\n"),
  );
  assert.equal(statSync(spool).mode & 0o777, 0o600);
});

test("spool - works with no relay, no config and no NATS at all", async () => {
  const h = home();
  const r = await runBustle(["shout", "anyone?"], cliEnv(h, { BUSTLE_CONFIG: join(h, "missing.yaml") }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(h, ".bustle.spool"), "utf8"), '{"kind":"shout","text":"anyone?","anon":false}\n');
});

test("spool - a symlinked spool is refused with exit 1 and the target is untouched", async () => {
  const h = home();
  const target = join(h, "precious");
  writeFileSync(target, "keep me\n");
  symlinkSync(target, join(h, ".bustle.spool"));
  const r = await runBustle(["update", "sneaky"], cliEnv(h));
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /^bustle: .*\.bustle\.spool.*symbolic link/);
  assert.equal(readFileSync(target, "utf8"), "keep me\n");
});

test("spool - a FIFO or a directory as the spool is refused without hanging", async () => {
  const h = home();
  const spool = join(h, ".bustle.spool");
  execFileSync("mkfifo", [spool]);
  const fifo = await runBustle(["update", "x"], cliEnv(h), 15_000);
  assert.equal(fifo.code, 1);
  assert.match(fifo.stderr, /^bustle: .*\.bustle\.spool/);
  rmSync(spool);
  mkdirSync(spool);
  const d = await runBustle(["shout", "x"], cliEnv(h));
  assert.equal(d.code, 1);
  assert.equal(d.stderr.trim().split("\n").length, 1, d.stderr);
});

test("spool - empty text is refused; long text warns but is written", async () => {
  const h = home();
  const empty = await runBustle(["update", "  ", ""], cliEnv(h));
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^bustle: nothing to say/);
  assert.equal(existsSync(join(h, ".bustle.spool")), false);
  const long = "x".repeat(450);
  const r = await runBustle(["shout", long], cliEnv(h));
  assert.equal(r.code, 0);
  assert.match(r.stderr, /450 characters.*400/);
  assert.equal(
    readFileSync(join(h, ".bustle.spool"), "utf8"),
    JSON.stringify({ kind: "shout", text: long, anon: false }) + "\n",
  );
  const usage = await runBustle(["update"], cliEnv(h));
  assert.equal(usage.code, 2);
});

test("optout - optout creates ~/.bustle.optout, optin removes it, both say so kindly", async () => {
  const h = home();
  const flag = join(h, ".bustle.optout");
  const out = await runBustle(["optout"], cliEnv(h));
  assert.equal(out.code, 0);
  assert.match(out.stdout.toString(), /opted out/);
  assert.ok(lstatSync(flag).isFile());
  const again = await runBustle(["optout"], cliEnv(h));
  assert.equal(again.code, 0);
  assert.match(again.stdout.toString(), /already opted out/);
  const inn = await runBustle(["optin"], cliEnv(h));
  assert.equal(inn.code, 0);
  assert.match(inn.stdout.toString(), /opted in/);
  assert.equal(existsSync(flag), false);
  const inAgain = await runBustle(["optin"], cliEnv(h));
  assert.equal(inAgain.code, 0);
  assert.match(inAgain.stdout.toString(), /already opted in/);
});
