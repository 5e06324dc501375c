/**
 * Existing installs and their secret files: a single node from before credentials existed keeps
 * its stream and gets credentials on its first start; a secret file other users may read stops
 * bustled at start-up with one line naming the file and the fix.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeBus, connectBus } from "../../cluster/connection.js";
import { encodeEvent, makeEvent } from "../../cluster/envelope.js";
import { localCredentials } from "../../cluster/local-auth.js";
import { silentLogger } from "../../cluster/logger.js";
import { prepareLocalServer } from "../../cluster/nats-server.js";
import { freePort } from "../../cluster/net.js";
import { ensureStream } from "../../cluster/stream.js";
import { RelayProcess, writeRelayConfig } from "../../relay/local-node.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { jetstream } from "@nats-io/jetstream";
import { idKeyPath } from "../../relay/id-key.js";
import { appendSpool, logLines, makeHome, textOf } from "./support.js";
import { BUSTLE, BUSTLED, runCliSync } from "../support/cli.js";

const dir = tempDir("bustle-trust-upgrade-");
after(() => dir.remove());

/** Runs bustled to completion; it must refuse to start. */
function bustledRefuses(config: string): { code: number | null; stderr: string } {
  const r = runCliSync(BUSTLED, ["--config", config], { timeoutMs: 30_000 });
  return { code: r.code, stderr: r.stderr };
}

test("trust upgrade - a node from before credentials keeps its stream and gets credentials on first start", async () => {
  const port = await freePort();
  const files = writeRelayConfig(join(dir.path, "old"), "old", { port });
  // The old embedded server: same folder, port and store, no users, no TLS.
  const old = await prepareLocalServer({ dir: join(files.state, "nats"), port, monitorPort: 0, serverName: "old" });
  await old.start();
  const nc = await connectBus({ servers: [old.url], name: "old relay", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  await jetstream(nc).publish(
    "bustle.ev.old.spool.update",
    encodeEvent(
      makeEvent({ node: "old", source: "spool", kind: "update", actor: "zed", text: "~zed wrote before the upgrade" }),
    ),
  );
  await closeBus(nc);
  await old.stop();

  const relay = await new RelayProcess(files).start();
  try {
    makeHome(files.homes, "amy");
    appendSpool(files.homes, "amy", ["wrote after the upgrade"]);
    await waitFor(() => logLines(files.log).length >= 2, 15_000, "the old event and the new line in bustle.log");
    assert.deepEqual(logLines(files.log).map(textOf), [
      "~zed wrote before the upgrade",
      "~amy wrote after the upgrade",
    ]);
    // The old way in (no credentials, no TLS) is closed now.
    await assert.rejects(
      connectBus({
        servers: [`nats://127.0.0.1:${port}`],
        name: "old client",
        logger: silentLogger,
        waitOnFirstConnect: false,
        timeoutMs: 3_000,
      }),
    );
  } finally {
    await relay.stop();
  }
});

test("trust upgrade - a secret file other users may read stops bustled with one line naming it and the fix", async () => {
  const port = await freePort();
  const files = writeRelayConfig(join(dir.path, "loose"), "loose", { port });
  const relay = await new RelayProcess(files).start();
  await relay.stop();
  const pw = localCredentials(files.state, "loose").relay.passwordFile;
  chmodSync(pw, 0o644);
  let r = bustledRefuses(files.config);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.ok(r.stderr.includes(`chmod 600 ${pw}`), r.stderr);
  chmodSync(pw, 0o640); // group-readable is allowed (a bustle group for the admin's tools)
  chmodSync(localCredentials(files.state, "loose").serverKey, 0o604);
  r = bustledRefuses(files.config);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /server key: secret file .*server-key\.pem is readable or writable by others \(mode 0604\); run: chmod 600 /,
  );
  chmodSync(localCredentials(files.state, "loose").serverKey, 0o600);
  chmodSync(idKeyPath(files.state), 0o644);
  r = bustledRefuses(files.config);
  assert.equal(r.code, 1);
  assert.ok(
    r.stderr.includes(
      `event id key: secret file ${idKeyPath(files.state)} is readable or writable by others (mode 0644); run: chmod 600 ${idKeyPath(files.state)}`,
    ),
    r.stderr,
  );

  // A federation node's password file, likewise.
  const secret = join(dir.path, "fed.password");
  writeFileSync(secret, "pw\n", { mode: 0o644 });
  const fed = writeRelayConfig(join(dir.path, "fed"), "fed", {
    servers: [`nats://127.0.0.1:${port}`],
    user: "fed",
    password_file: secret,
  });
  r = bustledRefuses(fed.config);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `bustled: nats password: secret file ${secret} is readable or writable by others (mode 0644); run: chmod 600 ${secret}`,
  );
});

test("trust upgrade - bustle status before bustled ever ran says what is missing, in one line", () => {
  const files = writeRelayConfig(join(dir.path, "fresh"), "fresh", { port: 1 });
  const r = runCliSync(BUSTLE, ["status", "--config", files.config], { timeoutMs: 30_000 });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `bustle: no embedded nats status credential at ${localCredentials(files.state, "fresh").status.passwordFile}: bustled makes it on its first start (has it run with this state dir?)`,
  );
});
