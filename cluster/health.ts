/**
 * A node's health as one client sees it: the NATS connection, the cluster routes the server
 * advertises, the BUSTLE stream's state and replicas, and how far this node's bustle.log
 * lags behind the stream. Used by `bustle status`; `bustle-cluster status` reuses and extends it.
 *
 * Gathering never throws for a part that is unavailable (no stream yet, no position file):
 * that part carries an `error` string instead, so one report always comes back.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { STREAM_NAME } from "./names.js";
import { metaLeaderOf, viewServers, type ServerView } from "./monitoring.js";

/** The client connection and what the connected server says about itself. */
export interface ConnectionHealth {
  /** The URL of the server we are connected to, e.g. "127.0.0.1:4222". */
  server: string;
  serverName: string;
  serverId: string;
  version: string;
  /** The cluster's name, undefined when the server is not clustered. */
  cluster: string | undefined;
  /** Client URLs of every server in the cluster, as advertised (gossiped) to clients. */
  connectUrls: string[];
  /** Every server the client knows of (configured and gossiped). */
  knownServers: string[];
  jetstream: boolean;
  /** Round trip to the server, in milliseconds; undefined when the ping failed. */
  rttMs: number | undefined;
}

/** One member of the stream's RAFT group. */
export interface ReplicaHealth {
  name: string;
  leader: boolean;
  /** Up to date with the leader. The leader is always current. */
  current: boolean;
  offline: boolean;
  /** Uncommitted operations behind the leader (0 for the leader). */
  lag: number;
  /** Milliseconds since the leader last heard from it (0 for the leader). */
  activeMs: number;
}

/** The BUSTLE stream's state, or why it could not be read. */
export interface StreamHealth {
  name: string;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  /** ISO time of the newest event, undefined when the stream is empty. */
  lastTs: string | undefined;
  /** Configured replica count. */
  replicas: number;
  /** The RAFT leader's server name (the connected server's name when not clustered). */
  leader: string | undefined;
  /** Every member, leader first; one entry for a single server. */
  peers: ReplicaHealth[];
}

/** This node's bustle.log writer position (`<state.dir>/log-position.json`) against the stream head. */
export interface LogPositionHealth {
  file: string;
  /** The last stream sequence written to bustle.log. */
  seq: number;
  /** bustle.log's size in bytes at that point. */
  size: number;
  /** Events in the stream not yet in the log (stream last_seq − seq); undefined without stream info. */
  lag: number | undefined;
}

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
   * that `bustle-cluster init` writes beside node.yaml (`readMap` in federation/status.ts).
   */
  monitors?: { id: string; monitor: string }[] | undefined;
}

export const hasError = (x: unknown): x is { error: string } =>
  typeof x === "object" && x !== null && typeof (x as { error?: unknown }).error === "string";

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

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
  if (opts.logPositionFile !== undefined) health.logPosition = readLogPosition(opts.logPositionFile, hasError(stream) ? undefined : stream.lastSeq);
  if (opts.logFile !== undefined) health.lastEvent = readLastEvent(opts.logFile);
  return health;
}

export async function connectionHealth(nc: NatsConnection): Promise<ConnectionHealth> {
  const info = nc.info;
  const rttMs = await Promise.race([
    nc.rtt().catch(() => undefined),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 2_000).unref()),
  ]);
  return {
    server: nc.getServer(),
    serverName: info?.server_name ?? "",
    serverId: info?.server_id ?? "",
    version: info?.version ?? "",
    cluster: info?.cluster,
    connectUrls: [...new Set(info?.connect_urls ?? [])],
    knownServers: nc.getServers().map((s) => s.listen),
    jetstream: info?.jetstream ?? false,
    rttMs: rttMs === undefined ? undefined : Math.round(rttMs * 10) / 10,
  };
}

export async function streamHealth(nc: NatsConnection, timeoutMs = 4_000): Promise<StreamHealth | { error: string }> {
  try {
    const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    const si = await jsm.streams.info(STREAM_NAME);
    const leader = si.cluster?.leader ?? nc.info?.server_name;
    const peers: ReplicaHealth[] = [];
    if (leader) peers.push({ name: leader, leader: true, current: true, offline: false, lag: 0, activeMs: 0 });
    for (const p of si.cluster?.replicas ?? []) {
      peers.push({ name: p.name, leader: false, current: p.current, offline: p.offline ?? false, lag: p.lag ?? 0, activeMs: Math.round((p.active ?? 0) / 1e6) });
    }
    return {
      name: STREAM_NAME,
      messages: si.state.messages,
      bytes: si.state.bytes,
      firstSeq: si.state.first_seq,
      lastSeq: si.state.last_seq,
      lastTs: si.state.messages > 0 ? si.state.last_ts : undefined,
      replicas: si.config.num_replicas,
      leader,
      peers,
    };
  } catch (err) {
    const m = message(err);
    if (/not found/i.test(m)) return { error: `stream ${STREAM_NAME} not found (has a relay started yet?)` };
    if (/no responders|503/i.test(m)) return { error: "JetStream is not enabled on this server (no responders)" };
    return { error: `cannot read stream ${STREAM_NAME}: ${m}` };
  }
}

/** Reads `{"seq":N,"size":B}`; the lag is `streamLastSeq − seq` when the stream head is known. */
export function readLogPosition(file: string, streamLastSeq: number | undefined): LogPositionHealth | { error: string } {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { error: `no log position at ${file} yet (has the log writer run?)` };
    return { error: `cannot read ${file}: ${code ?? message(err)}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { error: `${file} is not valid JSON` };
  }
  const { seq, size } = (parsed ?? {}) as { seq?: unknown; size?: unknown };
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || !Number.isSafeInteger(size) || (size as number) < 0) {
    return { error: `${file} does not hold {"seq": N, "size": B}` };
  }
  return { file, seq: seq as number, size: size as number, lag: streamLastSeq === undefined ? undefined : Math.max(0, streamLastSeq - (seq as number)) };
}

/** The last complete line of a log, read from its end (a few KiB at most, never the whole file). */
export function readLastEvent(file: string, maxBytes = 64 * 1024): { line: string | undefined } | { error: string } {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { error: `no log at ${file} yet` };
    return { error: `cannot read ${file}: ${code ?? message(err)}` };
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
