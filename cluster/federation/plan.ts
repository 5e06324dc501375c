/**
 * A federation plan: which nodes run a routed JetStream server (the core) and which run only a
 * relay that connects to the core as a client (members). Parsed from `bustle-cluster init` flags.
 */
import { isIP } from "node:net";
import { BustleError } from "../errors.js";
import { NODE_ID_RE } from "../names.js";

/** A flag or argument of `bustle-cluster` is malformed (exit 2 with this one line). */
export class UsageError extends BustleError {}

/** A node that runs a nats-server in the routed cluster (and a relay beside it). */
export interface ServerNode {
  id: string;
  /** Host name or IP address the other servers and the relays reach it at. */
  host: string;
  clientPort: number;
  clusterPort: number;
  monitorPort?: number | undefined;
}

export interface FederationPlan {
  /** The cluster's name (every server's `cluster.name`). */
  cluster: string;
  servers: ServerNode[];
  /** Nodes that run only a relay, connecting to the core servers with their own credentials. */
  members: string[];
}

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;

function port(text: string, what: string, spec: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new UsageError(`--node ${spec}: ${what} must be a port 1–65535, got ${JSON.stringify(text)}`);
  return n;
}

/** Parses `ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT]` (IPv6 hosts in brackets). */
export function parseNodeSpec(spec: string): ServerNode {
  const m = /^([^=]+)=(\[[0-9a-fA-F:.]+\]|[^:]+):(.*)$/.exec(spec);
  if (!m) throw new UsageError(`--node ${spec}: expected ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT]`);
  const [, id, rawHost, rest] = m as unknown as [string, string, string, string];
  if (!NODE_ID_RE.test(id)) throw new UsageError(`--node ${spec}: node id ${JSON.stringify(id)} must match ${NODE_ID_RE} (lower case letters, digits, dashes)`);
  const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost;
  if (!(isIP(host) || HOST_RE.test(host))) throw new UsageError(`--node ${spec}: ${JSON.stringify(host)} is not a host name or IP address`);
  const ports = rest.split(":");
  if (ports.length < 2 || ports.length > 3) throw new UsageError(`--node ${spec}: expected ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT]`);
  const node: ServerNode = {
    id,
    host,
    clientPort: port(ports[0]!, "CLIENT_PORT", spec),
    clusterPort: port(ports[1]!, "CLUSTER_PORT", spec),
    monitorPort: ports[2] !== undefined ? port(ports[2], "MONITOR_PORT", spec) : undefined,
  };
  const used = [node.clientPort, node.clusterPort, ...(node.monitorPort ? [node.monitorPort] : [])];
  if (new Set(used).size !== used.length) throw new UsageError(`--node ${spec}: the ports must differ`);
  return node;
}

/** Checks a whole plan: unique ids, no two servers on one host:port, at least one server. */
export function checkPlan(plan: FederationPlan): FederationPlan {
  if (plan.servers.length === 0) throw new UsageError("give at least one --node ID=HOST:CLIENT_PORT:CLUSTER_PORT");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(plan.cluster)) throw new UsageError(`--name ${JSON.stringify(plan.cluster)}: letters, digits, _ and - only`);
  const ids = new Set<string>();
  for (const id of [...plan.servers.map((s) => s.id), ...plan.members]) {
    if (!NODE_ID_RE.test(id)) throw new UsageError(`node id ${JSON.stringify(id)} must match ${NODE_ID_RE}`);
    if (ids.has(id)) throw new UsageError(`node id ${id} is given twice`);
    ids.add(id);
  }
  const endpoints = new Set<string>();
  for (const s of plan.servers) {
    for (const p of [s.clientPort, s.clusterPort, s.monitorPort]) {
      if (p === undefined) continue;
      const key = `${s.host}:${p}`;
      if (endpoints.has(key)) throw new UsageError(`${key} is used twice`);
      endpoints.add(key);
    }
  }
  return plan;
}

/** `host:port` with IPv6 hosts bracketed. */
export const hostPort = (host: string, p: number): string => (isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`);

/** Stream replicas for a cluster of `servers` JetStream servers: R3 from three on. */
export const replicasFor = (servers: number): number => Math.min(3, Math.max(1, servers));
