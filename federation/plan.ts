/**
 * A federation plan: which nodes run a routed JetStream server (the core) and which run only a
 * relay that connects to the core as a client (members). Parsed from `bustle-cluster init` flags.
 */
import { isIP } from "node:net";
import { BustleError } from "../cluster/errors.js";
import { ADMIN_ID, NODE_ID_RE, SOURCE_RE } from "../cluster/names.js";

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
  /**
   * Nodes that run a control server (and so get a control credential). Default: every core
   * server; a member runs one only when named here.
   */
  control?: string[] | undefined;
  /**
   * Which control nodes may hold each bot (`--bot ID=NODE,NODE`): a node's control credential
   * may write only those bots' lease, position and admin keys and steer only them.
   */
  bots?: BotGrant[] | undefined;
}

/** One bot and the nodes whose control servers may run (and steer) it. */
export interface BotGrant {
  id: string;
  nodes: string[];
}

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;

function port(text: string, what: string, spec: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new UsageError(`--node ${spec}: ${what} must be a port 1–65535, got ${JSON.stringify(text)}`);
  return n;
}

/** Parses `ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT]` (IPv6 hosts in brackets). */
export function parseNodeSpec(spec: string): ServerNode {
  const m = /^([^=]+)=(\[[0-9a-fA-F:.]+\]|[^:]+):(.*)$/.exec(spec);
  if (!m) throw new UsageError(`--node ${spec}: expected ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT]`);
  const [, id, rawHost, rest] = m as unknown as [string, string, string, string];
  if (!NODE_ID_RE.test(id))
    throw new UsageError(
      `--node ${spec}: node id ${JSON.stringify(id)} must match ${NODE_ID_RE} (lower case letters, digits, dashes)`,
    );
  const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost;
  if (!(isIP(host) || HOST_RE.test(host)))
    throw new UsageError(`--node ${spec}: ${JSON.stringify(host)} is not a host name or IP address`);
  const ports = rest.split(":");
  if (ports.length < 2 || ports.length > 3)
    throw new UsageError(`--node ${spec}: expected ID=HOST:CLIENT_PORT:CLUSTER_PORT[:MONITOR_PORT]`);
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

/** The nodes running a control server: `plan.control`, else every core server. */
export const controlNodes = (plan: FederationPlan): string[] => plan.control ?? plan.servers.map((s) => s.id);

/** The bots node `id`'s control server may run. */
export const botsOf = (plan: FederationPlan, id: string): string[] =>
  (plan.bots ?? []).filter((b) => b.nodes.includes(id)).map((b) => b.id);

/**
 * Parses `BOT=NODE[,NODE...]`; a bare `BOT` means every control node (filled in by checkPlan,
 * which knows them).
 */
export function parseBotSpec(spec: string): BotGrant {
  const [id, list] = spec.includes("=")
    ? [spec.slice(0, spec.indexOf("=")), spec.slice(spec.indexOf("=") + 1)]
    : [spec, undefined];
  if (!SOURCE_RE.test(id)) throw new UsageError(`--bot ${spec}: bot id ${JSON.stringify(id)} must match ${SOURCE_RE}`);
  const nodes =
    list === undefined
      ? []
      : list
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean);
  if (list !== undefined && nodes.length === 0)
    throw new UsageError(
      `--bot ${spec}: name the nodes that may run it (BOT=NODE,NODE) or give just BOT for every control node`,
    );
  return { id, nodes };
}

/** Checks a whole plan (unique ids, no two servers on one host:port, at least one server); returns it with every bot's nodes filled in. */
export function checkPlan(plan: FederationPlan): FederationPlan {
  if (plan.servers.length === 0) throw new UsageError("give at least one --node ID=HOST:CLIENT_PORT:CLUSTER_PORT");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(plan.cluster))
    throw new UsageError(`--name ${JSON.stringify(plan.cluster)}: letters, digits, _ and - only`);
  const ids = new Set<string>();
  for (const id of [...plan.servers.map((s) => s.id), ...plan.members]) {
    if (!NODE_ID_RE.test(id)) throw new UsageError(`node id ${JSON.stringify(id)} must match ${NODE_ID_RE}`);
    if (ids.has(id)) throw new UsageError(`node id ${id} is given twice`);
    if (id === ADMIN_ID) throw new UsageError(`node id ${ADMIN_ID} is reserved for the federation's admin credential`);
    ids.add(id);
  }
  const control = controlNodes(plan);
  for (const id of control)
    if (!ids.has(id)) throw new UsageError(`--control ${id}: no such node (give it with --node or --member)`);
  // A bare `--bot ID`: every control node may run it.
  const bots = (plan.bots ?? []).map((b) => ({
    id: b.id,
    nodes: b.nodes.length ? [...new Set(b.nodes)] : [...control],
  }));
  const seen = new Set<string>();
  for (const b of bots) {
    if (seen.has(b.id)) throw new UsageError(`--bot ${b.id} is given twice`);
    seen.add(b.id);
    for (const n of b.nodes)
      if (!control.includes(n))
        throw new UsageError(
          `--bot ${b.id}=${b.nodes.join(",")}: ${n} runs no control server (give --control ${n}, or pick among ${control.join(", ") || "none"})`,
        );
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
  return { ...plan, bots };
}

/** `host:port` with IPv6 hosts bracketed. */
export const hostPort = (host: string, p: number): string => (isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`);

/** Stream replicas for a cluster of `servers` JetStream servers: R3 from three on. */
export const replicasFor = (servers: number): number => Math.min(3, Math.max(1, servers));
