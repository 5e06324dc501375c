/**
 * Runs a compiled bustle program to completion as a user would, and keeps what it printed: the
 * one CLI runner of the tests. Long-running programs (a daemon, `bustle-cluster up`) are started
 * with ChildProgram (cluster/child.ts) instead.
 */
import { spawn, spawnSync } from "node:child_process";
import { bin } from "./paths.js";

/** The programs, as bin() names them. */
export const BUSTLE = "relay/bin/bustle.js";
export const BUSTLED = "relay/bin/bustled.js";
export const BUSTLE_CONTROL = "control/bin/bustle-control.js";
export const BUSTLE_CLUSTER = "federation/bin/bustle-cluster.js";

/** How it ended and what it wrote. */
export interface CliResult {
  /** The exit code; null when a signal ended it (a timeout kills it). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Killed after this long (default 5 min), so a hung program fails its test instead of hanging the run. */
  timeoutMs?: number;
  /** Node's own flags before the program (`--import <preload>`). */
  nodeArgs?: string[];
}

const TIMEOUT_MS = 300_000;
const argv = (program: string, args: string[], opts: CliOptions) => [...(opts.nodeArgs ?? []), bin(program), ...args];

/** Runs `program ARGS` and waits for it, blocking this process (fine when nothing else here must keep running). */
export function runCliSync(program: string, args: string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, argv(program, args, opts), {
    encoding: "utf8",
    env: opts.env,
    timeout: opts.timeoutMs ?? TIMEOUT_MS,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same without blocking: the test's own connections and writers keep working meanwhile. */
export function runCli(program: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv(program, args, opts), {
      stdio: ["ignore", "pipe", "pipe"],
      env: opts.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    const kill = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}
