// One source of truth for bustled's node flags (relay/programs.ts, BUSTLED_NODE_FLAGS): Node
// reads them only at start, so every way of starting bustled spells them out, and these tests
// fail the moment one of them drifts. The installed command's `#!` line is run for real in
// test/deploy/install.test.ts.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildRoot } from "../support/paths.js";
import { startServer } from "../../cluster/servers.js";
import { tempDir } from "../../cluster/temp.js";
import { writeRelayConfig } from "../../relay/local-node.js";
import { BUSTLED_NODE_FLAGS, BUSTLED_PATH, bustledProgram } from "../../relay/programs.js";

const CHECKOUT = join(buildRoot, "..");
const FLAGS = BUSTLED_NODE_FLAGS.join(" ");
const tmp = tempDir("bustle-node-flags-");
after(() => tmp.remove());

/** A process's command line as its words (what `ps` shows). */
const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);

test("node flags - the systemd unit, npm start and the bustled command's #! line carry BUSTLED_NODE_FLAGS", () => {
  assert.ok(BUSTLED_NODE_FLAGS.length > 0);
  const unit = readFileSync(join(CHECKOUT, "deploy", "systemd", "bustled.service"), "utf8");
  assert.match(unit, /^ExecStart=/m);
  assert.equal(
    /^ExecStart=(.*)$/m.exec(unit)?.[1],
    `/usr/bin/node ${FLAGS} /opt/bustle/dist/relay/bin/bustled.js --config /etc/bustle/node.yaml`,
    "the unit's ExecStart (deploy/install.sh rewrites only the node and the prefix)",
  );
  const pkg = JSON.parse(readFileSync(join(CHECKOUT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `npm run build && node ${FLAGS} dist/relay/bin/bustled.js`, "npm start");
  assert.equal(
    readFileSync(BUSTLED_PATH, "utf8").split("\n", 1)[0],
    `#!/usr/bin/env -S node ${FLAGS}`,
    "the built bustled's #! line (what `bustled` on PATH runs)",
  );
});

test("node flags - a bustled started by bustledProgram (tests, benchmarks, bustle-cluster up) runs with them", async () => {
  const server = await startServer(tmp.path);
  const files = writeRelayConfig(join(tmp.path, "relay"), "flags", { servers: [server.url] });
  const relay = bustledProgram({ config: files.config, state: files.state, logPath: files.daemonLog });
  try {
    await relay.start();
    const words = cmdline(relay.pid!);
    assert.deepEqual(words.slice(1, 1 + BUSTLED_NODE_FLAGS.length), [...BUSTLED_NODE_FLAGS], words.join(" "));
    assert.equal(words[1 + BUSTLED_NODE_FLAGS.length], BUSTLED_PATH);
  } finally {
    await relay.stop();
    await server.stop();
  }
});

test("node flags - a benchmark's own node flags come after them, so that it may override one", () => {
  const argv = (nodeArgs: string[]) =>
    bustledProgram({ config: "node.yaml", state: tmp.path, logPath: join(tmp.path, "x.log"), nodeArgs }).spec.argv;
  const n = BUSTLED_NODE_FLAGS.length;
  assert.deepEqual(argv(["--max-semi-space-size=16"]).slice(1, n + 3), [
    ...BUSTLED_NODE_FLAGS,
    "--max-semi-space-size=16",
    BUSTLED_PATH,
  ]);
});
