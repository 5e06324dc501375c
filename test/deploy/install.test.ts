import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { buildRoot } from "../support/paths.js";
import { tempDir } from "../../cluster/temp.js";
import { waitFor } from "../../cluster/wait-for.js";
import { BUSTLED_NODE_FLAGS } from "../../relay/programs.js";
import { Sandbox, type RunOptions } from "./sandbox.js";

// The checkout the build came from (dist/ sits in it).
const CHECKOUT = join(buildRoot, "..");
const INSTALL = join(CHECKOUT, "deploy", "install.sh");
const UNITS = ["bustled", "bustle-nats", "bustle-control"];
const HOME = "/home/tester";
const TESTER: RunOptions = { user: 65534, env: { HOME } };
// bustled as its unit runs it: the bustle user with CAP_DAC_READ_SEARCH to read spools.
const AS_BUSTLE: RunOptions = {
  user: "bustle",
  env: { HOME: "/var/lib/bustle" },
  setpriv: ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"],
};

let box: Sandbox;
let relay: { child: ChildProcess; err: string } | undefined;
before(async () => {
  box = await Sandbox.open();
});
after(async () => {
  await stopRelay();
  await box?.close();
});

/** Starts the installed bustled and waits for its start-up line (its spool reader is running then). */
async function startRelay(): Promise<void> {
  const child = box.spawn(["/usr/local/bin/bustled", "--config", "/etc/bustle/node.yaml"], AS_BUSTLE);
  const r = { child, err: "" };
  child.stderr!.on("data", (d: Buffer) => (r.err += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (r.err += d.toString()));
  relay = r;
  await waitFor(() => r.err.includes("bustled: node ") || child.exitCode !== null, 30_000, "bustled's start-up line");
  assert.equal(child.exitCode, null, r.err);
  // nsenter, setpriv and env exec in turn, so this is node itself, started by the command's #! line.
  const words = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0");
  assert.deepEqual(words.slice(1, 1 + BUSTLED_NODE_FLAGS.length), [...BUSTLED_NODE_FLAGS], words.join(" "));
}

async function stopRelay(): Promise<void> {
  if (!relay) return;
  const { child } = relay;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 20_000, "bustled to stop");
  }
  relay = undefined;
}

const sha = (path: string) => box.sh(`sha256sum ${path} | cut -d' ' -f1`);
const feed = async () => {
  const r = await box.run(["bustle", "--no-follow", "-n", "50"], TESTER);
  assert.equal(r.stderr, "", "a plain user's feed finds the log with no flags");
  return r.stdout;
};
async function shoutAndSee(text: string): Promise<void> {
  const r = await box.run(["bustle", "shout", text], TESTER);
  assert.equal(r.code, 0, r.stderr);
  const want = `~tester shouts, '${text.toUpperCase()}'`;
  try {
    await waitFor(async () => (await feed()).includes(want), 30_000, `"${want}" in the feed`);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; the feed: ${JSON.stringify(await feed().catch(String))}; bustled said: ${relay?.err.slice(-2000)}`,
    );
  }
}

test("install - --help, bad options, and a staged install into --root", () => {
  const help = spawnSync("bash", [INSTALL, "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--prefix DIR/);
  assert.match(help.stdout, /--uninstall/);
  const bad = spawnSync("bash", [INSTALL, "--bogus"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, "install.sh: unknown option --bogus (see --help)\n");

  const root = tempDir("bustle-install-root-");
  try {
    const r = spawnSync("bash", [INSTALL, "--root", root.path, "--prefix", "/srv/bustle"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      readlinkSync(join(root.path, "usr/local/bin/bustle")),
      "/srv/bustle/dist/relay/bin/bustle.js",
      "links point where the tree will be",
    );
    assert.ok(existsSync(join(root.path, "srv/bustle/dist/relay/bin/bustled.js")));
    for (const asset of ["index.html", "app.js", "style.css", "favicon.svg"]) {
      assert.ok(
        existsSync(join(root.path, "srv/bustle/dist/bots/web/page", asset)),
        `the portal page's ${asset} is installed`,
      );
    }
    assert.ok(!existsSync(join(root.path, "srv/bustle/dist/test")), "no tests in the install");
    assert.ok(!existsSync(join(root.path, "srv/bustle/node_modules/typescript")), "no build tools in the install");
    const unit = readFileSync(join(root.path, "etc/systemd/system/bustled.service"), "utf8");
    assert.match(
      unit,
      new RegExp(
        `^ExecStart=\\S+ ${BUSTLED_NODE_FLAGS.join(" ")} /srv/bustle/dist/relay/bin/bustled\\.js --config /etc/bustle/node\\.yaml$`,
        "m",
      ),
    );
    assert.match(
      readFileSync(join(root.path, "etc/bustle/node.yaml"), "utf8"),
      /^# yaml-language-server: \$schema=file:\/\/\/srv\/bustle\/schema\/node\.schema\.json\n/,
    );
    assert.equal(
      JSON.parse(readFileSync(join(root.path, "srv/bustle/schema/node.schema.json"), "utf8")).title,
      "bustle node.yaml",
    );
    assert.ok(lstatSync(join(root.path, "etc/logrotate.d/bustle")).isFile());
    assert.match(readFileSync(join(root.path, "etc/profile.d/bustle.sh"), "utf8"), /bustle digest/);
    assert.match(
      readFileSync(join(root.path, "etc/sysctl.d/60-bustle.conf"), "utf8"),
      /^fs\.inotify\.max_user_watches = 524288$/m,
    );
  } finally {
    root.remove();
  }
});

