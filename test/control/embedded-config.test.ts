/**
 * `nats: {config: node.yaml}` on a single node with the embedded server: the control server and
 * its CLI find the node's local control credential (cluster/local-auth.ts) by themselves, run a
 * bot that gets the node's events, and steer it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../cluster/net.js";
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../../relay/local-node.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { appendSpool, makeHome } from "../relay/support.js";
import { cli, record, recorderBot, startControl, stopControl, writeRecorder, type ControlProcess } from "./harness.js";

const dir = tempDir("bustle-control-embedded-");
let files: RelayFiles;
let relay: RelayProcess;
let control: ControlProcess;
const file = join(dir.path, "control.yaml");

before(async () => {
  files = writeRelayConfig(join(dir.path, "town"), "town", { port: await freePort() });
  relay = await new RelayProcess(files).start();
  writeRecorder(dir.path);
  writeFileSync(file, `nats: {config: ${files.config}}\nbots:\n${recorderBot(dir.path, "rec")}`);
  control = startControl(file, join(dir.path, "control.log"));
});
after(async () => {
  if (control) await stopControl(control);
  await relay?.stop();
  dir.remove();
});

test("control embedded - nats.config uses the embedded node's control credential: the bot gets the node's events and can be steered", async () => {
  // A bot that never ran starts with new events: write once it reads the stream.
  await waitFor(() => /"msg":"feed started"/.test(control.log()), 30_000, "the bot to read the stream");
  makeHome(files.homes, "alice");
  appendSpool(files.homes, "alice", ["hello embedded"]);
  await waitFor(
    () => record(dir.path, "rec").some((l) => l.startsWith("got ~alice hello embedded town")),
    30_000,
    "the bot to get alice's line",
  );
  const halt = await cli(["halt", "rec", "--config", file]);
  assert.equal(halt.code, 0, halt.stderr);
  const st = await cli(["status", "rec", "--json", "--config", file]);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout)[0].halted, true);
  assert.doesNotMatch(control.log(), /refused|Permissions Violation/i);
});

test("control embedded - the node's admin applies a bots list and the control server follows it; the control credential may not", async () => {
  const bots = join(dir.path, "bots.yaml");
  writeFileSync(bots, `bots:\n${recorderBot(dir.path, "rec2")}`);
  const refused = await cli(["apply", bots, "--config", file]);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(
    refused.stderr,
    /^bustle-control: NATS refused user "town\.control" permission to publish to "\$JS\.API\.STREAM\.CREATE\.KV_bustle-config": only the federation's admin may change the bots config/,
  );
  const adminYaml = join(dir.path, "admin.yaml");
  writeFileSync(
    adminYaml,
    `nats: {config: ${files.config}, user: town.admin, password_file: ${join(files.state, "auth", "admin.password")}}\nbots: []\n`,
  );
  const r = await cli(["apply", bots, "--config", adminYaml]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^applied revision 1: 1 bot\(s\): rec2 \(exec\) \(\+rec2\)\n$/);
  // rec (only in control.yaml) stops, rec2 (the stored list) starts.
  await waitFor(
    () => record(dir.path, "rec2").some((l) => l.startsWith("start ")) && record(dir.path, "rec").at(-1) === "end town",
    30_000,
    "rec2 to start and rec to stop",
  );
  const st = await cli(["status", "--json", "--config", file]);
  assert.deepEqual(
    (JSON.parse(st.stdout) as Array<{ id: string }>).map((b) => b.id),
    ["rec2"],
  );
  const h = await cli(["history", "--json", "--config", file]);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(JSON.parse(h.stdout)[0].applied.user, "town.admin");
});
