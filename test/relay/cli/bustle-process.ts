/**
 * Running the real compiled `bustle` for the CLI tests: one-shot runs, and a long-running feed
 * whose output can be waited on.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { bin } from "../../support/paths.js";
import { BUSTLE as BUSTLE_BIN } from "../../support/cli.js";
import { waitFor } from "../../../cluster/wait-for.js";

export const BUSTLE = bin(BUSTLE_BIN);

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Environment for a test run: only what the CLI needs, HOME in the test's temp dir. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...extra };
}

/** Runs `bustle args…` to completion (bounded by `timeoutMs`, then killed and rejected). */
export function runBustle(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUSTLE, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bustle ${args.join(" ")} did not finish within ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** A running feed. stop() ends it with SIGINT and resolves to its exit code. */
export class Feed {
  private readonly child: ChildProcess;
  private out: Buffer[] = [];
  stderr = "";
  code: number | null | undefined;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [BUSTLE, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d: Buffer) => this.out.push(d));
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.child.on("exit", (code) => (this.code = code));
  }

  get stdout(): Buffer {
    return Buffer.concat(this.out);
  }

  get text(): string {
    return this.stdout.toString("utf8");
  }

  /** Waits until stdout satisfies `check`. */
  async until(check: (text: string) => boolean, what: string, ms = 20_000): Promise<void> {
    await waitFor(
      () => check(this.text),
      ms,
      `${what} (stdout so far: ${JSON.stringify(this.text.slice(-400))}, stderr: ${JSON.stringify(this.stderr)})`,
    );
  }

  async untilErr(check: (text: string) => boolean, what: string, ms = 20_000): Promise<void> {
    await waitFor(() => check(this.stderr), ms, `${what} (stderr so far: ${JSON.stringify(this.stderr)})`);
  }

  /** Sends a signal (SIGSTOP/SIGCONT let a test change the log while the feed cannot look). */
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async stop(): Promise<number | null> {
    if (this.code === undefined) {
      this.child.kill("SIGINT");
      try {
        await waitFor(() => this.code !== undefined, 10_000, "the feed to exit after SIGINT");
      } catch (err) {
        this.child.kill("SIGKILL");
        throw err;
      }
    }
    return this.code ?? null;
  }
}
