/**
 * One bots config for the federation, on a real 3-server federation made by init (`--bot
 * echo-a=n1,n2 --bot echo-b=n1,n2`), with control servers on n1 and n2 whose own control.yaml
 * lists no bots: the admin applies a list of two bots, changes one, rolls back; every control
 * server follows, and at every sample each bot runs exactly once (the bot programs on this
 * machine counted from /proc, and the control servers' status answers). A member's control or
 * relay credential is refused, and a bad file stores nothing; both say why in one line.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LocalFederation } from "../../federation/local.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { connectAs, SpoolWriter, startFederation, type RoleConnection } from "../federation/harness.js";
import {
  cli,
  held,
  record,
  recorderBot,
  startControl,
  starts,
  stopControl,
  writeRecorder,
  type ControlProcess,
} from "./harness.js";

const tmp = tempDir("bustle-bots-config-");
let federation: LocalFederation | undefined;
const fed = () => federation!;
const controls: ControlProcess[] = [];
let admin: RoleConnection;
let writer: SpoolWriter;
let dir: string;
let adminYaml: string;
const revs: number[] = [];

const BOTS = ["echo-a", "echo-b"];

/**
 * The recorder programs running for `id` right now (their shells, from /proc). A shell's own
 * `$(...)` forks a child with the same command line for a moment; a recorder whose parent is a
 * recorder is that child, not a second copy.
 */
function copies(id: string): number {
  const out = join(dir, `out-${id}.txt`);
  const parents = new Map<string, string>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (!argv.includes(out) || !argv.some((a) => a.endsWith("recorder.sh"))) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parents.set(pid, fields[1]!);
    } catch {
      /* gone meanwhile */
    }
  }
  return [...parents.values()].filter((ppid) => !parents.has(ppid)).length;
}

/**
 * Samples both counts until `until` resolves: no bot ever has two copies (processes or holders),
 * and each id in `steady` has exactly one process at every sample. Resolves with the samples taken.
 */
