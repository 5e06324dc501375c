import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ChildProgram } from "../../cluster/child.js";
import { bin } from "../support/paths.js";
import { BUSTLE_CLUSTER, runCliSync } from "../support/cli.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { countLines, SpoolWriter, startFederation } from "./harness.js";

const tmp = tempDir("bustle-fed-cli-");
after(() => tmp.remove());

const run = (...args: string[]) => runCliSync(BUSTLE_CLUSTER, args, { timeoutMs: 60_000 });

test("bustle-cluster - init refuses a malformed node spec with exit 2 and one line", () => {
  const r = run("init", "--out", join(tmp.path, "bad"), "--node", "Town=host:4222");
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /Town/);
  assert.equal(existsSync(join(tmp.path, "bad")), false);
});

test("bustle-cluster - init writes each node's conf, node.yaml and private secrets; re-running keeps the passwords", () => {
  const out = join(tmp.path, "fed");
  const args = [
    "init",
    "--out",
    out,
    "--node",
    "town=10.0.0.1:4222:6222:1",
    "--node",
    "club=club.example:4222:6222",
    "--node",
    "envs=10.0.0.3:4222:6222",
    "--member",
    "late",
    "--bot",
    "irc-town=town,club",
  ];
  const first = run(...args);
  assert.equal(first.code, 0, first.stderr);
  const conf = readFileSync(join(out, "town", "nats-server.conf"), "utf8");
  assert.match(conf, /server_name: "town"/);
  assert.match(conf, /nats-route:\/\/route:[^@]+@club\.example:6222/);
  assert.match(conf, /nats-route:\/\/route:[^@]+@10\.0\.0\.3:6222/);
  assert.match(conf, /"bustle\.ev\.late\.>"/, "a member's user is known to every core server");
  assert.equal(statSync(join(out, "town", "nats-server.conf")).mode & 0o777, 0o600);
  assert.equal(statSync(join(out, "town", "secrets", "relay.password")).mode & 0o777, 0o600);
  assert.equal(existsSync(join(out, "late", "nats-server.conf")), false);
  const yaml = readFileSync(join(out, "club", "node.yaml"), "utf8");
  assert.match(
    yaml,
    /servers: \["tls:\/\/club\.example:4222", "tls:\/\/10\.0\.0\.1:4222", "tls:\/\/10\.0\.0\.3:4222"\]/,
    "TLS by default",
  );
  assert.match(yaml, /tls: \{ca: tls\/ca\.pem\}/);
  assert.match(yaml, /replicas: 3/);
  assert.match(conf, /tls \{/);
  // No user's password is in any conf, only bcrypt hashes; the admin's lives in admin/ alone.
  const passwords = ["town", "club", "envs", "late"]
    .flatMap((id) => ["relay", "control"].map((w) => join(out, id, "secrets", `${w}.password`)))
    .filter(existsSync)
    .concat(join(out, "admin", "admin.password"))
    .map((f) => readFileSync(f, "utf8").trim());
  assert.equal(passwords.length, 8, "relay passwords for 4 nodes, control for the 3 core nodes, the admin's");
  for (const pw of passwords) assert.ok(!conf.includes(pw), "a plain password in the conf");
  assert.equal((conf.match(/password: "\$2a\$10\$/g) ?? []).length, 8);
  assert.equal(statSync(join(out, "admin", "admin.password")).mode & 0o777, 0o600);
  for (const id of ["town", "club", "envs", "late"])
    assert.equal(
      existsSync(join(out, id, "admin.password")) || existsSync(join(out, id, "secrets", "admin.password")),
      false,
    );
  // A member without a control server gets no control credential and no control.yaml.
  assert.equal(existsSync(join(out, "late", "secrets", "control.password")), false);
  assert.equal(existsSync(join(out, "late", "control.yaml")), false);
  assert.match(
    readFileSync(join(out, "town", "control.yaml"), "utf8"),
    /nats: \{config: node\.yaml, user: "town\.control", password_file: secrets\/control\.password\}[\s\S]*may run \(and steer\) these bots: irc-town/,
  );
  assert.match(readFileSync(join(out, "envs", "control.yaml"), "utf8"), /may run no bot yet/);
  const pw = readFileSync(join(out, "club", "secrets", "relay.password"), "utf8");
  const cert = readFileSync(join(out, "club", "tls", "node.pem"), "utf8");
  assert.equal(run(...args).code, 0);
  assert.equal(readFileSync(join(out, "club", "secrets", "relay.password"), "utf8"), pw);
  assert.equal(readFileSync(join(out, "club", "tls", "node.pem"), "utf8"), cert);
});

test("bustle-cluster - init --tls, as older scripts say it, is accepted and the same as the default; --help says so", () => {
  const out = join(tmp.path, "tls-flag");
  const r = run("init", "--out", out, "--tls", "--node", "town=10.0.0.1:4222:6222");
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(out, "town", "node.yaml"), "utf8"), /servers: \["tls:\/\/10\.0\.0\.1:4222"\]/);
  assert.ok(existsSync(join(out, "town", "tls", "node.pem")));
  const help = run("init", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout.replace(/\s+/g, " "), / --tls the default, accepted so scripts that say it keep working: /);
  assert.match(help.stdout, / --no-tls /);
});

test("bustle-cluster - init --no-tls writes plain nats:// URLs and no CA; a bot granted to a node without a control server is refused", () => {
  const out = join(tmp.path, "plain");
  const r = run("init", "--out", out, "--no-tls", "--node", "town=10.0.0.1:4222:6222", "--member", "late");
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(out, "late", "node.yaml"), "utf8"), /servers: \["nats:\/\/10\.0\.0\.1:4222"\]/);
  assert.equal(existsSync(join(out, "ca")), false);
  const bad = run(
    "init",
    "--out",
    join(tmp.path, "bad-bot"),
    "--node",
    "town=10.0.0.1:4222:6222",
    "--member",
    "late",
    "--bot",
    "irc=late",
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /late runs no control server/);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
});

