/**
 * A node's health for `bustle status`: the bus (cluster/health.ts), each server's routes and
 * meta leader when monitors are given, and how far this node's bustle.log lags behind the stream.
 *
 * Gathering never throws for a part that is unavailable (no stream yet, no position file):
 * that part carries an `error` string instead, so one report always comes back.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  connectionHealth,
  hasError,
  streamHealth,
  type ConnectionHealth,
  type StreamHealth,
} from "../cluster/health.js";
import { metaLeaderOf, viewServers, type ServerView } from "../cluster/monitoring.js";
import { describeError } from "../cluster/logger.js";
import { logPositionHealth, type LogPositionHealth } from "./log-position.js";

/** The whole report. Parts that could not be gathered hold `{ error }`. */
export interface Health {
  /** ISO time the report was made. */
  checkedAt: string;
  connection: ConnectionHealth;
  stream: StreamHealth | { error: string };
  /** Absent when no position file was asked for. */
  logPosition?: LogPositionHealth | { error: string };
  /** The log's last complete line; absent when no log file was asked for. */
  lastEvent?: { line: string | undefined } | { error: string };
  /** Each server's routes and meta leader from its monitoring port; absent unless `monitors` was given. */
  servers?: ServerView[];
  /** The JetStream meta leader most answering servers name; absent unless `monitors` was given. */
  metaLeader?: string | undefined;
}

export interface HealthOptions {
  /** `<state.dir>/log-position.json`, written by the log writer. */
  logPositionFile?: string | undefined;
  /** bustle.log, to report its last event line. */
  logFile?: string | undefined;
  /** Timeout of each JetStream API request. Default 4 s. */
  timeoutMs?: number;
  /**
   * Monitoring endpoints to ask for routes and the meta leader, e.g. from the `cluster.json`
   * that `bustle-cluster init` writes beside node.yaml.
   */
  monitors?: { id: string; monitor: string }[] | undefined;
}

/**
 * Gathers the report over a connected `nc` (the caller owns and closes it). Resolves always;
 * only a programming error rejects.
 */
export async function gatherHealth(nc: NatsConnection, opts: HealthOptions = {}): Promise<Health> {
  const [connection, stream, servers] = await Promise.all([
    connectionHealth(nc),
    streamHealth(nc, opts.timeoutMs ?? 4_000),
    opts.monitors?.length ? viewServers(opts.monitors) : Promise.resolve(undefined),
  ]);
  const health: Health = { checkedAt: new Date().toISOString(), connection, stream };
  if (servers) {
    health.servers = servers;
    health.metaLeader = metaLeaderOf(servers);
  }
  if (opts.logPositionFile !== undefined)
    health.logPosition = logPositionHealth(opts.logPositionFile, hasError(stream) ? undefined : stream.lastSeq);
  if (opts.logFile !== undefined) health.lastEvent = readLastEvent(opts.logFile);
  return health;
}

/** The last complete line of a log, read from its end (a few KiB at most, never the whole file). */
export function readLastEvent(file: string, maxBytes = 64 * 1024): { line: string | undefined } | { error: string } {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { error: `no log at ${file} yet` };
    return { error: `cannot read ${file}: ${code ?? describeError(err)}` };
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    const got = readSync(fd, buf, 0, len, size - len);
    const text = buf.subarray(0, got).toString("utf8");
    const end = text.lastIndexOf("\n");
    if (end < 0) return { line: undefined };
    const start = text.lastIndexOf("\n", end - 1) + 1;
    // A line longer than the window has no start inside it: report nothing rather than a fragment.
    if (start === 0 && size > len) return { line: undefined };
    return { line: text.slice(start, end) };
  } finally {
    closeSync(fd);
  }
}
