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
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../support/relay-process.js";
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
  await waitFor(() => record(dir.path, "rec").some((l) => l.startsWith("got ~alice hello embedded town")), 30_000, "the bot to get alice's line");
  const halt = await cli(["halt", "rec", "--config", file]);
  assert.equal(halt.code, 0, halt.stderr);
  const st = await cli(["status", "rec", "--json", "--config", file]);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout)[0].halted, true);
  assert.doesNotMatch(control.log(), /refused|Permissions Violation/i);
});