test("bustle-cluster - status reports routes, the meta leader, R3 replicas and every node's log position", async () => {
  const fed = await startFederation(join(tmp.path, "status"));
  try {
    const writers = fed.nodes.map((n) => new SpoolWriter(n.id, n.homes));
    writers.forEach((w) => w.write(5));
    await waitFor(() => fed.nodes.every((n) => countLines(n.log) === 15), 30_000, "15 lines in every log");
    const st = await waitFor(
      () => {
        const r = run("status", "--dir", fed.dir, "--json");
        if (r.code !== 0) return undefined;
        const j = JSON.parse(r.stdout);
        return j.logs.length === 3 && j.logs.every((l: { lag?: number }) => l.lag === 0) ? j : undefined;
      },
      20_000,
      "status to see every log up to date",
    );
    assert.equal(st.servers.length, 3);
    for (const s of st.servers)
      assert.deepEqual(
        s.routes,
        fed.nodes.map((n) => n.id).filter((id) => id !== s.id),
      );
    assert.ok(fed.nodes.some((n) => n.id === st.metaLeader));
    assert.equal(st.stream.replicas, 3);
    assert.equal(st.stream.lastSeq, 15);
    assert.equal(st.stream.peers.length, 3);
    const human = run("status", "--config", fed.node("n2").config);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /meta +JetStream meta leader n\d/);
    assert.match(human.stdout, /n2 +seq 15, up to date/);
  } finally {
    await fed.stop();
  }
});

test("bustle-cluster - status with no server answering fails with one line", () => {
  const r = run("status", "--dir", join(tmp.path, "fed"));
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

test("bustle-cluster - up runs a local federation that carries events, and Ctrl-C stops it all", async () => {
  const dir = join(tmp.path, "up");
  let out = "";
  const up = new ChildProgram({
    name: "bustle-cluster up",
    argv: [process.execPath, bin(BUSTLE_CLUSTER), "up", "--nodes", "3", "--dir", dir],
    onOutput: (b) => (out += b),
  });
  await up.start();
  try {
    await waitFor(() => out.includes("federation up"), 60_000, "bustle-cluster up to report the federation up");
    await waitFor(() => existsSync(join(dir, "n3", "state")), 30_000, "the relays to start");
    await waitFor(
      () => /connected to NATS/.test(readFileSync(join(dir, "n1", "bustled.out"), "utf8")),
      30_000,
      "relay n1 to connect",
    );
    new SpoolWriter("n1", join(dir, "n1", "homes")).write(1);
    await waitFor(
      () => ["n1", "n2", "n3"].every((id) => countLines(join(dir, id, "bustle.log")) === 1),
      30_000,
      "the event in every node's log",
    );
    const pids = ["n1", "n2", "n3"].map((id) => Number(readFileSync(join(dir, id, "nats-server.pid"), "utf8")));
    up.signal("SIGINT");
    assert.equal(await up.waitExit(), 0);
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `nats-server ${pid} is gone`);
  } finally {
    await up.kill();
  }
});
