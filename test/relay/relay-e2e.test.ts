import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, renameSync, statSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { closeBus, connectBus } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import { freePort } from "../../cluster/net.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { RelayProcess, writeRelayConfig } from "../../relay/local-node.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { appendSpool, logLines, makeHome, textOf } from "./support.js";

const dir = tempDir("bustle-e2e-");
/** This node's own lines (the shared server's stream holds earlier tests' events too). */
const own = (log: string, node: string) => logLines(log).filter((l) => l.split(" ")[1] === node);
let server: NatsServer;
before(async () => {
  server = await startServer(dir.path);
});
after(async () => {
  await server.stop();
  dir.remove();
});

test("relay - spool lines from several users appear in bustle.log in the contract's format", async () => {
  const files = writeRelayConfig(`${dir.path}/town`, "town", { servers: [server.url] });
  const relay = await new RelayProcess(files).start();
  try {
    for (const u of ["alice", "bob", "carol"]) makeHome(files.homes, u);
    appendSpool(files.homes, "alice", ['{"kind":"update","text":"is baking bread"}']);
    await waitFor(() => logLines(files.log).length === 1, 10_000, "alice's update");
    appendSpool(files.homes, "bob", ['{"kind":"shout","text":"hi world"}']);
    await waitFor(() => logLines(files.log).length === 2, 10_000, "bob's shout");
    appendSpool(files.homes, "carol", ['{"kind":"shout","text":"who am i","anon":true}', "plain text is an update"]);
    await waitFor(() => logLines(files.log).length === 4, 10_000, "carol's lines");
    const lines = logLines(files.log);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z town \S/);
    assert.deepEqual(lines.map(textOf), [
      "~alice is baking bread",
      "~bob shouts, 'HI WORLD'",
      "someone shouts, 'WHO AM I'",
      "~carol plain text is an update",
    ]);
  } finally {
    await relay.stop();
  }
});

test("relay - the embedded default runs its own nats-server and logs a shout", async () => {
  const port = await freePort();
  const files = writeRelayConfig(`${dir.path}/solo`, "solo", { port });
  const relay = await new RelayProcess(files).start();
  try {
    makeHome(files.homes, "dave");
    appendSpool(files.homes, "dave", ['{"kind":"shout","text":"alone but loud"}']);
    await waitFor(() => logLines(files.log).length === 1, 15_000, "dave's shout in the embedded node's log");
    assert.equal(textOf(logLines(files.log)[0]!), "~dave shouts, 'ALONE BUT LOUD'");
    assert.equal(await relay.stop(), 0, "bustled exits 0 on SIGTERM");
  } finally {
    await relay.stop();
  }
});

test("relay - a torn or unrecorded tail of bustle.log is cut and written again after a crash", async () => {
  const files = writeRelayConfig(`${dir.path}/torn`, "torn", { servers: [server.url] });
  const relay = await new RelayProcess(files).start();
  try {
    makeHome(files.homes, "erin");
    appendSpool(files.homes, "erin", ["first"]);
    await waitFor(() => own(files.log, "torn").length === 1, 10_000, "erin's first line");
    await relay.kill();
    appendFileSync(files.log, "2026-11-22T00:00:00.000Z torn half a li");
    await relay.start();
    appendSpool(files.homes, "erin", ["second"]);
    await waitFor(() => own(files.log, "torn").length === 2, 10_000, "erin's second line");
    const text = readFileSync(files.log, "utf8");
    assert.ok(text.endsWith("\n"), "no torn line at the end");
    assert.deepEqual(own(files.log, "torn").map(textOf), ["~erin first", "~erin second"]);
    assert.ok(!text.includes("half a li"), "the torn fragment is gone");
  } finally {
    await relay.stop();
  }
});

test("relay - after logrotate (rename, then SIGHUP or not) new lines go to a fresh bustle.log", async () => {
  const files = writeRelayConfig(`${dir.path}/rotate`, "rot", { servers: [server.url] });
  const relay = await new RelayProcess(files).start();
  try {
    makeHome(files.homes, "finn");
    appendSpool(files.homes, "finn", ["before rotation"]);
    await waitFor(() => own(files.log, "rot").length === 1, 10_000, "the first line");
    renameSync(files.log, `${files.log}.1`);
    relay.signal("SIGHUP");
    await waitFor(() => existsSync(files.log), 10_000, "a fresh bustle.log after SIGHUP");
    appendSpool(files.homes, "finn", ["after rotation"]);
    await waitFor(() => own(files.log, "rot").length === 1, 10_000, "the line after rotation");
    renameSync(files.log, `${files.log}.2`); // no signal: bustled notices by itself
    await waitFor(() => existsSync(files.log), 10_000, "a fresh bustle.log without a signal");
    appendSpool(files.homes, "finn", ["after the second rotation"]);
    await waitFor(() => own(files.log, "rot").length === 1, 10_000, "the line after the second rotation");
    assert.deepEqual(own(`${files.log}.1`, "rot").map(textOf), ["~finn before rotation"]);
    assert.deepEqual(own(`${files.log}.2`, "rot").map(textOf), ["~finn after rotation"]);
    assert.deepEqual(own(files.log, "rot").map(textOf), ["~finn after the second rotation"]);
    assert.equal(statSync(files.log).mode & 0o777, 0o644, "the log stays world-readable");
  } finally {
    await relay.stop();
  }
});

test("relay - a stream deleted by an admin is created again and logging goes on", async () => {
  const own2 = await startServer(dir.path, "deleted");
  const files = writeRelayConfig(`${dir.path}/deleted`, "del", { servers: [own2.url] });
  const relay = await new RelayProcess(files).start();
  const nc = await connectBus({ servers: [own2.url], name: "admin", logger: silentLogger });
  try {
    makeHome(files.homes, "gus");
    appendSpool(files.homes, "gus", ["one", "two"]);
    await waitFor(() => logLines(files.log).length === 2, 10_000, "gus's first lines");
    await (await jetstreamManager(nc)).streams.delete("BUSTLE");
    appendSpool(files.homes, "gus", ["three"]);
    await waitFor(
      () => logLines(files.log).some((l) => l.endsWith("~gus three")),
      30_000,
      "the line after the stream was deleted",
    );
    const texts = logLines(files.log).map(textOf);
    assert.deepEqual(
      texts.filter((t) => t.startsWith("~gus")),
      ["~gus one", "~gus two", "~gus three"],
    );
    assert.ok(
      texts.some((t) => t.includes("the stream was recreated")),
      "the log says the history restarted",
    );
  } finally {
    await closeBus(nc);
    await relay.stop();
    await own2.stop();
  }
});
