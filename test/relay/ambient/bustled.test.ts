// End to end: a real bustled (real nats-server) with ambient activity on, and its bustle.log.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsServer } from "../../../cluster/nats-server.js";
import { bin } from "../../support/paths.js";
import { RelayProcess, writeRelayConfig } from "../../../relay/local-node.js";
import { startServer } from "../../../cluster/servers.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { makeHome } from "./harness.js";

const dir = tempDir("bustle-ambient-e2e-");
let server: NatsServer;
before(async () => {
  server = await startServer(dir.path);
});
after(async () => {
  await server.stop();
  dir.remove();
});

const texts = (log: string): string[] => {
  try {
    return readFileSync(log, "utf8")
      .split("\n")
      .slice(0, -1)
      .map((l) => l.split(" ").slice(2).join(" "));
  } catch {
    return [];
  }
};

test("ambient - bustled turns home activity into bustle.log lines, and bustle optout silences it", async () => {
  const files = writeRelayConfig(
    join(dir.path, "town"),
    "town",
    { servers: [server.url] },
    { ambient: { window: "1s" } },
  );
  const alice = makeHome(files.homes, "alice");
  const relay = await new RelayProcess(files).start();
  try {
    await waitFor(
      () => {
        writeFileSync(join(alice, "public_html", "index.html"), "<p>new</p>");
        return texts(files.log).includes("~alice just added to their public_html");
      },
      20_000,
      "the publish line in bustle.log",
    );
    const bustle = (...args: string[]) =>
      execFileSync(process.execPath, [bin("relay/bin/bustle.js"), ...args], {
        env: { ...process.env, HOME: alice },
        encoding: "utf8",
      });
    bustle("optout");
    writeFileSync(join(alice, "secret-plans.txt"), "x");
    bustle("update", "is thinking");
    await waitFor(
      () => texts(files.log).includes("~alice is thinking"),
      20_000,
      "the update that follows the quiet change",
    );
    assert.ok(!texts(files.log).includes("~alice just created a new file"), "no ambient line while opted out");
    bustle("optin");
    appendFileSync(join(alice, "todo.txt"), "more\n");
    await waitFor(
      () => texts(files.log).includes("~alice is moving around in their home directory"),
      20_000,
      "activity after optin",
    );
    assert.ok(!readFileSync(files.log, "utf8").includes("secret-plans"), "file names never reach the log");
    const audit = readFileSync(files.audit, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(
      audit.some((r) => r.type === "event" && r.source === "fs" && r.actor === "alice" && r.kind === "publish"),
    );
  } finally {
    await relay.stop();
  }
});

test("ambient - with ambient on, bustle update lines arrive without the spool rescan: a first spool, later lines, an excluded home's", async () => {
  const files = writeRelayConfig(
    join(dir.path, "quick"),
    "quick",
    { servers: [server.url] },
    // No rescan to fall back on: only the watchers can bring these lines in.
    { spool: { rate: { burst: 1_000_000, per_minute: 10_000_000 }, rescan: "1h" }, ambient: { exclude: ["bob"] } },
  );
  const homes = { alice: makeHome(files.homes, "alice"), bob: makeHome(files.homes, "bob") };
  const relay = await new RelayProcess(files).start();
  try {
    const update = (user: keyof typeof homes, text: string) =>
      execFileSync(process.execPath, [bin("relay/bin/bustle.js"), "update", text], {
        env: { ...process.env, HOME: homes[user] },
        encoding: "utf8",
      });
    update("alice", "writes a first spool"); // seen by the ambient watcher's hook
    await waitFor(() => texts(files.log).includes("~alice writes a first spool"), 20_000, "alice's first update");
    update("alice", "writes again"); // by the spool reader's own watch, now that she has a spool
    await waitFor(() => texts(files.log).includes("~alice writes again"), 20_000, "alice's second update");
    update("bob", "is not watched by ambient"); // excluded: the spool reader watches his home itself
    await waitFor(
      () => texts(files.log).includes("~bob is not watched by ambient"),
      20_000,
      "the excluded home's update",
    );
  } finally {
    await relay.stop();
  }
});
