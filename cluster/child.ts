/**
 * The one launcher for the real programs bustle runs as children — nats-server, bustled,
 * bustle-control, and the tests' third-party servers: spawn with the output appended to a log
 * file, wait until the program is ready, stop it with SIGTERM then SIGKILL, kill -9 it, signal
 * it, run it again. A child never outlives this process. (nats.js's test launcher is the model.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { ServerStartError } from "./errors.js";
import { waitFor } from "./wait-for.js";

/** True while the child has neither exited nor been killed. */
export function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Does nothing if it is not running. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5_000): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** When a started program counts as ready. */
export interface ReadyWhen {
  /** A line of its output that says so ("Server is ready"). */
  line?: string | RegExp;
  /** Or a check polled until it is true (a file written, a port listening). */
  check?: () => boolean | Promise<boolean>;
  /** Default 30 s; after it the child is killed and start() rejects. */
  timeoutMs?: number;
}

export interface ChildSpec {
  /** Who it is in errors: "nats-server (…/nats-server.conf)". */
  name: string;
  /** The program and its arguments (argv[0] is looked up on PATH). */
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** Its working folder (a server that may dump core should do so in its own folder). */
  cwd?: string;
  /** Where stdout and stderr are appended, across restarts. Without it they are only kept as recentOutput(). */
  logPath?: string;
  ready?: ReadyWhen;
  /** Sees every chunk of its output as it comes (a test that reads what a server printed). */
  onOutput?: (chunk: Buffer) => void;
  /** How long stop() waits after SIGTERM before SIGKILL (default 5 s). */
  graceMs?: number;
  /** Picks the lines that explain a failed start (default: the last three). */
  explain?: (recent: string[]) => string;
}

const TAIL_LINES = 20;

/** A real program run as a child: start(), then stop(), kill(), signal() or restart(). */
export class ChildProgram {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly tail: string[] = [];

  constructor(readonly spec: ChildSpec) {}

  get running(): boolean {
    return isRunning(this.child);
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  /** The running (or last) process, for what only a process has (its stdio, its pid). */
  get process(): ChildProcess | undefined {
    return this.child;
  }

  /**
   * Spawns it and resolves once it is ready (at once without `ready`). Rejects with a
   * ServerStartError naming its last output if it exits first or is not ready in time (it is
   * killed then). Does nothing while it runs. `{ waitReady: false }` returns once it is spawned.
   */
  async start(opts: { waitReady?: boolean } = {}): Promise<this> {
    if (this.running) return this;
    const [cmd, ...args] = this.spec.argv;
    const log = this.spec.logPath ? createWriteStream(this.spec.logPath, { flags: "a" }) : undefined;
    const child = spawn(cmd!, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: this.spec.env ?? process.env,
      cwd: this.spec.cwd,
    });
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        live.delete(child);
        resolve(code);
      }),
    );
    // Output can still arrive after "exit"; "close" comes once stdout and stderr are done.
    child.once("close", () => log?.end());
    child.once("error", () => {}); // a missing program: "exit" follows, and start() says so
    let sawReadyLine = false;
    const wanted = this.spec.ready?.line;
    const onData = (buf: Buffer) => {
      log?.write(buf);
      this.spec.onOutput?.(buf);
      for (const line of buf.toString("utf8").split("\n")) {
        if (!line) continue;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        if (wanted !== undefined && (typeof wanted === "string" ? line.includes(wanted) : wanted.test(line)))
          sawReadyLine = true;
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    if (this.spec.ready && opts.waitReady !== false) await this.waitReady(this.spec.ready, () => sawReadyLine);
    return this;
  }

  private async waitReady(ready: ReadyWhen, sawLine: () => boolean): Promise<void> {
    const timeoutMs = ready.timeoutMs ?? 30_000;
    let outcome = "timeout" as "ready" | "exited" | "timeout";
    try {
      await waitFor(
        async () => {
          if (sawLine() || (ready.check && (await ready.check()))) return (outcome = "ready");
          if (!this.running) return (outcome = "exited");
          return false;
        },
        timeoutMs,
        `${this.spec.name} to be ready`,
        25,
      );
    } catch {
      /* outcome stays "timeout" */
    }
    if (outcome === "ready") return;
    if (outcome === "timeout") await this.kill();
    const why = (this.spec.explain ?? ((r: string[]) => r.slice(-3).join("; ")))(this.tail);
    throw new ServerStartError(
      `${this.spec.name} ${outcome === "timeout" ? "did not become ready" : "exited"}: ${why || "no output"}`,
    );
  }

  /** Resolves with the exit code when the process ends (null if a signal ended it). */
  waitExit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = this.spec.graceMs ?? 5_000): Promise<number | null> {
    await stopChild(this.child, graceMs);
    return this.exited;
  }

  /** `kill -9`: the crash a fault test needs. */
  async kill(): Promise<number | null> {
    if (this.running) this.child!.kill("SIGKILL");
    return this.exited;
  }

  /** Sends a signal without waiting (SIGHUP reloads; SIGSTOP/SIGCONT simulate a hung host). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  /** Stops it and starts it again with the same command. */
  async restart(): Promise<this> {
    await this.stop();
    return this.start();
  }

  /** The last lines of its output, for error messages. */
  recentOutput(): string[] {
    return [...this.tail];
  }
}

// A test, a benchmark or `up` that dies must not leave its programs behind.
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});
