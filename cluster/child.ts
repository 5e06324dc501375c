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
  /**
   * An IPC channel (JSON) to it, for `process.send` and "message" (a bot host and its supervisor).
   * Such a child is not killed when this process exits: it sees the channel close and stops itself in order.
   */
  ipc?: boolean;
  /** It leads a process group of its own: kill(), and stop() past its grace, take down what it started too. */
  group?: boolean;
  /** Its output goes straight to this process's stdout and stderr: no log file, no ready line, no recentOutput(). */
  inheritOutput?: boolean;
}

const TAIL_LINES = 20;

/** A real program run as a child: start(), then stop(), kill(), signal() or restart(). */
export class ChildProgram {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly tail: string[] = [];

  constructor(readonly spec: ChildSpec) {}

  /** True while it has neither exited nor been killed. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
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
    const { ipc, group, inheritOutput } = this.spec;
    const log = this.spec.logPath && !inheritOutput ? createWriteStream(this.spec.logPath, { flags: "a" }) : undefined;
    const output = inheritOutput ? "inherit" : "pipe";
    const child = spawn(cmd!, args, {
      stdio: ["ignore", output, output, ...(ipc ? (["ipc"] as const) : [])],
      serialization: "json",
      detached: group,
      env: this.spec.env ?? process.env,
      cwd: this.spec.cwd,
    });
    this.child = child;
    if (!ipc) live.add(child);
    this.exited = new Promise((resolve) => {
      const ended = (code: number | null) => {
        live.delete(child);
        resolve(code);
      };
      child.once("exit", ended);
      // A program that could not be started at all (missing): no "exit" comes, and start() says so.
      // Listened to for good: an "error" with no listener would throw.
      child.on("error", () => child.pid === undefined && ended(null));
    });
    // Output can still arrive after "exit"; "close" comes once stdout and stderr are done.
    child.once("close", () => log?.end());
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
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
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
    if (!this.running) return this.exited;
    this.child!.kill("SIGTERM");
    const timer = setTimeout(() => void this.kill(), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** `kill -9` (of its whole group with `group`): the crash a fault test needs. */
  async kill(): Promise<number | null> {
    if (!this.running) return this.exited;
    if (!this.spec.group || !killGroup(this.child!.pid!)) this.child!.kill("SIGKILL");
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

/** SIGKILL to a process group; false when there is no such group (any more). */
function killGroup(leader: number): boolean {
  try {
    process.kill(-leader, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

// A test, a benchmark or `up` that dies must not leave its programs behind.
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});
