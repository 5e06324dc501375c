/**
 * The program edge every bin shares: exit codes, one-line errors and a daemon's signals, seen
 * from outside as a user (or systemd) sees them, on a small program built on it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../cluster/wait-for.js";

const EDGE = fileURLToPath(new URL("./edge-program.js", import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [EDGE, ...args], { encoding: "utf8", timeout: 30_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test("program edge - success exits 0 and a large output is written whole", () => {
  assert.deepEqual(run("ok"), { code: 0, stdout: "done\n", stderr: "" });
  const big = run("big");
  assert.equal(big.code, 0);
  assert.equal(big.stdout.length, (4 << 20) + 1);
});

test("program edge - an expected error is one line and exit 1; a bug keeps its stack", () => {
  assert.deepEqual(run("fail"), { code: 1, stdout: "", stderr: "edge: the spool is full\n" });
  const bug = run("bug");
  assert.equal(bug.code, 1);
  assert.match(
    bug.stderr,
    /^edge: unexpected error \(a bug; please report it\):\nTypeError: x is not a function\n {4}at /,
  );
});

test("program edge - usage errors exit 2, help exits 0, the wording can be the program's", () => {
  const bad = run("count", "many");
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    "error: command-argument value 'many' is invalid for argument 'n'. must be a whole number\n",
  );
  assert.equal(run("nosuch").code, 2);
  assert.equal(run("ok", "--bogus").code, 2);
  const hinted = run("--hinted", "ok", "--bogus");
  assert.deepEqual([hinted.code, hinted.stderr], [2, "edge: unknown option '--bogus' (see edge ok --help)\n"]);
  const help = run("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: edge /);
});

/** The daemon sub-command, running: its stdout so far, signals, and its exit code. */
function daemon(...flags: string[]) {
  const child = spawn(process.execPath, [EDGE, "daemon", ...flags], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return {
    child,
    exited,
    out: () => out,
    err: () => err,
    saw: (line: string) =>
      waitFor(
        () => out.includes(line + "\n"),
        20_000,
        `the daemon to print ${JSON.stringify(line)}; stdout so far: ${out}`,
      ),
  };
}

test("program edge - SIGTERM and SIGINT stop a daemon in order and exit 0", async (t) => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    await t.test(signal, async () => {
      const d = daemon();
      await d.saw("started");
      d.child.kill(signal);
      assert.equal(await d.exited, 0, d.err());
      assert.equal(d.out(), `started\nstopping on ${signal}\nstopped\nafter the daemon\n`);
      assert.match(d.err(), /"msg":"stopping","signal":"/);
    });
  }
});

test("program edge - SIGHUP reloads one at a time; a failed reload is logged and the daemon keeps running", async () => {
  const d = daemon();
  await d.saw("started");
  d.child.kill("SIGHUP");
  await d.saw("reloaded 1");
  d.child.kill("SIGHUP");
  await waitFor(() => d.err().includes('"msg":"reload failed"'), 20_000, "the failed reload to be logged");
  assert.match(d.err(), /"error":"bad config"/);
  d.child.kill("SIGHUP");
  await d.saw("reloaded 3");
  d.child.kill("SIGTERM");
  assert.equal(await d.exited, 0);
});

test("program edge - a daemon that fails on its own is stopped and exits 1", async () => {
  const d = daemon("--fail-after");
  assert.equal(await d.exited, 1, d.err());
  assert.equal(d.out(), "started\nstopping on failed\nstopped\nafter the daemon\n");
});

test("program edge - a failed start is one line and exit 1", async () => {
  const d = daemon("--fail-start");
  assert.equal(await d.exited, 1);
  assert.equal(d.out(), "");
  assert.equal(d.err(), "edge: cannot listen on 127.0.0.1:4222: address in use\n");
});

test("program edge - a failed stop exits 1; a second signal while stopping leaves at once with 1", async () => {
  const bad = daemon("--bad-stop");
  await bad.saw("started");
  bad.child.kill("SIGTERM");
  assert.equal(await bad.exited, 1);
  assert.match(bad.err(), /"msg":"error while stopping".*"error":"could not flush"/);
  const hung = daemon("--hang-stop");
  await hung.saw("started");
  hung.child.kill("SIGTERM");
  await hung.saw("stopping on SIGTERM");
  hung.child.kill("SIGINT");
  assert.equal(await hung.exited, 1);
  assert.doesNotMatch(hung.out(), /after the daemon/);
});
