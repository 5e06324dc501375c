import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { bin } from "../support/paths.js";
import { Sandbox, type RunOptions } from "./sandbox.js";

// Every program finds the node the same way, as a plain user on a machine where root runs the node.
const BUSTLE = bin("relay/bin/bustle.js");
const CONTROL = bin("control/bin/bustle-control.js");
const CLUSTER = bin("federation/bin/bustle-cluster.js");
const NOBODY = 65534;
const HOME = "/home/tester";
const LINE = "2026-11-22T05:51:05.123Z town ~alice shouts, 'HI WORLD'\n";

let box: Sandbox;
before(async () => {
  box = await Sandbox.open();
});
after(async () => {
  await box?.close();
});
beforeEach(async () => {
  await box.sh(`rm -rf /etc/bustle /var/lib/bustle ${HOME}; mkdir -p ${HOME} && chown ${NOBODY}:${NOBODY} ${HOME}`);
});

const asUser = (env: Record<string, string> = {}): RunOptions => ({ user: NOBODY, env: { HOME, ...env } });
const node = (prog: string, args: string[], opts: RunOptions) => box.run([process.execPath, prog, ...args], opts);

test("config - a plain user's bustle shows the log of the node root runs, with no flags", async () => {
  // What `npm start` as root leaves: /var/lib/bustle/{bustle.log,state}, no /etc/bustle.
  await box.sh(`mkdir -p /var/lib/bustle/state && printf '%s' "${LINE}" > /var/lib/bustle/bustle.log`);
  const r = await node(BUSTLE, ["--no-follow"], asUser());
  assert.equal(r.stderr, "");
  assert.equal(r.stdout, LINE);
  assert.equal(r.code, 0);
});

test("config - with no node at all, the error names every place it looked", async () => {
  for (const args of [["--no-follow"], [], ["status"]]) {
    const r = await node(BUSTLE, args, { ...asUser(), timeoutMs: 20_000 });
    assert.equal(r.code, 1, `bustle ${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    for (const path of [
      "--config",
      "$BUSTLE_CONFIG",
      "/etc/bustle/node.yaml",
      "/var/lib/bustle",
      `${HOME}/.local/state/bustle`,
    ]) {
      assert.ok(r.stderr.includes(path), `bustle ${args.join(" ")}: ${JSON.stringify(r.stderr)} should name ${path}`);
    }
  }
  const c = await node(CONTROL, ["status"], asUser());
  assert.equal(c.code, 1);
  assert.equal(
    c.stderr,
    "bustle-control: no control.yaml found (no --config, $BUSTLE_CONTROL_CONFIG unset, no /etc/bustle/control.yaml): give --config FILE\n",
  );
  const s = await node(CLUSTER, ["status"], asUser());
  assert.equal(s.code, 1);
  assert.match(s.stderr, /no bustle node found on this machine .*\/etc\/bustle\/node\.yaml.*\/var\/lib\/bustle/);
});

test("config - a personal node is used only when the machine has no system node", async () => {
  const personal = "2026-11-22T06:00:00.000Z mine ~tester update from my own node\n";
  await box.sh(
    `mkdir -p ${HOME}/.local/state/bustle/state && printf '%s' "${personal}" > ${HOME}/.local/state/bustle/bustle.log && chown -R ${NOBODY} ${HOME}/.local`,
  );
  assert.equal((await node(BUSTLE, ["--no-follow"], asUser())).stdout, personal);
  await box.sh(`mkdir -p /var/lib/bustle/state && printf '%s' "${LINE}" > /var/lib/bustle/bustle.log`);
  assert.equal((await node(BUSTLE, ["--no-follow"], asUser())).stdout, LINE, "the system node wins");
  // Explicit choices still come first: $BUSTLE_CONFIG, then --config.
  await box.sh(`printf 'log: {path: ${HOME}/.local/state/bustle/bustle.log}\\n' > ${HOME}/mine.yaml`);
  assert.equal((await node(BUSTLE, ["--no-follow"], asUser({ BUSTLE_CONFIG: `${HOME}/mine.yaml` }))).stdout, personal);
  assert.equal((await node(BUSTLE, ["--no-follow", "--config", `${HOME}/mine.yaml`], asUser())).stdout, personal);
});

test("config - /etc/bustle/node.yaml without paths means the system's paths, whoever reads it", async () => {
  await box.sh(
    `mkdir -p /etc/bustle /var/lib/bustle/state && printf 'node: {id: town}\\n' > /etc/bustle/node.yaml && printf '%s' "${LINE}" > /var/lib/bustle/bustle.log`,
  );
  const r = await node(BUSTLE, ["--no-follow"], asUser());
  assert.equal(r.stdout, LINE);
  // bustle status reads the same file: the embedded node's credentials are under the system state dir.
  const st = await node(BUSTLE, ["status"], { ...asUser(), timeoutMs: 20_000 });
  assert.equal(st.code, 1);
  assert.match(st.stderr, /^bustle: .*\/var\/lib\/bustle\/state\//);
  const cs = await node(CLUSTER, ["status"], { ...asUser(), timeoutMs: 30_000 });
  assert.equal(cs.code, 1);
  assert.match(
    cs.stderr,
    /^bustle-cluster: .*\/var\/lib\/bustle\/state\/auth\//,
    "the same node, its credentials in the system state dir",
  );
});

test("config - bustle-control takes $BUSTLE_CONTROL_CONFIG, else /etc/bustle/control.yaml", async () => {
  await box.sh(
    `mkdir -p /etc/bustle && printf 'node: town\\nbots: []\\n' > /etc/bustle/control.yaml && printf 'node: club\\nbots: []\\n' > ${HOME}/control.yaml && chown ${NOBODY} ${HOME}/control.yaml`,
  );
  const sys = await node(CONTROL, ["check"], asUser());
  assert.equal(sys.stdout, "/etc/bustle/control.yaml: ok — node town, 0 bot(s)\n", sys.stderr);
  const env = await node(CONTROL, ["check"], asUser({ BUSTLE_CONTROL_CONFIG: `${HOME}/control.yaml` }));
  assert.equal(env.stdout, `${HOME}/control.yaml: ok — node club, 0 bot(s)\n`, env.stderr);
});
