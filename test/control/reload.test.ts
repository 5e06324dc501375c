import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import {
  cli,
  controlYaml,
  FAST_SUPERVISE,
  startControlBus,
  statusJson,
  waitFeeding,
  publish,
  record,
  recorderBot,
  startControl,
  starts,
  stopControl,
  writeRecorder,
  type ControlBus,
  type ControlProcess,
} from "./harness.js";

const dir = tempDir("bustle-control-reload-");
const d = dir.path;
const file = join(d, "control.yaml");
let bus: ControlBus;
let server: ControlBus["server"];
let nc: ControlBus["nc"];
let control: ControlProcess;

const yaml = (bots: string) =>
  controlYaml({ node: "town", urls: [server.url], stateDir: join(d, "state"), extra: FAST_SUPERVISE, bots });

before(async () => {
  bus = await startControlBus(d);
  ({ server, nc } = bus);
  writeRecorder(d);
  writeFileSync(file, yaml(recorderBot(d, "echo") + recorderBot(d, "steady") + recorderBot(d, "doomed")));
  control = startControl(file, join(d, "control.log"));
});
after(async () => {
  if (control) await stopControl(control);
  await bus.stop();
  dir.remove();
});

/** `bustle-control status BOT --json`, as a user runs it. */
const status = (id?: string) => statusJson(file, id);
const got = (id: string) => record(d, id).filter((l) => l.startsWith("got "));

test("control reload - bots start", async () => {
  await waitFeeding(nc, ["echo", "steady", "doomed"]);
});

test("control reload - reload re-reads control.yaml for one bot", async () => {
  const before = starts(record(d, "echo")).length;
  writeFileSync(
    file,
    yaml(recorderBot(d, "echo", `    format: "R:{text}"\n`) + recorderBot(d, "steady") + recorderBot(d, "doomed")),
  );
  const r = await cli(["reload", "echo", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /reloaded/);
  await waitFor(() => starts(record(d, "echo")).length === before + 1, 15_000, "echo to restart with its new config");
  await waitFeeding(nc, ["echo"]);
  await publish(nc, "reformatted");
  await waitFor(() => got("echo").some((l) => l.includes("R:reformatted")), 10_000, "the new format");
  assert.equal(starts(record(d, "steady")).length, 1, "other bots untouched");
});

test("control reload - SIGHUP starts added, stops removed and restarts only changed bots", async () => {
  const steadyStarts = starts(record(d, "steady")).length;
  const echoStarts = starts(record(d, "echo")).length;
  writeFileSync(
    file,
    yaml(recorderBot(d, "echo", `    format: "H:{text}"\n`) + recorderBot(d, "steady") + recorderBot(d, "fresh")),
  );
  control.proc.kill("SIGHUP");
  await waitFor(() => starts(record(d, "fresh")).length === 1, 20_000, "the added bot to start");
  await waitFeeding(nc, ["fresh"]);
  await waitFor(() => starts(record(d, "echo")).length === echoStarts + 1, 15_000, "the changed bot to restart");
  await waitFor(
    async () => {
      const list = await status();
      return list.length === 3 && list.every((b) => b.state === "running") && !list.some((b) => b.id === "doomed");
    },
    15_000,
    "status: echo, steady, fresh running and doomed gone",
  );
  assert.match(record(d, "doomed").at(-1) ?? "", /^end town$/, "the removed bot was stopped");
  await publish(nc, "after-hup");
  await waitFor(
    () => got("fresh").some((l) => l.includes("after-hup")) && got("echo").some((l) => l.includes("H:after-hup")),
    10_000,
    "events at the new and changed bots",
  );
  assert.equal(starts(record(d, "steady")).length, steadyStarts, "the unchanged bot was not restarted");
});

test("control reload - a broken control.yaml on SIGHUP keeps the old config running and says why", async () => {
  const before = ["echo", "steady", "fresh"].map((id) => starts(record(d, id)).length);
  writeFileSync(file, "node: town\nbots: [\n");
  control.proc.kill("SIGHUP");
  await waitFor(
    () =>
      /control\.yaml not reloaded; the old config keeps running: .*control\.yaml:3: YAML syntax error/.test(
        control.log(),
      ),
    10_000,
    "the reload error in the log",
  );
  await publish(nc, "still-here");
  await waitFor(
    () => ["echo", "steady", "fresh"].every((id) => got(id).some((l) => l.includes("still-here"))),
    10_000,
    "all bots still delivering",
  );
  assert.deepEqual(
    ["echo", "steady", "fresh"].map((id) => starts(record(d, id)).length),
    before,
    "nothing restarted",
  );
  assert.ok(control.alive());
});

test("control reload - SIGTERM stops every bot gracefully and exits 0", async () => {
  const code = await stopControl(control);
  assert.equal(code, 0);
  for (const id of ["echo", "steady", "fresh"])
    assert.match(record(d, id).at(-1) ?? "", /^end town$/, `${id} saw the end of its input`);
});
