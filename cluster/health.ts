/**
 * The bus as one client sees it: the NATS connection, the cluster routes the server advertises,
 * the BUSTLE stream's state and replicas. `bustle status` (relay/health.ts) adds the node's log;
 * `bustle-cluster status` adds every server's monitoring view.
 *
 * Reading never throws for a part that is unavailable (no stream yet): that part carries an
 * `error` string instead, so one report always comes back.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { describeError } from "./logger.js";
import { STREAM_NAME } from "./names.js";

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

export const hasError = (x: unknown): x is { error: string } =>
  typeof x === "object" && x !== null && typeof (x as { error?: unknown }).error === "string";

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
      peers.push({
        name: p.name,
        leader: false,
        current: p.current,
        offline: p.offline ?? false,
        lag: p.lag ?? 0,
        activeMs: Math.round((p.active ?? 0) / 1e6),
      });
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
    const m = describeError(err);
    if (/not found/i.test(m)) return { error: `stream ${STREAM_NAME} not found (has a relay started yet?)` };
    if (/no responders|503/i.test(m)) return { error: "JetStream is not enabled on this server (no responders)" };
    return { error: `cannot read stream ${STREAM_NAME}: ${m}` };
  }
}
