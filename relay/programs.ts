/**
 * Where the relay's compiled programs are, and how a floor above (`bustle-cluster up`, tests,
 * benchmarks) runs `bustled` on the one launcher: the path and what "ready" means are the
 * relay's to know, not theirs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChildProgram } from "../cluster/child.js";
import { LOG_POSITION_FILE } from "./log-position.js";

/** The node daemon, `bustled`. */
export const BUSTLED_PATH = fileURLToPath(new URL("./bin/bustled.js", import.meta.url));
/** The user command, `bustle`. */
export const BUSTLE_PATH = fileURLToPath(new URL("./bin/bustle.js", import.meta.url));

export interface BustledOptions {
  /** Its node.yaml. */
  config: string;
  /** Its state dir (node.yaml's, or the one `args` sets with --state): ready is a log position there. */
  state: string;
  /** Where its stdout and stderr (its structured logs) are appended, across restarts. */
  logPath: string;
  /** More flags (--homes, --log, --state …). */
  args?: string[];
  /** A command it runs under (e.g. setpriv, to run it as the unit's user and capability). */
  wrap?: string[];
  /** Flags for node itself (`--cpu-prof`, which NODE_OPTIONS refuses), before bustled's path. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for the log writer's first position (connected and consuming); default true. */
  waitReady?: boolean;
  /** SIGTERM's grace before SIGKILL (default 15 s: a relay flushes its outbox). */
  graceMs?: number;
}

/** `bustled` as a child program: start() resolves once its log writer has a position. */
export function bustledProgram(o: BustledOptions): ChildProgram {
  const positionFile = join(o.state, LOG_POSITION_FILE);
  return new ChildProgram({
    name: `bustled (${o.config})`,
    argv: [
      ...(o.wrap ?? []),
      process.execPath,
      ...(o.nodeArgs ?? []),
      BUSTLED_PATH,
      "--config",
      o.config,
      ...(o.args ?? []),
    ],
    env: o.env,
    logPath: o.logPath,
    graceMs: o.graceMs ?? 15_000,
    ...(o.waitReady === false ? {} : { ready: { check: () => existsSync(positionFile), timeoutMs: 30_000 } }),
    explain: () => `see ${o.logPath}`,
  });
}
