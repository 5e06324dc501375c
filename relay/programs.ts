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
/**
 * The node flags bustled runs with, wherever it runs: V8's heap held near what it keeps alive,
 * without a cap. `--max-semi-space-size=8`: the young generation grows to two 8 MB semi-spaces,
 * not Node 20's 16 MB ones. `--heap-growing-percent=50`: after each full collection the old
 * generation may grow by half of what survived before the next one, instead of up to four times
 * it (V8's choice when collections are cheap, which filled the RSS with old garbage). The heap
 * still grows as far as a node needs (an outage's backlog), so no out-of-memory risk; the price
 * is more frequent collections, within noise in CPU per event (docs/install.md, "bustled's node
 * flags"). Node reads them only at start (`v8.setFlagsFromString` is too late for the heap's
 * sizes), so each way of starting bustled spells them out: bustledProgram (tests, benchmarks,
 * `bustle-cluster up`) from here, and the `#!` line of relay/bin/bustled.ts (the `bustled`
 * command), the systemd unit's ExecStart and `npm start` in package.json, which
 * test/deploy/node-flags.test.ts checks against this list.
 */
export const BUSTLED_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8", "--heap-growing-percent=50"];

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
  /**
   * Flags for node itself (`--cpu-prof`, which NODE_OPTIONS refuses), after BUSTLED_NODE_FLAGS
   * and before bustled's path: V8 takes the last of a flag given twice, so a benchmark may
   * override one of them (`--max-semi-space-size=16`, Node 20's own default).
   */
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
      ...BUSTLED_NODE_FLAGS,
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
