/**
 * Control credentials on a real 3-server TLS federation made by init (`--bot echo-b=n2`): the
 * control.yaml init wrote for n2 runs the bot as generated; n1's control credential — a member
 * turned hostile — cannot take echo-b's lease, rewrite its position or admin flags, steer it or
 * answer for it, and n1's own control server, told to run echo-b, says why in one line and
 * leaves it alone. Through all of it n2's bot keeps running and delivering.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { sendCommand } from "../../control/client.js";
import { waitFor } from "../../cluster/wait-for.js";
import {
  cli,
  held,
  record,
  recorderBot,
  startControl,
  stopControl,
  waitFeeding,
  writeRecorder,
  type ControlProcess,
} from "../control/harness.js";
import type { LocalFederation } from "../../federation/local.js";
import { tempDir } from "../../cluster/temp.js";
import { connectAs, SpoolWriter, startFederation, type RoleConnection } from "./harness.js";

const tmp = tempDir("bustle-fed-ctl-");
let federation: LocalFederation | undefined;
const fed = () => federation!;
const open: RoleConnection[] = [];
const controls: ControlProcess[] = [];
let admin: RoleConnection;
let writer: SpoolWriter;
let dir: string;

async function as(who: string, role: "relay" | "control" | "admin"): Promise<RoleConnection> {
  const c = await connectAs(fed(), who, role);
  open.push(c);
  return c;
}

/** Adds bot entries to a control.yaml init wrote (it ends with `bots: []`). */
function addBots(file: string, bots: string): void {
  writeFileSync(file, readFileSync(file, "utf8").replace(/^bots: \[\]$/m, `bots:\n${bots}`));
}

/** One spool line on n1 reaches n2's bot: it is running and delivering. */
async function delivers(): Promise<void> {
  const n = writer.next;
  writer.write(1);
  await waitFor(
    () => record(dir, "echo-b").some((l) => l.startsWith(`got ~alice m n1 alice ${n} `)),
    30_000,
    `echo-b to deliver line ${n}`,
  );
}

before(async () => {
  federation = await startFederation(tmp.path, {
    tls: true,
    bots: [
      { id: "echo-b", nodes: ["n2"] },
      { id: "echo-a", nodes: ["n1"] },
    ],
  });
  const f = fed();
  dir = join(f.dir, "bots");
  mkdirSync(dir, { recursive: true });
  writeRecorder(dir);
  addBots(join(f.node("n2").dir, "control.yaml"), recorderBot(dir, "echo-b"));
  controls.push(startControl(join(f.node("n2").dir, "control.yaml"), join(f.node("n2").dir, "control.out")));
  admin = await as("admin", "admin");
  writer = new SpoolWriter("n1", f.node("n1").homes);
  await waitFeeding(admin.nc, ["echo-b"], 60_000);
});
after(async () => {
  await Promise.all(controls.map(stopControl));
  await Promise.all(open.map((c) => c.nc.close().catch(() => {})));
  await federation?.stop();
  tmp.remove();
});

test("control scope - the control.yaml init writes serves a bot as generated", async () => {
  await delivers();
  const st = await cli(["status", "echo-b", "--json", "--config", join(fed().node("n2").dir, "control.yaml")]);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout)[0].node, "n2");
  assert.doesNotMatch(controls[0]!.log(), /Permissions Violation|refused/i);
});

test("control scope - another node's control credential cannot take, rewind, halt or answer for n2's bot", async () => {
  const mallory = await as("n1", "control");
  const leases = await new Kvm(mallory.nc).open("bustle-leases");
  const state = await new Kvm(mallory.nc).open("bustle-bots");
  const holder = (await leases.get("echo-b"))?.string();
  assert.match(holder ?? "", /"node":"n2"/);
  const pos = (await state.get("pos.echo-b"))?.string();
  const attempts: [string, Promise<unknown>][] = [
    ["$KV.bustle-leases.echo-b", leases.put("echo-b", JSON.stringify({ holder: "mallory", node: "n1", pid: 1 }))],
    ["$KV.bustle-leases.echo-b", leases.delete("echo-b")],
    ["$KV.bustle-leases.echo-b", leases.purge("echo-b")],
    ["$KV.bustle-bots.pos.echo-b", state.put("pos.echo-b", JSON.stringify({ seq: 0, at: new Date().toISOString() }))],
    ["$KV.bustle-bots.admin.echo-b", state.put("admin.echo-b", JSON.stringify({ halted: true, stopped: true }))],
    ["bustle.ctl.bot.echo-b", sendCommand(mallory.nc, "echo-b", "halt", 3_000)],
  ];
  for (const [subject, p] of attempts) await assert.rejects(p, `${subject} was not refused`);
  // Nor may it listen where the holder answers (to hijack commands meant for n2).
  mallory.nc.subscribe("bustle.ctl.bot.echo-b");
  await waitFor(
    () => attempts.every(([s]) => mallory.refused.includes(s)) && mallory.refused.includes("bustle.ctl.bot.echo-b"),
    10_000,
    `the server to refuse every attempt (refused: ${mallory.refused.join(" ")})`,
  );

  assert.equal(
    (await new Kvm(admin.nc).open("bustle-leases").then((kv) => kv.get("echo-b")))?.string(),
    holder,
    "n2 still holds the lease",
  );
  const after = JSON.parse(
    (await new Kvm(admin.nc).open("bustle-bots").then((kv) => kv.get("pos.echo-b")))?.string() ?? "{}",
  ) as { seq?: number };
  assert.ok((after.seq ?? 0) >= (JSON.parse(pos ?? "{}") as { seq?: number }).seq!, "the position was not rewound");
  const b = (await held(admin.nc)).find((x) => x.id === "echo-b");
  assert.equal(b?.node, "n2");
  assert.equal(b?.halted, false);
  await delivers();
});

