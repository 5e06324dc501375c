/**
 * A local `nats-server` process: write its config, spawn it, wait until it is ready, stop,
 * kill or restart it. Used by bustled's embedded default, `bustle-cluster up`, every test and
 * every benchmark.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ChildProgram } from "./child.js";
import { ServerStartError } from "./errors.js";
import { freePort } from "./net.js";

export interface ServerConfigOptions {
  serverName: string;
  host?: string;
  port: number;
  monitorPort?: number | undefined;
  /** JetStream store directory; JetStream is always on. */
  storeDir: string;
  /** Clustering: all servers of one cluster share `name`; routes point at the others' cluster ports. */
  cluster?: { name: string; port: number; routes: string[] } | undefined;
  /** Extra config text appended verbatim (accounts, authorization, tls blocks). */
  extra?: string | undefined;
}

const q = (s: string) => JSON.stringify(s);

/** The nats-server.conf text for a server. */
export function renderServerConf(o: ServerConfigOptions): string {
  const host = o.host ?? "127.0.0.1";
  const lines = [
    `server_name: ${q(o.serverName)}`,
    `host: ${q(host)}`,
    `port: ${o.port}`,
    ...(o.monitorPort ? [`http: ${q(`${host}:${o.monitorPort}`)}`] : []),
    `jetstream {`,
    `  store_dir: ${q(o.storeDir)}`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 8GB`,
    `}`,
  ];
  if (o.cluster) {
    lines.push(
      `cluster {`,
      `  name: ${q(o.cluster.name)}`,
      `  host: ${q(host)}`,
      `  port: ${o.cluster.port}`,
      `  routes: [${o.cluster.routes.map(q).join(", ")}]`,
      `}`,
    );
  }
  if (o.extra) lines.push(o.extra);
  return lines.join("\n") + "\n";
}

export interface NatsServerSpec {
  /** Path of the config file to run. */
  confPath: string;
  /** Client port (for `url`). */
  port: number;
  host?: string;
  monitorPort?: number | undefined;
  /** Where the server's own output is appended. */
  logPath: string;
  /** Where the pid is written (so a crashed parent's orphan can be found). */
  pidPath?: string;
  bin?: string;
}

/** The nats-server binary: $NATS_SERVER_BIN, else the first on PATH (Debian: /usr/sbin). */
export function natsServerBin(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin", "/usr/bin"]) {
    if (dir && existsSync(join(dir, "nats-server"))) return join(dir, "nats-server");
  }
  throw new ServerStartError("nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER_BIN");
}

/** A running (or stopped) nats-server child process, on the one launcher (child.ts). */
export class NatsServer {
  private program: ChildProgram | undefined;

  constructor(readonly spec: NatsServerSpec) {}

  get url(): string {
    return `nats://${this.spec.host ?? "127.0.0.1"}:${this.spec.port}`;
  }
  get pid(): number | undefined {
    return this.program?.pid;
  }
  get running(): boolean {
    return this.program?.running ?? false;
  }

  /**
   * Spawns the server and resolves when it reports "Server is ready". Rejects with
   * ServerStartError (carrying its last output lines) if it exits first or takes too long.
   */
  async start(timeoutMs = 20_000): Promise<this> {
    if (this.running) return this;
    await killStale(this.spec.pidPath);
    this.program = new ChildProgram({
      name: `nats-server (${this.spec.confPath})`,
      argv: [this.spec.bin ?? natsServerBin(), "-c", this.spec.confPath],
      logPath: this.spec.logPath,
      ready: { line: "Server is ready", timeoutMs },
      explain: (recent) =>
        recent
          .filter((l) => /\[(FTL|ERR)\]/.test(l))
          .slice(-3)
          .join("; ") || recent.slice(-3).join("; "),
    });
    const started = this.program.start();
    if (this.spec.pidPath && this.program.pid) writeFileSync(this.spec.pidPath, `${this.program.pid}\n`);
    await started;
    return this;
  }

  /** Resolves with the exit code when the process ends (null if killed by a signal). */
  waitExit(): Promise<number | null> {
    return this.program?.waitExit() ?? Promise.resolve(null);
  }

  /** Graceful stop (SIGTERM), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    await this.program?.stop(graceMs);
  }

  /** `kill -9`: the crash a fault test needs. */
  async kill(): Promise<void> {
    await this.program?.kill();
  }

  /** Sends a signal without waiting (SIGSTOP/SIGCONT simulate a hung host). */
  signal(sig: NodeJS.Signals): void {
    this.program?.signal(sig);
  }

  /** Last lines of the server's output, for error messages. */
  recentOutput(): string[] {
    return this.program?.recentOutput() ?? [];
  }
}

/** Kills a nats-server left behind by a parent that died (its pid file names it). */
async function killStale(pidPath: string | undefined): Promise<void> {
  if (!pidPath || !existsSync(pidPath)) return;
  const pid = Number(readFileSync(pidPath, "utf8").trim());
  rmSync(pidPath, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // not running
  }
  if (!cmdline.includes("nats-server")) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  // Wait (bounded) for it to let go of its ports and store.
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
  if (existsSync(`/proc/${pid}`)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

export interface LocalServerOptions {
  /** Folder for conf, store, log and pid. Created if missing. */
  dir: string;
  serverName?: string;
  port?: number;
  monitorPort?: number;
  cluster?: ServerConfigOptions["cluster"];
  extra?: string;
}

/** Writes `text` to `path` readable by its owner only, also when the file existed with a looser mode. */
function writeConfidential(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Writes a config into `dir` (free ports where none are given) and returns the unstarted server. */
export async function prepareLocalServer(o: LocalServerOptions): Promise<NatsServer> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const port = o.port ?? (await freePort());
  const monitorPort = o.monitorPort ?? (await freePort());
  const confPath = join(dir, "nats-server.conf");
  // 0600: the conf may hold passwords (the embedded server's users, a test's accounts).
  writeConfidential(
    confPath,
    renderServerConf({
      serverName: o.serverName ?? "bustle",
      port,
      monitorPort,
      storeDir: join(dir, "jetstream"),
      cluster: o.cluster,
      extra: o.extra,
    }),
  );
  return new NatsServer({
    confPath,
    port,
    monitorPort,
    logPath: join(dir, "nats-server.log"),
    pidPath: join(dir, "nats-server.pid"),
  });
}
