import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEvent, type BustleEvent } from "../../cluster/envelope.js";
import { tempDir } from "../../cluster/temp.js";
import { sleep, waitFor } from "../../cluster/wait-for.js";
import {
  cli,
  controlYaml,
  FAST_SUPERVISE,
  startControlBus,
  statusJson,
  held,
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

const dir = tempDir("bustle-control-cmd-");
const d = dir.path;
const file = join(d, "control.yaml");
let bus: ControlBus;
let server: ControlBus["server"];
let nc: ControlBus["nc"];
let control: ControlProcess;

const crashy = `  - id: crashy\n    type: exec\n    exec: {command: [sh, -c, 'echo "start $(date +%s.%N)" >> ${join(d, "out-crashy.txt")}; exit 1']}\n`;
const pyecho = (script: string) =>
  `  - id: pyecho\n    type: exec\n    kinds: [update]\n    format: "{actor} said {text}"\n    exec: {command: [python3, -u, ${script}]}\n`;
const PY = `import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(json.dumps({"kind": "chat", "text": "py heard: " + e["formatted"] + " (seq " + str(e["seq"]) + ")"}), flush=True)
`;
const only = "    kinds: [update]\n";
const yaml = (bots: string) =>
  controlYaml({ node: "town", urls: [server.url], stateDir: join(d, "state"), extra: FAST_SUPERVISE, bots });

before(async () => {
  bus = await startControlBus(d);
  ({ server, nc } = bus);
  writeRecorder(d);
  writeFileSync(join(d, "pyecho.py"), PY);
  writeFileSync(
    file,
    yaml(recorderBot(d, "echo", only) + recorderBot(d, "steady", only) + crashy + pyecho(join(d, "pyecho.py"))),
  );
  control = startControl(file, join(d, "control.log"));
});
after(async () => {
  if (control) await stopControl(control);
  await bus.stop();
  dir.remove();
});

/** `bustle-control status BOT --json`, as a user runs it. */
const status = (id?: string) => statusJson(file, id);
/** The same answer without starting a CLI process (for polling). */
const one = async (id: string) => (await held(nc)).find((b) => b.id === id);
const got = (id: string) => record(d, id).filter((l) => l.startsWith("got "));

test("control - bots start and events are delivered to them; a python exec bot round-trips", async () => {
  const replies: BustleEvent[] = [];
  nc.subscribe("bustle.ev.*.pyecho.>", { callback: (_e, m) => void replies.push(decodeEvent(m.data)) });
  await waitFor(
    () => starts(record(d, "echo")).length === 1 && starts(record(d, "steady")).length === 1,
    30_000,
    "echo and steady to start",
  );
  await waitFeeding(nc, ["echo", "steady", "pyecho"]);
  await publish(nc, "first");
  await waitFor(() => got("echo").length === 1 && got("steady").length === 1, 10_000, "the event at both bots");
  assert.equal(got("echo")[0], "got first town");
  await waitFor(() => replies.length === 1, 10_000, "the python bot's answer in the stream");
  assert.match(replies[0]!.text, /^py heard: alice said first \(seq \d+\)$/);
  assert.deepEqual(
    [replies[0]!.source, replies[0]!.node, replies[0]!.kind, replies[0]!.actor],
    ["pyecho", "town", "chat", "pyecho"],
  );
});

test("control - a crashing bot is restarted with exponential backoff, then given up loudly", async () => {
  await waitFor(async () => (await one("crashy"))?.state === "failed", 30_000, "crashy to be given up");
  const times = starts(record(d, "crashy")).map((l) => Number(l.split(" ")[1]));
  assert.equal(times.length, 4, "started exactly give_up_after times");
  for (let i = 1; i < times.length; i++) {
    const pause = (times[i]! - times[i - 1]!) * 1000;
    assert.ok(pause >= 300 * 2 ** (i - 1) * 0.9, `pause ${i} was ${pause} ms, backoff ${300 * 2 ** (i - 1)} ms`);
  }
  const s = (await status("crashy"))[0]!;
  assert.equal(s.restarts, 3);
  assert.match(s.lastError ?? "", /exited with code 1/);
  assert.match(control.log(), /"level":"error".*crashed 4 times in a row soon after starting; giving up/);
  const table = await cli(["status", "--config", file]);
  assert.match(table.stdout, /^crashy\s+exec\s+failed\s+town\s+-\s+3\s/m);
  // `restart` tries again after giving up.
  const r = await cli(["restart", "crashy", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  await waitFor(() => starts(record(d, "crashy")).length >= 5, 10_000, "crashy started again after restart");
});

test("control - halt stops deliveries, resume continues with new events only", async () => {
  const h = await cli(["halt", "echo", "--config", file]);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /echo halted/);
  assert.equal((await status("echo"))[0]!.halted, true);
  await publish(nc, "while-halted");
  await waitFor(() => got("steady").some((l) => l.includes("while-halted")), 10_000, "steady to get the event");
  await sleep(500);
  assert.ok(!got("echo").some((l) => l.includes("while-halted")), "a halted bot receives nothing");
  const r = await cli(["resume", "echo", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await one("echo"))?.halted, false);
  await publish(nc, "after-resume");
  await waitFor(() => got("echo").some((l) => l.includes("after-resume")), 10_000, "echo to get the next event");
  assert.ok(!got("echo").some((l) => l.includes("while-halted")));
  assert.equal(starts(record(d, "echo")).length, 1, "halt and resume do not restart the bot");
});

test("control - stop stops the bot until resume; restart restarts it", async () => {
  const s = await cli(["stop", "echo", "--config", file]);
  assert.equal(s.code, 0, s.stderr);
  await waitFor(() => record(d, "echo").at(-1)?.startsWith("end "), 10_000, "the program to see the end of its input");
  assert.equal((await status("echo"))[0]!.state, "stopped");
  await publish(nc, "while-stopped");
  await waitFor(() => got("steady").some((l) => l.includes("while-stopped")), 10_000, "steady to get the event");
  const r = await cli(["resume", "echo", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  await waitFor(() => starts(record(d, "echo")).length === 2, 15_000, "echo to start again");
  // A stopped bot keeps its position: what came meanwhile is delivered after it starts again.
  await waitFor(() => got("echo").some((l) => l.includes("while-stopped")), 10_000, "echo to catch up");
  const rs = await cli(["restart", "echo", "--config", file]);
  assert.equal(rs.code, 0, rs.stderr);
  await waitFor(() => starts(record(d, "echo")).length === 3, 15_000, "echo to restart");
  await waitFor(async () => (await one("echo"))?.state === "running", 10_000, "echo running");
});

test("control - commands for unknown or unplaced bots fail with one clear line", async () => {
  const r = await cli(["halt", "nosuch", "--config", file]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^bustle-control: no bot "nosuch" in .*control\.yaml or the federation's bots config; known: echo, steady, crashy, pyecho\n$/,
  );
  const u = await cli(["halt"]);
  assert.equal(u.code, 2, "usage error");
});

test("control - SIGTERM stops every bot gracefully and exits 0", async () => {
  const code = await stopControl(control);
  assert.equal(code, 0);
  for (const id of ["echo", "steady"])
    assert.match(record(d, id).at(-1) ?? "", /^end town$/, `${id} saw the end of its input`);
});
