/**
 * The animated feed on a real terminal (tmux): lines appear styled, hostile escape sequences in
 * the log do not reach the terminal, Ctrl-C leaves cleanly. Skipped when tmux is not installed.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { stopTmuxServer } from "../../support/tmux.js";
import { BUSTLE } from "./bustle-process.js";

const tmuxBin = ["/usr/bin/tmux", "/usr/local/bin/tmux"].find((p) => existsSync(p));
const dir = tempDir("bustle-cli-tty-");
const sock = join(dir.path, "tmux.sock");
after(async () => {
  if (tmuxBin) await stopTmuxServer(tmuxBin, sock);
  dir.remove();
});

const tmux = (...args: string[]) => execFileSync(tmuxBin!, ["-S", sock, ...args], { encoding: "utf8" });
const screen = (name: string) => tmux("capture-pane", "-p", "-t", name);

const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
/** Where the feed's exit code lands (tmux's own #{pane_dead_status} is sometimes left empty). */
const exitFile = (name: string) => join(dir.path, `${name}.exit`);

function startFeed(name: string, log: string, extraEnv: string[] = [], args: string[] = []): void {
  const cmd = [
    "env",
    "-i",
    `PATH=${process.env.PATH}`,
    `HOME=${dir.path}`,
    "TZ=UTC",
    "TERM=xterm-256color",
    ...extraEnv,
    process.execPath,
    BUSTLE,
    "--log",
    log,
    ...args,
  ];
  // The wrapper shell ignores Ctrl-C itself (a no-op trap, reset in the child) so it survives
  // to record the feed's exit code.
  const script = `trap : INT; ${cmd.map(quote).join(" ")}; echo $? > ${quote(exitFile(name))}`;
  tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "20", `sh -c ${quote(script)}`);
  tmux("set-option", "-t", name, "remain-on-exit", "on");
}

const first =
  "2026-11-22T05:51:05.123Z town ~alice hello there\n2026-11-22T05:51:06.123Z club ~bob shouts, 'HI WORLD'\n";

test("tty - the animated feed styles lines, types new ones, strips escapes, and exits cleanly on Ctrl-C", {
  skip: !tmuxBin && "tmux is not installed",
}, async () => {
  const log = join(dir.path, "live.log");
  writeFileSync(log, first);
  startFeed("live", log);
  await waitFor(
    () => /05:51:06 club +~bob shouts, 'HI WORLD'/.test(screen("live")) && /listening/.test(screen("live")),
    20_000,
    "the styled backlog and the listening indicator",
  );
  assert.match(screen("live"), /^05:51:05 town +~alice hello there$/m);

  // Hostile bytes (should never be in a log, but the feed must not pass them on): a title change
  // and a screen clear.
  appendFileSync(log, "2026-11-22T05:52:00.000Z ctrl ~carol \u001b]2;PWNED\u0007waves \u001b[2J\u001b[Hhi\n");
  await waitFor(
    () => /05:52:00 ctrl +~carol waves hi$/m.test(screen("live")),
    20_000,
    `the new line typed out (screen: ${screen("live")})`,
  );
  assert.match(screen("live"), /05:51:05 town/, "earlier lines were not cleared");
  assert.notEqual(tmux("display-message", "-p", "-t", "live", "#{pane_title}").trim(), "PWNED");

  tmux("send-keys", "-t", "live", "C-c");
  await waitFor(
    () => existsSync(exitFile("live")) && readFileSync(exitFile("live"), "utf8").trim() !== "",
    10_000,
    "the feed to exit",
  );
  assert.equal(readFileSync(exitFile("live"), "utf8").trim(), "0", "Ctrl-C ends the feed with exit code 0");
  assert.doesNotMatch(screen("live"), /listening/, "the indicator is cleared on exit");
});

test("tty - NO_COLOR and --plain print the log's lines as they are, even on a terminal", {
  skip: !tmuxBin && "tmux is not installed",
}, async () => {
  const log = join(dir.path, "plain.log");
  writeFileSync(log, first);
  startFeed("nocolor", log, ["NO_COLOR=1"]);
  startFeed("plain", log, [], ["--plain"]);
  for (const name of ["nocolor", "plain"]) {
    await waitFor(
      () => screen(name).startsWith(first),
      20_000,
      `${name}: the log's lines as they are (screen: ${screen(name)})`,
    );
  }
  appendFileSync(log, "2026-11-22T05:53:00.000Z town ~dave back\n");
  for (const name of ["nocolor", "plain"]) {
    await waitFor(
      () => screen(name).startsWith(first + "2026-11-22T05:53:00.000Z town ~dave back\n"),
      20_000,
      `${name}: the new line`,
    );
    assert.doesNotMatch(screen(name), /listening/);
    tmux("send-keys", "-t", name, "C-c");
  }
});

test("tty - muted users and tildes stay hidden on a terminal too", {
  skip: !tmuxBin && "tmux is not installed",
}, async () => {
  const log = join(dir.path, "muted.log");
  writeFileSync(log, first + "2026-11-22T05:51:07.123Z town ~dora is here\n");
  const xdg = join(dir.path, "xdg-mute");
  execFileSync(process.execPath, [BUSTLE, "mute", "@club", "dora"], {
    env: { PATH: process.env.PATH, HOME: dir.path, XDG_CONFIG_HOME: xdg },
  });
  startFeed("muted", log, [`XDG_CONFIG_HOME=${xdg}`]);
  await waitFor(
    () => /05:51:05 town +~alice hello there/.test(screen("muted")) && /listening/.test(screen("muted")),
    20_000,
    "the backlog",
  );
  appendFileSync(
    log,
    "2026-11-22T05:53:00.000Z club ~erin from club\n2026-11-22T05:53:01.000Z town ~dora again\n2026-11-22T05:53:02.000Z town ~fred from town\n",
  );
  await waitFor(
    () => /05:53:02 town +~fred from town/.test(screen("muted")),
    20_000,
    `fred's line (screen: ${screen("muted")})`,
  );
  const shown = screen("muted");
  assert.ok(!/bob|erin|dora/.test(shown), `nothing of club or dora on the terminal: ${shown}`);
  tmux("send-keys", "-t", "muted", "C-c");
});
