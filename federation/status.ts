/**
 * `bustle-cluster status`: the federation as a whole. Routes and the JetStream meta leader from
 * each server's monitoring endpoint, the BUSTLE stream's replicas and lag over a client
 * connection with a node's credentials, and each node's bustle.log position against the stream
 * head. Every part that cannot be read is reported as such; one report always comes back.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveBusSettings, type NatsSection } from "../cluster/bus-config.js";
import { closeBus, connectBus, type NatsConnection } from "../cluster/connection.js";
import { ConfigError, NatsUnavailable } from "../cluster/errors.js";
import { hasError, streamHealth, type StreamHealth } from "../cluster/health.js";
import { loadNodeConfig, type NodeConfig } from "../relay/config.js";
import { logPositionHealth } from "../relay/log-position.js";
import { silentLogger } from "../cluster/logger.js";
import { localBusSettings, localCredentials } from "../cluster/local-auth.js";
import type { FederationMap } from "./init.js";
import { metaLeaderOf, viewServers, type ServerView } from "../cluster/monitoring.js";
import { inboxPrefix } from "../cluster/permissions.js";
import { hostPort } from "./plan.js";

/** A node's bustle.log writer position against the stream head. */
export interface NodeLogView {
  id: string;
  file: string;
  seq?: number | undefined;
  lag?: number | undefined;
  error?: string | undefined;
}

/** The whole report (`--json` prints it as it is). */
export interface FederationStatus {
  checkedAt: string;
  cluster: string | undefined;
  /** The server this report's client connection reached, if any. */
  connectedTo: string | undefined;
  servers: ServerView[];
  /** The meta leader most servers agree on; undefined when none has one. */
  metaLeader: string | undefined;
  stream: StreamHealth | { error: string };
  logs: NodeLogView[];
}

/** The bits of a node.yaml that status needs (the relay's loader reads it: relay/config.ts). */
export interface NodeFileView {
  file: string;
  id: string;
  nats: NatsSection;
  stateDir: string;
}

/** What status takes from a node's loaded config. */
export const nodeFileView = (c: NodeConfig, file: string): NodeFileView => ({
  file,
  id: c.node.id,
  nats: c.nats,
  stateDir: c.state.dir,
});

/** Loads a node.yaml as bustled does. Throws ConfigError naming the file, line and key. */
export const readNodeFile = (file: string): NodeFileView => nodeFileView(loadNodeConfig(file), file);

/** The federation map written by init beside a node.yaml, if there is one. */
export function readMap(dir: string): FederationMap | undefined {
  const p = join(dir, "cluster.json");
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as FederationMap;
  } catch {
    throw new ConfigError(`${p} is not valid JSON: re-run bustle-cluster init`);
  }
}

export interface StatusInputs {
  node: NodeFileView;
  map: FederationMap | undefined;
  /** Position files to report, per node id. */
  positions: { id: string; file: string }[];
  timeoutMs?: number;
}

async function connectFor(node: NodeFileView, timeoutMs: number): Promise<NatsConnection> {
  // An embedded node (no servers): its read-only status credential, as `bustle status` uses.
  const settings =
    !node.nats.servers?.length && node.stateDir
      ? localBusSettings(localCredentials(node.stateDir, node.id), "status", node.nats.port)
      : resolveBusSettings(
          node.nats,
          node.file,
          node.nats.servers?.length ? [...node.nats.servers] : [`nats://127.0.0.1:${node.nats.port}`],
        );
  return connectBus({
    ...settings,
    name: `bustle-cluster status (${node.id})`,
    logger: silentLogger,
    waitOnFirstConnect: false,
    timeoutMs,
    inboxPrefix: settings.inboxPrefix ?? inboxPrefix(node.id),
  });
}

/** Gathers the report; rejects with NatsUnavailable only when neither NATS nor any monitor answers. */
export async function gatherFederationStatus(i: StatusInputs): Promise<FederationStatus> {
  const timeoutMs = i.timeoutMs ?? 4_000;
  // Monitoring listens on 127.0.0.1 of each host: ask this node's own server, and every server
  // when the whole federation runs on loopback (`up`); the others are listed as not asked.
  const loopback = (h: string) => h === "localhost" || h.startsWith("127.") || h === "::1";
  const known = (i.map?.servers ?? []).filter((s) => s.monitorPort);
  const askable = known.filter((s) => s.id === i.node.id || loopback(s.host));
  const targets = askable.map((s) => ({
    id: s.id,
    monitor: `http://${hostPort(loopback(s.host) ? s.host : "127.0.0.1", s.monitorPort!)}`,
  }));
  const notAsked: ServerView[] = known
    .filter((s) => !askable.includes(s))
    .map((s) => ({
      id: s.id,
      monitor: `http://${hostPort(s.host, s.monitorPort!)}`,
      reachable: false,
      asked: false,
      error: "not asked: its monitoring port listens on its own host only (run status there)",
      routes: [],
      metaPeers: [],
      jetstream: false,
    }));
  let nc: NatsConnection | undefined;
  let connectError: string | undefined;
  const [asked] = await Promise.all([
    viewServers(targets, Math.min(timeoutMs, 2_000)),
    connectFor(i.node, timeoutMs).then(
      (c) => (nc = c),
      (err: Error) => (connectError = err.message),
    ),
  ]);
  const servers = [...asked, ...notAsked];
  try {
    if (!nc && !servers.some((s) => s.reachable)) throw new NatsUnavailable(connectError ?? "no server answers");
    const stream = nc ? await streamHealth(nc, timeoutMs) : { error: connectError ?? "not connected" };
    const head = hasError(stream) ? undefined : stream.lastSeq;
    const logs = i.positions.map(({ id, file }) => {
      const p = logPositionHealth(file, head);
      return hasError(p) ? { id, file, error: p.error } : { id, file, seq: p.seq, lag: p.lag };
    });
    const metaLeader = metaLeaderOf(servers);
    return {
      checkedAt: new Date().toISOString(),
      cluster: i.map?.cluster ?? nc?.info?.cluster,
      connectedTo: nc ? `${nc.info?.server_name ?? "?"} (${nc.getServer()})` : undefined,
      servers,
      metaLeader,
      stream,
      logs,
    };
  } finally {
    await closeBus(nc);
  }
}