async function sampled(steady: string[], until: Promise<unknown>): Promise<number> {
  let done = false;
  const finished = until.finally(() => (done = true));
  const problems: string[] = [];
  let samples = 0;
  const procs = (async () => {
    while (!done) {
      for (const id of BOTS) {
        const c = copies(id);
        if (c > 1 || (steady.includes(id) && c !== 1)) problems.push(`${id}: ${c} copies at sample ${samples}`);
      }
      samples++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const holders = (async () => {
    while (!done) {
      const list = await held(admin.nc);
      for (const id of BOTS) {
        const h = list.filter((b) => b.id === id && b.state !== "stopped");
        if (h.length > 1) problems.push(`${id}: held by ${h.map((b) => b.node).join(", ")}`);
      }
    }
  })();
  await finished;
  await Promise.all([procs, holders]);
  assert.deepEqual(problems.slice(0, 5), [], "exactly one copy of each bot at every sample");
  for (const id of BOTS) assert.ok(!record(dir, id).some((l) => l.startsWith("DOUBLE")), `${id} never ran twice`);
  return samples;
}

/** One spool line on n3 reaches bot `id` formatted with `prefix`. */
async function delivers(id: string, prefix: string): Promise<void> {
  const n = writer.next;
  writer.write(1);
  await waitFor(
    () => record(dir, id).some((l) => l.startsWith(`got ${prefix}~alice m n3 alice ${n} `)),
    30_000,
    `${id} to deliver line ${n} as ${prefix}`,
  );
}

function botsFile(name: string, bFormat: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `# the federation's bots\nbots:\n${recorderBot(dir, "echo-a", `    format: "A:{text}"\n`)}${recorderBot(dir, "echo-b", `    format: "${bFormat}{text}"\n`)}`,
  );
  return file;
}

async function apply(file: string, config = adminYaml) {
  return cli(["apply", file, "--config", config]);
}

async function history(config = adminYaml): Promise<
  Array<{
    revision: number;
    current: boolean;
    applied?: { user: string; unix: string; host: string };
    bots?: string[];
    rollback_of?: number;
  }>
> {
  const r = await cli(["history", "--json", "--config", config]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  federation = await startFederation(tmp.path, {
    bots: [
      { id: "echo-a", nodes: ["n1", "n2"] },
      { id: "echo-b", nodes: ["n1", "n2"] },
    ],
  });
  const f = fed();
  dir = join(f.dir, "bots");
  mkdirSync(dir, { recursive: true });
  writeRecorder(dir);
  adminYaml = join(f.adminDir, "admin.yaml");
  for (const id of ["n1", "n2"])
    controls.push(startControl(join(f.node(id).dir, "control.yaml"), join(f.node(id).dir, "control.out")));
  admin = await connectAs(f, "admin", "admin");
  writer = new SpoolWriter("n3", f.node("n3").homes);
  // Both control servers are up (answering status) before anything is applied.
  await waitFor(
    async () =>
      (await cli(["status", "--json", "--config", adminYaml])).code === 0 &&
      controls.every((c) => /control server started/.test(c.log())),
    60_000,
    "both control servers to start",
  );
});
after(async () => {
  await Promise.all(controls.map(stopControl));
  await admin?.nc.close().catch(() => {});
  await federation?.stop();
  tmp.remove();
});

test("bots config - no config applied yet: history says so and the control servers run their own (empty) lists", async () => {
  const r = await cli(["history", "--config", adminYaml]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^no bots config applied yet/);
  assert.deepEqual(await held(admin.nc), []);
});

test("bots config - a bad file stores nothing and names file, line and key", async () => {
  const file = join(dir, "bad.yaml");
  writeFileSync(
    file,
    `bots:\n  - id: echo-a\n    type: exec\n    exec: {command: [/bin/true]}\n  - id: echo-b\n    type: exec\n    formt: "{text}"\n    exec: {command: [/bin/true]}\n`,
  );
  const r = await apply(file);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stderr,
    new RegExp(`^bustle-control: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:7 bots\\[1\\]\\.formt: `),
    r.stderr,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.deepEqual(await history(), [], "nothing stored");
});

test("bots config - apply: both control servers follow, each bot runs exactly once", async () => {
  const r = await apply(botsFile("v1.yaml", "B1:"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^applied revision (\d+): 2 bot\(s\): echo-a \(exec\), echo-b \(exec\) \(\+echo-a \+echo-b\)\n$/,
  );
  revs.push(Number(/revision (\d+)/.exec(r.stdout)![1]));
  await sampled(
    [],
    waitFor(() => (BOTS.every((id) => copies(id) === 1) ? true : undefined), 60_000, "both bots to start"),
  );
  await delivers("echo-a", "A:");
  await delivers("echo-b", "B1:");
  for (const c of controls)
    await waitFor(
      () => /following the federation's bots config/.test(c.log()),
      10_000,
      "each control server to follow the stored list",
    );
  const again = await apply(join(dir, "v1.yaml"));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^unchanged: revision \d+ already has this list/);
});

test("bots config - a changed bot restarts where it runs; the other is not touched", async () => {
  const aStarts = starts(record(dir, "echo-a")).length;
  const bStarts = starts(record(dir, "echo-b")).length;
  const r = await apply(botsFile("v2.yaml", "B2:"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^applied revision \d+: 2 bot\(s\): .* \(~echo-b\)\n$/);
  revs.push(Number(/revision (\d+)/.exec(r.stdout)![1]));
  const n = await sampled(
    ["echo-a"],
    (async () => {
      await waitFor(
        () => starts(record(dir, "echo-b")).length === bStarts + 1 && copies("echo-b") === 1,
        60_000,
        "echo-b to restart with its new entry",
      );
      await delivers("echo-b", "B2:");
    })(),
  );
  assert.ok(n > 3, `sampled ${n} times`);
  assert.equal(starts(record(dir, "echo-a")).length, aStarts, "echo-a was not restarted");
});

test("bots config - rollback re-applies an older revision as a new one", async () => {
  const bStarts = starts(record(dir, "echo-b")).length;
  const r = await cli(["rollback", String(revs[0]), "--config", adminYaml]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^rolled back to revision ${revs[0]} as revision (\\d+): .* \\(~echo-b\\)\\n$`));
  revs.push(Number(/as revision (\d+)/.exec(r.stdout)![1]));
  await sampled(
    ["echo-a"],
    (async () => {
      await waitFor(
        () => starts(record(dir, "echo-b")).length === bStarts + 1 && copies("echo-b") === 1,
        60_000,
        "echo-b to restart with revision 1's entry",
      );
      await delivers("echo-b", "B1:");
    })(),
  );
  const h = await history();
  assert.deepEqual(
    h.map((x) => x.revision),
    revs,
    "history is linear",
  );
  assert.deepEqual(
    h.map((x) => x.current),
    [false, false, true],
  );
  assert.equal(h[2]!.rollback_of, revs[0]);
  for (const x of h) {
    assert.equal(x.applied?.user, "admin");
    assert.equal(x.applied?.unix, (await import("node:os")).userInfo().username);
    assert.deepEqual(x.bots, ["echo-a (exec)", "echo-b (exec)"]);
  }
  const table = await cli(["history", "--config", adminYaml]);
  assert.match(
    table.stdout,
    new RegExp(
      `^${revs[2]}\\*\\s+\\S+ \\S+\\s+admin \\(\\S+@\\S+\\)\\s+2 bot\\(s\\): echo-a \\(exec\\), echo-b \\(exec\\) \\[rollback to ${revs[0]}\\]$`,
      "m",
    ),
  );
  // A node's own status and steering know the stored bots (its control.yaml lists none).
  const st = await cli(["status", "--json", "--config", join(fed().node("n2").dir, "control.yaml")]);
  assert.equal(st.code, 0, st.stderr);
  assert.deepEqual((JSON.parse(st.stdout) as Array<{ id: string; state: string }>).map((b) => [b.id, b.state]).sort(), [
    ["echo-a", "running"],
    ["echo-b", "running"],
  ]);
});

test("bots config - a member's control or relay credential may not apply or roll back; nothing changes", async () => {
  const f = fed();
  const relayYaml = join(f.node("n3").dir, "control-as-relay.yaml");
  writeFileSync(relayYaml, `nats: {config: node.yaml, user: n3, password_file: secrets/relay.password}\nbots: []\n`);
  const tries: Array<[string, string[], RegExp]> = [
    [
      "n1.control",
      ["apply", join(dir, "v2.yaml"), "--config", join(f.node("n1").dir, "control.yaml")],
      /^bustle-control: NATS refused user "n1\.control" permission to publish to "\$KV\.bustle-config\.bots": only the federation's admin may change the bots config/,
    ],
    [
      "n1.control",
      ["rollback", String(revs[1]), "--config", join(f.node("n1").dir, "control.yaml")],
      /^bustle-control: NATS refused user "n1\.control" permission to publish to "\$KV\.bustle-config\.bots": only the federation's admin/,
    ],
    [
      "n3",
      ["apply", join(dir, "v2.yaml"), "--config", relayYaml],
      /^bustle-control: NATS refused user "n3" permission to publish to "\$JS\.API\.STREAM\.INFO\.KV_bustle-config": only the federation's admin/,
    ],
  ];
  for (const [who, args, expected] of tries) {
    const r = await cli(args);
    assert.equal(r.code, 1, `${who}: ${r.stdout}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, expected);
  }
  assert.deepEqual(
    (await history()).map((x) => x.revision),
    revs,
    "nothing stored",
  );
  await delivers("echo-b", "B1:");
  assert.deepEqual(BOTS.map(copies), [1, 1]);
  for (const c of controls)
    assert.doesNotMatch(
      c.log(),
      /refused|cannot follow|not used|"level":"error"/i,
      "the control servers followed without a refusal or an error",
    );
});
