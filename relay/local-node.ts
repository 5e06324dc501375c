/**
 * One relay node on this machine, for tests and benchmarks: its folders and a node.yaml that
 * does not get in the way of load (rate limits out of reach, ambient off unless asked), and its
 * `bustled` on the one launcher: start and wait until it writes its log position (connected and
 * consuming), kill -9 it, stop it, start it again.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { ChildProgram } from "../cluster/child.js";
import { bustledProgram } from "./programs.js";

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
/** node.yaml settings that keep out of a load's way: rate limits out of reach, ambient watching off (spool lines only). */
export const UNTHROTTLED_NODE_YAML =
  "spool: {rate: {burst: 1000000, per_minute: 10000000}, rescan: 1s}\nambient: {enabled: false}\n";

export function writeRelayConfig(
  dir: string,
  node: string,
  nats: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): RelayFiles {
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
    ...parse(UNTHROTTLED_NODE_YAML),
    ...extra,
  };
  writeFileSync(files.config, stringify(config));
  return files;
}

/** A real `bustled` on its files, for tests and benchmarks: start, kill -9, stop, signal, restart. */
export class RelayProcess {
  private readonly program: ChildProgram;

  /**
   * `wrap`: a command bustled runs under (e.g. setpriv, to run it as the unit's user and
   * capability). `nodeArgs`: flags for node, after bustled's own (so a V8 size given here wins).
   */
  constructor(
    readonly files: RelayFiles,
    readonly args: string[] = [],
    readonly wrap: string[] = [],
    readonly nodeArgs: string[] = [],
  ) {
    this.program = bustledProgram({
      config: files.config,
      state: files.state,
      logPath: files.daemonLog,
      args,
      wrap,
      nodeArgs,
      env: { ...process.env, BUSTLE_LOG_LEVEL: process.env.BUSTLE_LOG_LEVEL ?? "info" },
    });
  }

  get running(): boolean {
    return this.program.running;
  }

  /** Starts bustled; with `waitReady` (default) resolves once its log writer has a position file. */
  async start(waitReady = true): Promise<this> {
    await this.program.start({ waitReady });
    return this;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    await this.program.kill();
  }

  /** SIGTERM and wait (SIGKILL after 15 s). */
  stop(): Promise<number | null> {
    return this.program.stop();
  }

  /** Sends a signal (SIGHUP: reopen logs). */
  signal(sig: NodeJS.Signals): void {
    this.program.signal(sig);
  }

  waitExit(): Promise<number | null> {
    return this.program.waitExit();
  }
}
