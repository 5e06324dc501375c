import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { openLogIndexWriter, type IndexMeta } from "../../../relay/log-index.js";
import { BUSTLE, cliEnv, runBustle } from "./bustle-process.js";
import { BUSTLE as BUSTLE_BIN, runCliSync } from "../../support/cli.js";

const dir = tempDir("bustle-cli-digest-");
const log = join(dir.path, "bustle.log");
const home = join(dir.path, "home");
const env = (extra: Record<string, string> = {}) => cliEnv(home, { BUSTLE_LOG: log, ...extra });
const MIN = 60_000;
const now = Date.now();
const at = (minutesAgo: number) => new Date(now - minutesAgo * MIN).toISOString();

interface Ev {
  ago: number;
  node: string;
  kind: string;
  actor: string | null;
  source?: string;
  text: string;
}
const EVENTS: Ev[] = [
  { ago: 300, node: "town", kind: "shout", actor: "old", text: "~old shouts, 'LONG AGO'" },
  { ago: 120, node: "town", kind: "update", actor: "alice", text: "~alice is baking bread" },
  { ago: 100, node: "club", kind: "shout", actor: "bob", text: "~bob shouts, 'HI CLUB'" },
  {
    ago: 80,
    node: "town",
    kind: "activity",
    actor: "alice",
    source: "fs",
    text: "~alice is moving around in their home directory",
  },
  { ago: 60, node: "club", kind: "chat", actor: null, source: "irc-town", text: "[irc-town] <dan> evening" },
  { ago: 40, node: "town", kind: "shout", actor: null, text: "someone shouts, 'WHO IS THERE'" },
  { ago: 20, node: "town", kind: "shout", actor: "carol", text: "~carol shouts, 'ME'" },
  { ago: 10, node: "club", kind: "update", actor: "bob", text: "~bob made tea" },
];

/** Writes the events as the log writer does (index records through the real index writer). */
async function writeLog(path: string, events: Ev[], start = 0): Promise<void> {
  const lines = events.map((e) => `${at(e.ago)} ${e.node} ${e.text}\n`);
  const metas: IndexMeta[] = events.map((e, i) => ({
    id: `ev-${i}-xxxxxxxx`,
    source: e.source ?? "spool",
    kind: e.kind,
    actor: e.actor,
  }));
  const index = await openLogIndexWriter(path, start, false);
  await index.append(start, lines, metas);
  await index.close();
  appendFileSync(path, lines.join(""));
}

before(async () => {
  mkdirSync(home);
  await writeLog(log, EVENTS);
});
after(() => dir.remove());

const digest = async (args: string[], extra: Record<string, string> = {}) => {
  const r = await runBustle(["digest", ...args], env(extra));
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  return r.stdout.toString();
};

test("digest - --since 3h: how long, events by kind, who was around, the last shouts", async () => {
  assert.equal(
    await digest(["--since", "3h"]),
    [
      "while you were away (in the last 3 hours): 7 events — 3 shouts, 2 updates, 1 activity, 1 chat",
      "around: ~alice, ~bob and ~carol, on club and town",
      "the last 3 shouts:",
      "  ~bob shouts, 'HI CLUB' (club, 1 hour 40 minutes ago)",
      "  someone shouts, 'WHO IS THERE' (town, 40 minutes ago)",
      "  ~carol shouts, 'ME' (town, 20 minutes ago)",
      "",
    ].join("\n"),
  );
  assert.equal(
    await digest(["--since", "15m"]),
    ["while you were away (in the last 15 minutes): 1 event — 1 update", "around: ~bob, on club", ""].join("\n"),
  );
  assert.equal(await digest(["--since", "5m"]), "all quiet in the last 5 minutes\n");
});

test("digest - since the last look (XDG_STATE_HOME), which it then moves to now; mutes apply", async () => {
  const state = join(dir.path, "state");
  mkdirSync(join(state, "bustle"), { recursive: true });
  writeFileSync(join(state, "bustle", "last-look"), `${at(50)}\n`);
  const x = { XDG_STATE_HOME: state, XDG_CONFIG_HOME: join(dir.path, "cfg") };
  await runBustle(["mute", "@club"], env(x));
  assert.equal(
    await digest([], x),
    [
      "while you were away (since you last looked 50 minutes ago): 2 events — 2 shouts",
      "around: ~carol, on town",
      "the last 2 shouts:",
      "  someone shouts, 'WHO IS THERE' (town, 40 minutes ago)",
      "  ~carol shouts, 'ME' (town, 20 minutes ago)",
      "",
    ].join("\n"),
  );
  assert.equal(await digest([], x), "all quiet since you last looked less than a minute ago\n");
  assert.ok(Date.parse(readFileSync(join(state, "bustle", "last-look"), "utf8").trim()) >= now);
});

