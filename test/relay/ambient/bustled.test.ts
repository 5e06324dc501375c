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
