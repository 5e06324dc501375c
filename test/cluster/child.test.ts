/**
 * The one launcher (cluster/child.ts) on small real programs: ready by a line or a check, a
 * failed start that names the program's last words, SIGTERM then SIGKILL, kill -9, signals,
 * restart, and the output appended to one log file across runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ChildProgram } from "../../cluster/child.js";
import { ServerStartError } from "../../cluster/errors.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";

/** `node -e SCRIPT` as argv. */
const node = (script: string) => [process.execPath, "-e", script];
const SERVE = `console.log("warming up"); setTimeout(() => console.log("Server is ready"), 100);
process.on("SIGHUP", () => console.log("reloaded")); setInterval(() => {}, 1000);`;

test("launcher - ready on a line; stop is SIGTERM; output goes to the log file across restarts", async () => {
  const dir = tempDir("child-");
  const logPath = join(dir.path, "serve.log");
  const p = new ChildProgram({ name: "serve", argv: node(SERVE), logPath, ready: { line: "Server is ready" } });
  try {
    await p.start();
    assert.ok(p.running);
    assert.deepEqual(p.recentOutput(), ["warming up", "Server is ready"]);
    p.signal("SIGHUP");
    await waitFor(() => p.recentOutput().includes("reloaded"), 10_000, "the SIGHUP to be seen");
    assert.equal(await p.stop(), null, "ended by SIGTERM (no handler: the signal ends it)");
    assert.equal(p.running, false);
    await p.restart();
    assert.ok(p.running);
    await p.stop();
    await waitFor(
      () => readFileSync(logPath, "utf8").split("Server is ready").length === 3,
      10_000,
      "both runs in the log",
    );
    assert.match(
      readFileSync(logPath, "utf8"),
      /^warming up\nServer is ready\nreloaded\nwarming up\nServer is ready\n$/,
    );
  } finally {
    await p.kill();
    dir.remove();
  }
});

test("launcher - ready by a check; a program that ignores SIGTERM gets SIGKILL after the grace", async () => {
  const dir = tempDir("child-");
  const flag = join(dir.path, "ready");
  const p = new ChildProgram({
    name: "stubborn",
    argv: node(
      `process.on("SIGTERM", () => console.log("not stopping")); require("fs").writeFileSync(${JSON.stringify(flag)}, "1"); setInterval(() => {}, 1000);`,
    ),
    ready: { check: () => existsSync(flag) },
    graceMs: 300,
  });
  try {
    await p.start();
    assert.equal(await p.stop(), null);
    assert.ok(p.recentOutput().includes("not stopping"), "it was asked first");
    assert.equal(p.process?.signalCode, "SIGKILL");
  } finally {
    await p.kill();
    dir.remove();
  }
});

test("launcher - kill -9 and the exit code of a program that ends on its own", async () => {
  const p = new ChildProgram({ name: "serve", argv: node(SERVE), ready: { line: "Server is ready" } });
  await p.start();
  assert.equal(await p.kill(), null);
  assert.equal(p.process?.signalCode, "SIGKILL");
  const done = new ChildProgram({ name: "done", argv: node("process.exit(3)") });
  await done.start();
  assert.equal(await done.waitExit(), 3);
});

test("launcher - a program that exits before it is ready: start rejects with its last words", async () => {
  const p = new ChildProgram({
    name: "broken (x.conf)",
    argv: node(`console.error("x.conf:3: unknown field"); process.exit(1)`),
    ready: { line: "Server is ready" },
  });
  await assert.rejects(
    p.start(),
    (err: Error) =>
      err instanceof ServerStartError && err.message === "broken (x.conf) exited: x.conf:3: unknown field",
  );
});

test("launcher - a program not ready in time is killed and start says so", async () => {
  const dir = tempDir("child-");
  const p = new ChildProgram({
    name: "slow",
    argv: node(`console.log("still loading"); setInterval(() => {}, 1000)`),
    ready: { check: () => false, timeoutMs: 500 },
  });
  try {
    await assert.rejects(
      p.start(),
      (err: Error) => err instanceof ServerStartError && /^slow did not become ready: /.test(err.message),
    );
    assert.equal(p.running, false, "killed");
  } finally {
    dir.remove();
  }
});

test("launcher - a missing program is a failed start, not a crash", async () => {
  const p = new ChildProgram({ name: "nosuch", argv: ["/nonexistent/nosuch-program"], ready: { line: "ready" } });
  await assert.rejects(p.start(), /nosuch exited/);
  assert.equal(await p.waitExit(), null, "its exit is known too");
});

test("launcher - a group leader with an IPC channel: messages both ways; kill takes down what it started", async () => {
  // It starts a grandchild in its group, tells us its pid, and answers a message.
  const p = new ChildProgram({
    name: "leader",
    argv: node(`const g = require("node:child_process").spawn("sleep", ["600"], { stdio: "ignore" });
process.on("message", (m) => process.send({ echo: m, grandchild: g.pid }));`),
    ipc: true,
    group: true,
  });
  await p.start();
  const reply = new Promise<{ echo: string; grandchild: number }>((r) => p.process!.once("message", r));
  p.process!.send("hello");
  const { echo, grandchild } = await reply;
  assert.equal(echo, "hello");
  assert.ok(existsSync(`/proc/${grandchild}`));
  await p.kill();
  await waitFor(() => !existsSync(`/proc/${grandchild}`), 10_000, "the grandchild to be gone");
});