test("install - units pass systemd-analyze verify", {
  skip: spawnSync("systemd-analyze", ["--version"]).error
    ? "systemd-analyze is not installed (Debian package systemd)"
    : false,
}, () => {
  for (const u of UNITS) {
    const r = spawnSync("systemd-analyze", ["verify", join(CHECKOUT, "deploy", "systemd", `${u}.service`)], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, `${u}.service: ${r.stderr}`);
    assert.equal(r.stderr.trim(), "", `${u}.service: ${r.stderr}`);
  }
});

test("install - from a checkout to a running node a plain user sees; again keeps everything; --uninstall keeps the data", async () => {
  const first = await box.run(["bash", INSTALL, "--no-apply"], { cwd: CHECKOUT, timeoutMs: 300_000 });
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(
    await box.sh("getent passwd bustle"),
    /^bustle:x:\d+:\d+:[^:]*:\/var\/lib\/bustle:\/usr\/sbin\/nologin$/m,
  );
  assert.equal(
    (await box.sh("stat -c '%U %a' /var/lib/bustle /etc/bustle/node.yaml /etc/bustle/control.yaml")).trim(),
    "bustle 755\nroot 644\nroot 640",
  );
  for (const u of UNITS) {
    const r = await box.run(["systemd-analyze", "verify", `/etc/systemd/system/${u}.service`]);
    if (r.stderr.includes("not found") && r.code === 127) break; // no systemd-analyze (reported by the test above)
    assert.equal(r.code, 0, `installed ${u}.service: ${r.stderr}`);
  }
  await box.sh(`mkdir -p ${HOME} && chown 65534:65534 ${HOME}`);
  // Every user's PATH has the four commands.
  for (const cmd of ["bustle", "bustled", "bustle-control", "bustle-cluster"]) {
    const r = await box.run([cmd, "--help"], TESTER);
    assert.equal(r.code, 0, `${cmd} --help: ${r.stderr}`);
  }

  await startRelay();
  await shoutAndSee("hello from a fresh install");
  const st = await box.run(["bustle", "status", "--json"], { ...TESTER, timeoutMs: 30_000 });
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout).node.logPath, "/var/lib/bustle/bustle.log");
  const fed = await box.run(["bustle-cluster", "status", "--json"], { ...TESTER, timeoutMs: 30_000 });
  assert.equal(fed.code, 0, fed.stderr);
  const report = JSON.parse(fed.stdout) as { logs: { file: string; lag?: number }[]; stream: { error?: string } };
  assert.equal(report.stream.error, undefined, fed.stdout);
  assert.deepEqual(
    report.logs.map((l) => [l.file, l.lag]),
    [["/var/lib/bustle/state/log-position.json", 0]],
  );

  // logrotate's way: rename, then SIGHUP (`systemctl reload bustled`); bustled goes on in a new file.
  await box.sh("mv /var/lib/bustle/bustle.log /var/lib/bustle/bustle.log.1");
  relay!.child.kill("SIGHUP");
  await shoutAndSee("after the rotation");
  assert.ok(!(await feed()).includes("HELLO FROM A FRESH INSTALL"), "the new log starts fresh");
  assert.match(await box.sh("cat /var/lib/bustle/bustle.log.1"), /HELLO FROM A FRESH INSTALL/);

  // The admin edits the config; a second run upgrades in place and keeps config, state and logs.
  await box.sh("echo '# edited by the admin' >> /etc/bustle/node.yaml");
  const before = {
    node: await sha("/etc/bustle/node.yaml"),
    control: await sha("/etc/bustle/control.yaml"),
    log: await sha("/var/lib/bustle/bustle.log"),
    old: await sha("/var/lib/bustle/bustle.log.1"),
  };
  const again = await box.run(["bash", INSTALL, "--no-apply"], { cwd: CHECKOUT, timeoutMs: 300_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /kept \/etc\/bustle\/node\.yaml/);
  assert.deepEqual(
    {
      node: await sha("/etc/bustle/node.yaml"),
      control: await sha("/etc/bustle/control.yaml"),
      log: await sha("/var/lib/bustle/bustle.log"),
      old: await sha("/var/lib/bustle/bustle.log.1"),
    },
    before,
  );
  await stopRelay(); // what `systemctl try-restart` does after an upgrade
  await startRelay();
  await shoutAndSee("after the upgrade");
  assert.match(await feed(), /AFTER THE ROTATION[\s\S]*AFTER THE UPGRADE/, "the log went on where it was");
  await stopRelay();

  const gone = await box.run(["bash", INSTALL, "--uninstall", "--no-apply"], { cwd: CHECKOUT });
  assert.equal(gone.code, 0, gone.stderr);
  const left = await box.sh(
    "for p in /opt/bustle /usr/local/bin/bustle /usr/local/bin/bustled /usr/local/bin/bustle-control /usr/local/bin/bustle-cluster /etc/systemd/system/bustled.service /etc/systemd/system/bustle-control.service /etc/systemd/system/bustle-nats.service /etc/logrotate.d/bustle /etc/sysctl.d/60-bustle.conf /etc/profile.d/bustle.sh; do [ -e $p ] || [ -L $p ] && echo $p; done; true",
  );
  assert.equal(left, "", "everything the installer added is gone");
  assert.equal(await sha("/etc/bustle/node.yaml"), before.node, "the config stays");
  assert.match(await box.sh("cat /var/lib/bustle/bustle.log"), /AFTER THE UPGRADE/, "the log stays");
  assert.ok((await box.sh("ls /var/lib/bustle/state")).includes("log-position.json"), "the state stays");
});
