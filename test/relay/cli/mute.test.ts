import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { encodeEvent, makeEvent, subjectOf, type EventInit } from "../../../cluster/envelope.js";
import { startBus, type Bus } from "../../support/bus.js";
import { RelayProcess, writeRelayConfig, type RelayFiles } from "../../../relay/local-node.js";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { appendSpool, logLines, makeHome, textOf } from "../support.js";
import { cliEnv, Feed, runBustle } from "./bustle-process.js";

// A real node writes the log (and its index): spool lines from town's users, and events from
// another tilde and a bot published straight to the stream.
const dir = tempDir("bustle-cli-mute-");
let bus: Bus;
let files: RelayFiles;
let relay: RelayProcess;
const home = join(dir.path, "me");
const env = (extra: Record<string, string> = {}) => cliEnv(home, extra);
const feedTexts = async (...args: string[]) => {
  const r = await runBustle(["--log", files.log, "--no-follow", "-n", "50", ...args], env());
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  return r.stdout.toString().split("\n").filter(Boolean).map(textOf);
};
const publish = (init: EventInit) =>
  jetstream(bus.nc).publish(subjectOf(makeEvent(init)), encodeEvent(makeEvent(init)));

before(async () => {
  bus = await startBus(dir.path);
  files = writeRelayConfig(join(dir.path, "town"), "town", { servers: [bus.server.url] });
  relay = await new RelayProcess(files).start();
  for (const u of ["alice", "bob"]) makeHome(files.homes, u);
  appendSpool(files.homes, "alice", ['{"kind":"shout","text":"hello"}']);
  await waitFor(() => logLines(files.log).length === 1, 10_000, "alice's shout");
  appendSpool(files.homes, "bob", ["is here"]);
  await waitFor(() => logLines(files.log).length === 2, 10_000, "bob's update");
  await publish({ node: "club", source: "spool", kind: "update", actor: "carol", text: "~carol waves from club" });
  await publish({ node: "town", source: "irc-town", kind: "chat", actor: null, text: "#tildes <dan> hi all" });
  await publish({
    node: "town",
    source: "fs",
    kind: "activity",
    actor: "alice",
    text: "~alice is moving around in their home directory",
  });
  await waitFor(() => logLines(files.log).length === 5, 10_000, "the club, bot and ambient events");
});
after(async () => {
  await relay?.stop();
  await bus?.close();
  dir.remove();
});

const ALL = [
  "~alice shouts, 'HELLO'",
  "~bob is here",
  "~carol waves from club",
  "[irc-town] #tildes <dan> hi all",
  "~alice is moving around in their home directory",
];

test("mute - a user, a tilde and a bot disappear from the feed; --all shows them; unmute brings them back", async () => {
  assert.deepEqual(await feedTexts(), ALL);
  const muted = await runBustle(["mute", "alice", "@club"], env());
  assert.equal(muted.code, 0);
  assert.equal(muted.stdout.toString(), "muted alice (a user or a bot)\nmuted the tilde @club\n");
  assert.deepEqual(await feedTexts(), ["~bob is here", "[irc-town] #tildes <dan> hi all"]);
  assert.equal(
    (await runBustle(["mute", "irc-town", "alice"], env())).stdout.toString(),
    "muted irc-town (a user or a bot)\nalice was already muted\n",
  );
  assert.deepEqual(await feedTexts(), ["~bob is here"]);
  assert.deepEqual(await feedTexts("--all"), ALL, "--all shows what is muted");
  assert.equal((await runBustle(["mute"], env())).stdout.toString(), "muted: alice @club irc-town\n");
  assert.equal(readFileSync(join(home, ".config", "bustle", "mute"), "utf8"), "alice\n@club\nirc-town\n");

  const un = await runBustle(["unmute", "@club", "zed"], env());
  assert.equal(un.stdout.toString(), "unmuted @club\nzed was not muted (bustle mute lists who is)\n");
  assert.deepEqual(await feedTexts(), ["~bob is here", "~carol waves from club"]);
  await runBustle(["unmute", "alice", "irc-town"], env());
  assert.equal(
    (await runBustle(["mute"], env())).stdout.toString(),
    "nothing is muted (bustle mute NAME to hide someone)\n",
  );
  assert.deepEqual(await feedTexts(), ALL);
});

test("mute - ~user mutes only the user; a bad name is one clear line; XDG_CONFIG_HOME is respected", async () => {
  const xdg = join(dir.path, "xdg");
  const x = (args: string[]) => runBustle(args, env({ XDG_CONFIG_HOME: xdg }));
  assert.equal((await x(["mute", "~alice"])).stdout.toString(), "muted the user ~alice\n");
  assert.ok(existsSync(join(xdg, "bustle", "mute")));
  const r = await runBustle(["--log", files.log, "--no-follow"], env({ XDG_CONFIG_HOME: xdg }));
  assert.deepEqual(
    r.stdout.toString().split("\n").filter(Boolean).map(textOf),
    ALL.filter((t) => !t.startsWith("~alice")),
  );
  const bad = await x(["mute", "@Not A Tilde"]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'bustle: cannot mute "@Not A Tilde": a tilde is @ and its node id (like @town)\n');
});

test("mute - the live feed (piped) hides new lines of a muted user and shows the others", async () => {
  const xdg = join(dir.path, "live");
  await runBustle(["mute", "bob"], env({ XDG_CONFIG_HOME: xdg }));
  const feed = new Feed(["--log", files.log, "-n", "1"], env({ XDG_CONFIG_HOME: xdg }));
  try {
    await feed.until((t) => t.includes("~alice is moving around"), "the feed's backlog (it is following now)");
    appendSpool(files.homes, "bob", ["muted words"]);
    appendSpool(files.homes, "alice", ["after bob"]);
    await feed.until((t) => t.includes("~alice after bob"), "alice's live line");
    assert.ok(!feed.text.includes("muted words"), "bob's line is hidden");
    assert.equal(feed.text.split("\n").filter(Boolean).length, 2);
  } finally {
    await feed.stop();
  }
});