test("control scope - a control server told to run a bot its node may not run says so in one line and leaves it alone", async () => {
  const f = fed();
  const file = join(f.node("n1").dir, "control.yaml");
  addBots(file, recorderBot(dir, "echo-b"));
  const c = startControl(file, join(f.node("n1").dir, "control.out"));
  controls.push(c);
  await waitFor(() => /may not run bot echo-b/.test(c.log()), 30_000, "n1's control server to report the refusal");
  const lines = c
    .log()
    .split("\n")
    .filter((l) => l.includes("may not run bot echo-b"));
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(
    lines[0]!,
    /NATS refused user \\"n1\.control\\" permission to publish to \\"\$KV\.bustle-leases\.echo-b\\"/,
  );
  assert.ok(c.alive(), "n1's control server keeps running");
  // n1's CLI cannot steer it either: one line, exit 1.
  const steer = await cli(["halt", "echo-b", "--config", file]);
  assert.equal(steer.code, 1);
  assert.equal(steer.stderr.trim().split("\n").length, 1, steer.stderr);
  assert.match(
    steer.stderr,
    /refused this credential permission to publish to "bustle\.ctl\.bot\.echo-b": only the federation's admin and the nodes granted echo-b/,
  );
  await delivers();
  assert.equal((await held(admin.nc)).find((x) => x.id === "echo-b")?.node, "n2");
  await stopControl(c);
});

test("control scope - the admin and the bot's own node may steer it", async () => {
  const r = await sendCommand(admin.nc, "echo-b", "halt");
  assert.equal(r.ok, true);
  await waitFor(
    async () => (await held(admin.nc)).find((x) => x.id === "echo-b")?.halted === true,
    10_000,
    "echo-b halted",
  );
  const resume = await cli(["resume", "echo-b", "--config", join(fed().node("n2").dir, "control.yaml")]);
  assert.equal(resume.code, 0, resume.stderr);
  await waitFor(
    async () => (await held(admin.nc)).find((x) => x.id === "echo-b")?.halted === false,
    10_000,
    "echo-b resumed",
  );
  await delivers();
});

test("control scope - relay credentials in control.yaml fail at start-up with one line naming the subject and the user", async () => {
  const n3 = fed().node("n3");
  const file = join(n3.dir, "control-as-relay.yaml");
  writeFileSync(file, `nats: {config: node.yaml, user: n3, password_file: secrets/relay.password}\nbots: []\n`);
  const r = await cli(["serve", "--config", file]);
  assert.equal(r.code, 1);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("bustle-control: "));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(
    errors[0]!,
    /^bustle-control: NATS refused user "n3" permission to publish to "\$JS\.API\.STREAM\.(INFO|CREATE)\.KV_bustle-(leases|bots)": /,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});

test("control scope - a node without a control credential is told so by nats.config", async () => {
  // A member's folder as init writes it: node.yaml and the relay's password only.
  const n3 = fed().node("n3");
  const m = join(fed().dir, "member-like");
  mkdirSync(join(m, "secrets"), { recursive: true, mode: 0o700 });
  copyFileSync(n3.config, join(m, "node.yaml"));
  copyFileSync(join(n3.dir, "secrets", "relay.password"), join(m, "secrets", "relay.password"));
  mkdirSync(join(m, "tls"), { recursive: true });
  copyFileSync(join(n3.dir, "tls", "ca.pem"), join(m, "tls", "ca.pem"));
  writeFileSync(join(m, "control.yaml"), "nats: {config: node.yaml}\nbots: []\n");
  const r = await cli(["check", "--config", join(m, "control.yaml")]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /no control credential/);
});
