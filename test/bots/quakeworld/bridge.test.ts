/**
 * The quakeworld bot against a real mvdsv + ktx on 127.0.0.1 (with the test's own box map),
 * a real nats-server, and a real bustled for bustle.log.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { isSafeText } from "../../../cluster/text.js";
import { RelayProcess, writeRelayConfig } from "../../../relay/local-node.js";
import { tempDir } from "../../../cluster/temp.js";
import { sleep, waitFor } from "../../../cluster/wait-for.js";
import { consoleText } from "../../../bots/quakeworld/charset.js";
import { quakeworldBot } from "../../../bots/quakeworld/quakeworld-bot.js";
import { freeUdpPort, queryOnce, QwServer } from "../../fixtures/mvdsv.js";
import { publishEvent } from "../../support/bus.js";
import { gameEvents, memoryLog, qwConfig, runBot, startBus, TestPlayer, type Bus } from "./harness.js";

const RCON = "boxpass42";
process.env.QW_TEST_RCON = RCON;
process.env.QW_TEST_WRONG = "notthepassword";

const dir = tempDir("bustleqw");
let bus: Bus;
let qw: QwServer;
let port: number;
const players: TestPlayer[] = [];

const server = (extra: Record<string, unknown> = {}) => ({ host: "127.0.0.1", port, name: "qwtest", ...extra });
const player = (name: string, spectator = false) => {
  const p = new TestPlayer(port, name, { spectator }).start();
  players.push(p);
  return p;
};

before(async () => {
  port = await freeUdpPort();
  bus = await startBus(join(dir.path, "nats"));
  // The server keeps ktx's own sv_rconlim: the bot's pacing is what keeps rcon from being refused.
  qw = await new QwServer({ dir: join(dir.path, "qw"), port, rconPassword: RCON, hostname: "qwtest" }).start();
});

after(async () => {
  await Promise.all(players.map((p) => p.stop()));
  await qw?.stop();
  await bus?.close();
  dir.remove();
});

test("quakeworld - a player joining and leaving becomes one game event each, not one per poll", async () => {
  const { log } = memoryLog();
  const bot = await runBot(
    bus,
    "qw-status",
    { servers: [server()], poll: "300ms", window: "0s", listen: false },
    log,
    dir.path,
  );
  try {
    await sleep(700); // the first polls set the baseline (an empty server)
    const alice = player("alice");
    const joined = await waitFor(
      async () =>
        (await gameEvents(bus.nc, "qw-status")).find((e) => e.text === "1 player is fragging on qwtest (box)"),
      15_000,
      "the arrival line",
    );
    assert.equal(joined.actor, null);
    assert.deepEqual(joined.data, { server: "qwtest", players: 1, map: "box" });
    await alice.stop();
    await waitFor(
      async () =>
        (await gameEvents(bus.nc, "qw-status")).some((e) => e.text === "nobody is fragging on qwtest any more"),
      15_000,
      "the leaving line",
    );
    await sleep(1_500); // several more polls of an unchanged server
    const texts = (await gameEvents(bus.nc, "qw-status")).map((e) => e.text);
    assert.deepEqual(texts, ["1 player is fragging on qwtest (box)", "nobody is fragging on qwtest any more"]);
  } finally {
    await bot.stop();
  }
});

test("quakeworld - shouts are said in the game exactly once, paced under the server's sv_rconlim, and console-safe", async () => {
  const { log, lines } = memoryLog();
  const watcher = player("watcher", true);
  await waitFor(() => watcher.client.joined, 15_000, "the watching spectator to join");
  const bot = await runBot(
    bus,
    "qw-say",
    { servers: [server({ rcon_password_env: "QW_TEST_RCON" })], listen: false, poll: "1s" },
    log,
    dir.path,
  );
  const stdoutBefore = qw.stdout.length;
  try {
    const hostile = `~mallory shouts, 'x"; quit; $rcon_password \\ // y\nkick alice'`;
    for (const t of ["~alice shouts, 'ONE'", "~bob shouts, 'TWO'", "~carol shouts, 'THREE'"])
      await publishEvent(bus.nc, { kind: "shout", text: t });
    await publishEvent(bus.nc, { kind: "update", text: "~dave this update is not a shout" });
    await publishEvent(bus.nc, { kind: "shout", text: hostile.replace(/\n/g, " ") });
    const safe = consoleText(hostile.replace(/\n/g, " "), 100);
    assert.doesNotMatch(safe, /[;"$\\]|\/\//);
    const expected = [
      "console: ~alice shouts, 'ONE'",
      "console: ~bob shouts, 'TWO'",
      "console: ~carol shouts, 'THREE'",
      `console: ${safe}`,
    ];
    await waitFor(() => expected.every((x) => watcher.heard.includes(x)), 20_000, "the four shouts in the game").catch(
      (err: Error) =>
        assert.fail(
          `${err.message}; heard ${JSON.stringify(watcher.heard)}; server said ${JSON.stringify(qw.stdout.slice(stdoutBefore).slice(-1500))}`,
        ),
    );
    await sleep(2_500); // anything said twice would have arrived by now
    for (const x of expected) assert.equal(watcher.heard.filter((h) => h === x).length, 1, `said once: ${x}`);
    assert.ok(!watcher.heard.some((h) => h.includes("not a shout")), "an update is not said");
    const out = qw.stdout.slice(stdoutBefore);
    assert.doesNotMatch(out, /Bad rcon/, "the server never refused a paced rcon packet");
    assert.equal(lines.filter((l) => l.level === "error").length, 0);
    assert.ok(qw.running, "the server is still running after the hostile line");
  } finally {
    await bot.stop();
    await watcher.stop();
  }
});

test("quakeworld - a wrong rcon password gives one clear error and a degraded state", async () => {
  const { log, lines } = memoryLog();
  const bot = await runBot(
    bus,
    "qw-wrong",
    { servers: [server({ rcon_password_env: "QW_TEST_WRONG" })], listen: false, poll: "1s" },
    log,
    dir.path,
  );
  try {
    await publishEvent(bus.nc, { kind: "shout", text: "~alice shouts, 'ANYONE?'" });
    const err = await waitFor(() => lines.find((l) => l.level === "error"), 15_000, "the rcon error");
    assert.equal(
      err.msg,
      `rcon refused by qwtest ("Bad rcon_password."): the password in $QW_TEST_WRONG is wrong, or rcon arrives faster than the server's sv_rconlim allows`,
    );
    assert.ok(!err.msg.includes("notthepassword"), "the password itself is never logged");
    assert.ok(bot.states.some((s) => s.state === "degraded" && s.detail?.includes("rcon refused by qwtest")));
  } finally {
    await bot.stop();
  }
});

test("quakeworld - a player's chat line becomes a game event in the stream and in bustle.log", async () => {
  const { log, lines } = memoryLog();
  const files = writeRelayConfig(join(dir.path, "town"), "town", { servers: [bus.server.url] });
  const relay = await new RelayProcess(files).start();
  const bot = await runBot(bus, "qw-chat", { servers: [server()], relay_contents: true, poll: "1s" }, log, dir.path);
  try {
    const alice = player("alice");
    await waitFor(() => alice.client.joined, 15_000, "alice to join");
    await waitFor(
      () => lines.some((l) => l.msg.includes("listening on qwtest")),
      15_000,
      "the bot's spectator to join",
    );
    alice.client.say("hello from the game");
    const ev = await waitFor(
      async () => (await gameEvents(bus.nc, "qw-chat")).find((e) => e.text === "[qwtest] alice: hello from the game"),
      15_000,
      "the chat event",
    );
    assert.equal(ev.actor, null);
    assert.deepEqual(ev.data, { server: "qwtest", player: "alice" });
    await waitFor(
      () =>
        existsSync(files.log) &&
        readFileSync(files.log, "utf8").includes(" town [qw-chat] [qwtest] alice: hello from the game\n"),
      15_000,
      "the chat line in bustle.log",
    );
    // The bot's own rcon lines ("console: …") and its own name are never relayed back.
    assert.ok(!(await gameEvents(bus.nc, "qw-chat")).some((e) => e.text.includes("console")));
    await alice.stop();
  } finally {
    await bot.stop();
    await relay.stop();
  }
});

test("quakeworld - hostile names and chat (high-bit, control bytes, 1,000 characters) arrive readable and safe", async () => {
  const { log, lines } = memoryLog();
  const bot = await runBot(bus, "qw-hostile", { servers: [server()], relay_contents: true, poll: "1s" }, log, dir.path);
  try {
    await waitFor(
      () => lines.some((l) => l.msg.includes("listening on qwtest")),
      15_000,
      "the bot's spectator to join",
    );
    // "mallory" in gold letters, a terminal escape, Quake's bracket glyphs and a BEL.
    const name = "\xed\xe1\xec\xec\xef\xf2\xf9\x1b[31m\x10x\x11\x07";
    const mallory = player(name);
    await waitFor(() => mallory.client.joined, 15_000, "mallory to join");
    const chat = "\x1b]0;pwned\x07\xe8\xe9 there\x01\x02\x7f" + "A".repeat(1_000);
    mallory.client.say(chat);
    const ev = await waitFor(
      async () => (await gameEvents(bus.nc, "qw-hostile")).find((e) => e.text.includes("hi there")),
      15_000,
      "mallory's chat event",
    ).catch(async (err: Error) =>
      assert.fail(
        `${err.message}; events ${JSON.stringify((await gameEvents(bus.nc, "qw-hostile")).map((e) => e.text))}; log ${JSON.stringify(lines.filter((l) => !String(l.text ?? "").startsWith("alias")).slice(-30))}`,
      ),
    );
    assert.ok(isSafeText(ev.text), `safe: ${JSON.stringify(ev.text)}`);
    assert.match(ev.text, /^[\x20-\x7e…]+$/, "plain readable characters only");
    assert.ok(ev.text.length <= 400);
    assert.match(
      ev.text,
      /^\[qwtest\] mallory9\[31m\[x\]\S*: /,
      "the gold name reads as mallory; glyphs become look-alikes",
    );
    assert.ok(ev.text.includes("AAAA"));
    const data = ev.data as { player: string };
    assert.ok(isSafeText(data.player, 32) && data.player.startsWith("mallory"));
    await mallory.stop();
  } finally {
    await bot.stop();
  }
});

test("quakeworld - after the server restarts, the spectator rejoins and hears the chat again", async () => {
  const { log, lines } = memoryLog();
  const bot = await runBot(
    bus,
    "qw-restart",
    { servers: [server()], relay_contents: true, poll: "500ms" },
    log,
    dir.path,
  );
  try {
    const joins = () => lines.filter((l) => l.msg.includes("listening on qwtest")).length;
    await waitFor(() => joins() === 1, 15_000, "the bot's spectator to join");
    await qw.restart();
    await waitFor(() => joins() === 2, 40_000, "the bot's spectator to rejoin the restarted server");
    const bob = player("bob");
    await waitFor(() => bob.client.joined, 15_000, "bob to join");
    bob.client.say("back again");
    await waitFor(
      async () => (await gameEvents(bus.nc, "qw-restart")).some((e) => e.text === "[qwtest] bob: back again"),
      15_000,
      "chat after the restart",
    ).catch(async (err: Error) =>
      assert.fail(
        `${err.message}; events ${JSON.stringify((await gameEvents(bus.nc, "qw-restart")).map((e) => e.text))}; log ${JSON.stringify(lines.map((l) => l.msg).slice(-20))} server said ${JSON.stringify(qw.stdout.slice(-1500))}`,
      ),
    );
    await bob.stop();
  } finally {
    await bot.stop();
  }
});

test("quakeworld - check and start name a missing rcon password variable", async () => {
  const config = qwConfig({ servers: [server({ rcon_password_env: "QW_TEST_UNSET_VAR" })] });
  delete process.env.QW_TEST_UNSET_VAR;
  assert.deepEqual(quakeworldBot.check!(config, "qw"), [
    "servers[0].rcon_password_env: environment variable QW_TEST_UNSET_VAR is not set (needed for qwtest)",
  ]);
  const { log } = memoryLog();
  await assert.rejects(
    runBot(bus, "qw-unset", { servers: [server({ rcon_password_env: "QW_TEST_UNSET_VAR" })] }, log, dir.path),
    /environment variable QW_TEST_UNSET_VAR is not set/,
  );
});

test("quakeworld - a server that checks maps lets the spectator in only with maps_dir, and says why otherwise", async () => {
  const strictPort = await freeUdpPort();
  const strict = await new QwServer({
    dir: join(dir.path, "strict"),
    port: strictPort,
    rconPassword: RCON,
    hostname: "strict",
    mapcheck: true,
  }).start();
  const without = memoryLog();
  const withMaps = memoryLog();
  const a = await runBot(
    bus,
    "qw-nomaps",
    { servers: [{ host: "127.0.0.1", port: strictPort, name: "strict" }], poll: "1s" },
    without.log,
    dir.path,
  );
  const b = await runBot(
    bus,
    "qw-maps",
    { servers: [{ host: "127.0.0.1", port: strictPort, name: "strict" }], poll: "1s", maps_dir: strict.mapsDir },
    withMaps.log,
    dir.path,
  );
  try {
    const err = await waitFor(() => without.lines.find((l) => l.level === "error"), 15_000, "the map check error");
    assert.match(
      err.msg,
      /checks maps \(sv_mapcheck 1\) and refused ours for maps\/box\.bsp: put the server's \.bsp files in quakeworld\.maps_dir$/,
    );
    await waitFor(
      () => withMaps.lines.some((l) => l.msg === "listening on strict as spectator bustle"),
      15_000,
      "the spectator with the map to join",
    );
    assert.ok(!without.lines.some((l) => l.msg.startsWith("listening on")));
  } finally {
    await a.stop();
    await b.stop();
    await strict.stop();
  }
});

test("quakeworld - a server that is down gets one clear log line each for status and joining, then is picked up when it starts", async () => {
  const downPort = await freeUdpPort();
  const { log, lines } = memoryLog();
  const bot = await runBot(
    bus,
    "qw-down",
    { servers: [{ host: "127.0.0.1", port: downPort, name: "later" }], poll: "200ms" },
    log,
    dir.path,
  );
  let later: QwServer | undefined;
  try {
    await waitFor(() => lines.some((l) => l.msg.startsWith("later (127.0.0.1:")), 10_000, "the status warning");
    await waitFor(() => lines.some((l) => l.msg.startsWith("cannot join")), 15_000, "the join warning");
    await sleep(3_000); // more failed polls and join attempts
    const warnings = lines.filter((l) => l.level === "warn").map((l) => l.msg);
    assert.deepEqual(
      [...warnings].sort(),
      [
        `cannot join 127.0.0.1:${downPort}: no answer to getchallenge; retrying with backoff up to 60s`,
        `later (127.0.0.1:${downPort}) is not answering status queries; polling with backoff up to 300s until it does`,
      ],
      "one line each, however many attempts failed",
    );
    assert.ok(bot.states.some((s) => s.state === "degraded" && s.detail === "later is not answering"));
    later = await new QwServer({
      dir: join(dir.path, "later"),
      port: downPort,
      rconPassword: RCON,
      hostname: "later",
    }).start();
    await waitFor(() => lines.some((l) => l.msg === "later answers again"), 30_000, "the server to be seen again");
    await waitFor(
      () => lines.some((l) => l.msg === "listening on later as spectator bustle"),
      30_000,
      "the spectator to join",
    );
    assert.equal(bot.states.at(-1)?.state, "connected");
  } finally {
    await bot.stop();
    await later?.stop();
  }
});

test("quakeworld - a map change is followed without leaving the server", async () => {
  const { log, lines } = memoryLog();
  const bot = await runBot(
    bus,
    "qw-mapchange",
    { servers: [server()], relay_contents: true, poll: "1s" },
    log,
    dir.path,
  );
  try {
    await waitFor(
      () => lines.some((l) => l.msg.includes("listening on qwtest")),
      15_000,
      "the bot's spectator to join",
    );
    const connectsBefore = qw.stdout.split("Spectator bustle connected").length;
    // ktx keeps its sv_rconlim here: retry a refused command after a second.
    await waitFor(
      async () => {
        const reply = await queryOnce(port, `rcon ${RCON} map box\0`, 2_000);
        if (reply?.toString("latin1").includes("Bad rcon")) await sleep(1_100);
        return reply !== undefined && !reply.toString("latin1").includes("Bad rcon");
      },
      15_000,
      "the map command to be accepted",
    );
    await waitFor(() => /rcon \*+ map box/.test(qw.stdout), 5_000, "the map change on the server");
    const carol = player("carol");
    await waitFor(() => carol.client.joined, 15_000, "carol to join the new map");
    carol.client.say("new map, same bridge");
    await waitFor(
      async () =>
        (await gameEvents(bus.nc, "qw-mapchange")).some((e) => e.text === "[qwtest] carol: new map, same bridge"),
      15_000,
      "chat after the map change",
    );
    assert.equal(
      qw.stdout.split("Spectator bustle connected").length,
      connectsBefore,
      "the spectator never reconnected",
    );
    assert.ok(!lines.some((l) => l.msg.startsWith("lost ")), "and never lost the server");
    await carol.stop();
  } finally {
    await bot.stop();
  }
});

test("quakeworld - a spectator password is sent from its variable; without it the refusal is logged once", async () => {
  const lockedPort = await freeUdpPort();
  process.env.QW_TEST_SPEC = "specpw9";
  const locked = await new QwServer({
    dir: join(dir.path, "locked"),
    port: lockedPort,
    rconPassword: RCON,
    hostname: "locked",
    spectatorPassword: "specpw9",
  }).start();
  const without = memoryLog();
  const withPw = memoryLog();
  const a = await runBot(
    bus,
    "qw-nospec",
    { servers: [{ host: "127.0.0.1", port: lockedPort, name: "locked" }], poll: "1s" },
    without.log,
    dir.path,
  );
  const b = await runBot(
    bus,
    "qw-spec",
    {
      servers: [{ host: "127.0.0.1", port: lockedPort, name: "locked", spectator_password_env: "QW_TEST_SPEC" }],
      poll: "1s",
    },
    withPw.log,
    dir.path,
  );
  try {
    await waitFor(
      () => withPw.lines.some((l) => l.msg === "listening on locked as spectator bustle"),
      15_000,
      "the spectator with the password to join",
    );
    const refused = await waitFor(
      () => without.lines.find((l) => l.msg.startsWith("cannot join")),
      15_000,
      "the refusal",
    );
    assert.match(refused.msg, /^cannot join 127\.0\.0\.1:\d+: refused: .*password/i);
    assert.ok(!without.lines.some((l) => l.msg.startsWith("listening on")));
  } finally {
    await a.stop();
    await b.stop();
    await locked.stop();
  }
});