test("digest - a first look covers the last day; a bad --since is a usage error", async () => {
  const fresh = { XDG_STATE_HOME: join(dir.path, "fresh") };
  assert.match(await digest([], fresh), /^while you were away \(in the last day\): 8 events — 4 shouts, /);
  const bad = await runBustle(["digest", "--since", "soon"], env());
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^bustle: option '--since <DURATION>' argument 'soon' is invalid\. must be a duration like 30m, 2h or 1d/,
  );
});

test("digest - on a 1 GiB log it reads only the span it reports", async () => {
  // A sparse 1 GiB hole, an old line, then the last hour: reading the whole file would read 1 GiB.
  const big = join(dir.path, "big.log");
  const fd = openSync(big, "w");
  ftruncateSync(fd, 1024 ** 3);
  writeSync(fd, "\n", 1024 ** 3 - 1);
  closeSync(fd);
  await writeLog(big, EVENTS, statSync(big).size);
  const preload = join(dir.path, "rchar.mjs");
  writeFileSync(
    preload,
    `import { readFileSync } from "node:fs";
process.on("exit", () => process.stderr.write("rchar " + /rchar: (\\d+)/.exec(readFileSync("/proc/self/io", "utf8"))[1] + "\\n"));`,
  );
  const r = runCliSync(BUSTLE_BIN, ["digest", "--since", "1h", "--log", big], {
    env: env(),
    nodeArgs: ["--import", preload],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^while you were away \(in the last hour\): 3 events — 2 shouts, 1 update\n/);
  const read = Number(/rchar (\d+)/.exec(r.stderr)![1]);
  assert.ok(read < 16 * 1024 ** 2, `read ${read} bytes of a 1 GiB log`);
});

test("digest - the login hook shows it only to users who ran bustle digest --on (a real shell as nobody)", async () => {
  // nobody's own home, the compiled CLI on its PATH, the profile script run by an interactive sh.
  chmodSync(dir.path, 0o755);
  const nobodyHome = join(dir.path, "nobody");
  const bin = join(dir.path, "bin");
  mkdirSync(nobodyHome);
  mkdirSync(bin);
  chownSync(nobodyHome, 65534, 65534);
  writeFileSync(join(bin, "bustle"), `#!/bin/sh\nexec ${process.execPath} ${BUSTLE} "$@"\n`, { mode: 0o755 });
  const script = join(process.cwd(), "deploy", "profile.d", "bustle.sh");
  const asNobody = (shellArgs: string[]) =>
    spawnSync(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        "-i",
        `HOME=${nobodyHome}`,
        `PATH=${bin}:/usr/bin:/bin`,
        `BUSTLE_LOG=${log}`,
        "sh",
        ...shellArgs,
      ],
      { encoding: "utf8" },
    );
  const login = () => asNobody(["-ic", `. ${script}`]);

  const off = login();
  assert.equal(off.status, 0, off.stderr);
  assert.equal(off.stdout, "", "nothing for a user who never ran bustle digest --on");
  const on = asNobody(["-c", "bustle digest --on"]);
  assert.equal(on.stdout, "your logins will start with the digest (bustle digest --off to stop)\n", on.stderr);
  assert.ok(existsSync(join(nobodyHome, ".config", "bustle", "digest-at-login")));
  const shown = login();
  assert.equal(shown.status, 0);
  assert.match(shown.stdout, /^while you were away \(in the last day\): 8 events — /);
  assert.equal(asNobody(["-c", `. ${script}`]).stdout, "", "never in a non-interactive shell (scp, cron)");
  assert.equal(
    asNobody(["-c", "bustle digest --off"]).stdout,
    "no digest at login any more (bustle digest --on to have it back)\n",
  );
  assert.equal(login().stdout, "", "off again");
});
