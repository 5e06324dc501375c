/**
 * A real `bustled` process for tests and benchmarks: write its node.yaml, start it, wait until
 * it writes its log position (connected and consuming), kill -9 it, restart it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { isRunning, stopChild } from "../../cluster/child.js";
import { BUSTLED_PATH } from "../../relay/programs.js";
import { waitFor } from "../../cluster/wait-for.js";

export interface RelayFiles {
  dir: string;
  config: string;
  homes: string;
  log: string;
  audit: string;
  state: string;
  /** The daemon's own stderr (structured logs), appended across restarts. */
  daemonLog: string;
}

/** Lays out a node's folders under `dir` and writes its node.yaml (`extra` merged at the top level). */
export function writeRelayConfig(dir: string, node: string, nats: Record<string, unknown>, extra: Record<string, unknown> = {}): RelayFiles {
  const files: RelayFiles = {
    dir,
    config: join(dir, "node.yaml"),
    homes: join(dir, "homes"),
    log: join(dir, "bustle.log"),
    audit: join(dir, "audit.log"),
    state: join(dir, "state"),
    daemonLog: join(dir, "bustled.log"),
  };
  mkdirSync(files.homes, { recursive: true });
  const config = {
    node: { id: node },
    nats,
    homes: { root: files.homes },
    log: { path: files.log, audit: files.audit },
    state: { dir: files.state },
    spool: { rate: { burst: 1_000_000, per_minute: 10_000_000 }, rescan: "1s" },
    ambient: { enabled: false },
    ...extra,
  };
  writeFileSync(files.config, stringify(config));
  return files;
}

export class RelayProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);

  /** `wrap`: a command bustled runs under (e.g. setpriv, to run it as the unit's user and capability). */
  constructor(readonly files: RelayFiles, readonly args: string[] = [], readonly wrap: string[] = []) {}

  get running(): boolean {
    return isRunning(this.child);
  }

  /** Starts bustled; with `waitReady` (default) resolves once its log writer has a position file. */
  async start(waitReady = true): Promise<this> {
    const out = createWriteStream(this.files.daemonLog, { flags: "a" });
    const argv = [...this.wrap, process.execPath, BUSTLED_PATH, "--config", this.files.config, ...this.args];
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, BUSTLE_LOG_LEVEL: process.env.BUSTLE_LOG_LEVEL ?? "info" },
    });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    this.child = child;
    live.add(child);
    this.exit = new Promise((r) => child.once("exit", (code) => {
      live.delete(child);
      r(code);
    }));
    if (waitReady) {
      await waitFor(() => {
        if (!this.running) throw new Error(`bustled exited early; see ${this.files.daemonLog}`);
        return existsSync(join(this.files.state, "log-position.json"));
      }, 30_000, `bustled (${this.files.config}) to start consuming`);
    }
    return this;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGKILL");
    await this.exit;
  }

  /** SIGTERM and wait (SIGKILL after 15 s). */
  async stop(): Promise<number | null> {
    await stopChild(this.child, 15_000);
    return this.exit;
  }

  /** Sends a signal (SIGHUP: reopen logs). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  waitExit(): Promise<number | null> {
    return this.exit;
  }
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});
