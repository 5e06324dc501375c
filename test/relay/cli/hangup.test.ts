/**
 * Terminal manners: a feed whose terminal goes away (a closed SSH session) leaves no `bustle`
 * process behind, whether or not a SIGHUP reaches it. A real pty (tmux); skipped without tmux.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../cluster/temp.js";
import { waitFor } from "../../../cluster/wait-for.js";
import { alive, stopTmuxServer } from "../../support/tmux.js";
import { BUSTLE, cliEnv } from "./bustle-process.js";

const tmuxBin = ["/usr/bin/tmux", "/usr/local/bin/tmux"].find((p) => existsSync(p));
const dir = tempDir("bustle-cli-hangup-");
const sock = join(dir.path, "tmux.sock");
const started: number[] = [];
after(async () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  if (tmuxBin) await stopTmuxServer(tmuxBin, sock);
  dir.remove();
});

const tmux = (...args: string[]) => execFileSync(tmuxBin!, ["-S", sock, ...args], { encoding: "utf8" });
const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
const line = (i: number) => `2026-11-22T05:51:0${i}.123Z town ~alice line ${i}\n`;

/** Starts a feed in a tmux pane; `ownSession` puts it in a session of its own (no SIGHUP reaches it). */
async function feedInPane(name: string, log: string, ownSession: boolean): Promise<number> {
  const pidFile = join(dir.path, `${name}.pid`);
  const feed = [
    "env",
    "-i",
    `PATH=${process.env.PATH}`,
    `HOME=${dir.path}`,
    "TERM=xterm-256color",
    process.execPath,
    BUSTLE,
    "--log",
    log,
  ]
    .map(quote)
    .join(" ");
  const inner = `echo $$ > ${quote(pidFile)}; exec ${feed}`;
  const cmd = ownSession ? `setsid -w sh -c ${quote(inner)}` : `sh -c ${quote(inner)}`;
  tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "20", cmd);
  const pid = await waitFor(
    () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) || undefined : undefined),
    10_000,
    "the feed's pid",
  );
  started.push(pid);
  await waitFor(() => tmux("capture-pane", "-p", "-t", name).includes("line 1"), 20_000, "the feed on the terminal");
  return pid;
}

test("feed - exits when its terminal hangs up (SIGHUP)", { skip: !tmuxBin && "tmux is not installed" }, async () => {
  const log = join(dir.path, "hup.log");
  writeFileSync(log, line(1));
  const pid = await feedInPane("hup", log, false);
  tmux("kill-session", "-t", "hup");
  await waitFor(() => !alive(pid), 10_000, "the feed to exit after its terminal went away");
});

test("feed - exits when its terminal is gone even if no SIGHUP reaches it (hung-up tty, EIO)", {
  skip: !tmuxBin && "tmux is not installed",
}, async () => {
  const log = join(dir.path, "eio.log");
  writeFileSync(log, line(1));
  const pid = await feedInPane("eio", log, true);
  tmux("kill-session", "-t", "eio");
  appendFileSync(log, line(2)); // a write to the hung-up terminal fails with EIO
  await waitFor(() => !alive(pid), 10_000, "the feed to exit after its terminal went away");
});

test("feed - exits quietly when the pipe it writes to closes (EPIPE)", async () => {
  const log = join(dir.path, "pipe.log");
  writeFileSync(log, line(1));
  const child = spawn(process.execPath, [BUSTLE, "--log", log], {
    env: cliEnv(dir.path),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes("line 1"), 20_000, "the first line");
  child.stdout.destroy(); // the reader goes away, as `| head -1` does
  let code: number | null | undefined;
  child.on("exit", (c) => (code = c));
  // Lines keep coming until a write notices.
  await waitFor(
    () => {
      if (code === undefined) appendFileSync(log, line(3));
      return code !== undefined;
    },
    20_000,
    "the feed to exit after its pipe closed",
    200,
  );
  assert.equal(code, 0);
  assert.equal(err, "", "no stack trace, no message");
});
