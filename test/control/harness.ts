/**
 * Test helpers for the control server: `bustle-control serve` as a real child process, the CLI,
 * recorder bots (shell programs that write what they see to a file, and flag a second copy of
 * themselves running at the same time through flock), and events published into BUSTLE.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { ChildProgram } from "../../cluster/child.js";
import { closeBus, connectBus } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { startServer } from "../../cluster/servers.js";
import { ensureStream } from "../../cluster/stream.js";
import { publishEvent } from "../support/bus.js";
import { bin } from "../support/paths.js";
import { BUSTLE_CONTROL, runCli, runCliSync, type CliResult } from "../support/cli.js";
import { waitFor } from "../../cluster/wait-for.js";
import type { BotStatus } from "../../control/bot-runner.js";
import { collectStatus } from "../../control/client.js";

/**
 * A bot program that records to `$1`: `start <node> <pid>` when it starts, `got <text> <node>` per
 * event, `end <node>` at end of input; `DOUBLE` if another copy holds the lock `$2` at its start.
 */
export const RECORDER_SH = `#!/bin/sh
out="$1"; lock="$2"
exec 9>>"$lock"
if ! flock -n 9; then echo "DOUBLE $BUSTLE_NODE $$" >> "$out"; fi
echo "start $BUSTLE_NODE $$ $(date +%s.%N)" >> "$out"
while IFS= read -r line; do
  text=$(printf '%s' "$line" | sed -n 's/.*"formatted":"\\([^"]*\\)".*/\\1/p')
  echo "got $text $BUSTLE_NODE" >> "$out"
done
echo "end $BUSTLE_NODE" >> "$out"
`;

export function writeRecorder(dir: string): string {
  const p = join(dir, "recorder.sh");
  writeFileSync(p, RECORDER_SH, { mode: 0o755 });
  return p;
}

/** control.yaml text for a recorder bot `id` writing to `<dir>/out-<id>.txt`. */
export function recorderBot(dir: string, id: string, extra = ""): string {
  return `  - id: ${id}\n    type: exec\n${extra}    exec: {command: [${join(dir, "recorder.sh")}, ${join(dir, `out-${id}.txt`)}, ${join(dir, `lock-${id}`)}]}\n`;
}

export function controlYaml(o: {
  node: string;
  urls: string[];
  stateDir: string;
  bots: string;
  extra?: string;
}): string {
  return `node: ${o.node}\nnats: {servers: [${o.urls.map((u) => JSON.stringify(u)).join(", ")}]}\nstate: {dir: ${o.stateDir}}\n${o.extra ?? ""}bots:\n${o.bots}`;
}

/** The recorder's lines for bot `id` (empty before it first starts). */
export function record(dir: string, id: string): string[] {
  const p = join(dir, `out-${id}.txt`);
  return existsSync(p) ? readFileSync(p, "utf8").split("\n").filter(Boolean) : [];
}

/** Quick supervision and a short lease, so crash, back-off and give-up tests take seconds. */
export const FAST_SUPERVISE =
  "supervise: {heartbeat: 500ms, backoff: 300ms, max_backoff: 5s, give_up_after: 4, fast_crash: 10s}\nlease: {ttl: 3s, grace: 200ms}\n";

/** One nats-server in `dir` with the BUSTLE stream, and the test's own connection to it. */
export interface ControlBus {
  server: NatsServer;
  nc: NatsConnection;
  stop(): Promise<void>;
}

export async function startControlBus(dir: string): Promise<ControlBus> {
  const server = await startServer(dir);
  const nc = await connectBus({ servers: [server.url], name: "control-test", logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  return {
    server,
    nc,
    stop: async () => {
      await closeBus(nc);
      await server.stop();
    },
  };
}

export const starts = (lines: string[]) => lines.filter((l) => l.startsWith("start "));

export interface ControlProcess {
  program: ChildProgram;
  proc: ChildProcess;
  pid: number;
  logFile: string;
  log(): string;
  exited: Promise<number | null>;
  alive(): boolean;
}

/** Runs `bustle-control serve --config FILE`, its output into `logFile`. Stop it with stopControl(). */
export function startControl(configFile: string, logFile: string): ControlProcess {
  const program = new ChildProgram({
    name: "bustle-control serve",
    argv: [process.execPath, bin(BUSTLE_CONTROL), "serve", "--config", configFile],
    logPath: logFile,
    graceMs: 15_000,
  });
  void program.start(); // spawns at once; nothing to wait for
  return {
    program,
    proc: program.process!,
    pid: program.pid!,
    logFile,
    exited: program.waitExit(),
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    alive: () => program.running,
  };
}

/** SIGTERM, then SIGKILL after 15 s; resolves with the exit code. */
export function stopControl(c: ControlProcess): Promise<number | null> {
  return c.program.stop();
}

/** Runs `bustle-control ARGS` to completion (async, so the test's own connections keep working). */
export const cli = (args: string[]): Promise<CliResult> => runCli(BUSTLE_CONTROL, args);

export const cliSync = (args: string[]): CliResult => runCliSync(BUSTLE_CONTROL, args);

/** Publishes an `update` event from node `from` whose text is `text`. */
export async function publish(nc: NatsConnection, text: string, from = "zia"): Promise<void> {
  await publishEvent(nc, { node: from, text });
}

/** True while a process with this pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** What the control servers report about the bots they hold (the same request `bustle-control status` makes). */
/** `bustle-control status [BOT] --json --config FILE`, as a user runs it; asserts exit 0. */
export async function statusJson(configFile: string, id?: string): Promise<BotStatus[]> {
  const r = await cli(["status", ...(id ? [id] : []), "--json", "--config", configFile]);
  if (r.code !== 0) throw new Error(`bustle-control status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as BotStatus[];
}

export async function held(nc: NatsConnection): Promise<BotStatus[]> {
  return (await collectStatus(nc, 1_000)).flatMap((s) => s.bots);
}

/** Waits until the control servers report every one of `ids` running and reading the stream. */
export async function waitFeeding(nc: NatsConnection, ids: string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const list = await held(nc);
      return ids.every((id) => list.some((b) => b.id === id && b.state === "running" && b.feeding));
    },
    timeoutMs,
    `${ids.join(", ")} to be running and reading the stream`,
    250,
  );
}
