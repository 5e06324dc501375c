/**
 * Real nats-servers for tests and benchmarks: one JetStream server, or an N-server cluster that
 * is waited on until every route is up and JetStream has a meta leader.
 */
import { join } from "node:path";
import { freePort } from "./net.js";
import { prepareLocalServer, type NatsServer } from "./nats-server.js";
import { waitFor } from "./wait-for.js";

/** Starts one JetStream server in `dir/<name>`. The caller stops it. */
export async function startServer(dir: string, name = "n1", extra?: string): Promise<NatsServer> {
  const server = await prepareLocalServer({ dir: join(dir, name), serverName: name, ...(extra ? { extra } : {}) });
  return server.start();
}

export interface TestCluster {
  servers: NatsServer[];
  /** Every client URL, for a client that should fail over between them. */
  urls: string[];
  stopAll(): Promise<void>;
}

/** The monitoring endpoint's JSON, or undefined when the server does not answer. */
export async function monitor(server: NatsServer, path: string): Promise<any> {
  const port = server.spec.monitorPort;
  if (!port) throw new Error("server has no monitoring port");
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until `server` sees `peers` routes and JetStream has a meta leader. */
export async function waitClusterReady(servers: NatsServer[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      for (const s of servers.filter((x) => x.running)) {
        const routez = await monitor(s, "/routez");
        if (!routez || routez.num_routes < servers.filter((x) => x.running).length - 1) return false;
        const jsz = await monitor(s, "/jsz");
        if (!jsz?.meta_cluster?.leader) return false;
      }
      return true;
    },
    timeoutMs,
    "the cluster's routes and JetStream meta leader",
  );
}

/** Starts an n-server cluster (names n1..nN) under `dir`. The caller calls stopAll(). */
export async function startCluster(dir: string, n = 3, clusterName = "bustle"): Promise<TestCluster> {
  const clusterPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const servers = await Promise.all(
    clusterPorts.map((port, i) =>
      prepareLocalServer({
        dir: join(dir, `n${i + 1}`),
        serverName: `n${i + 1}`,
        cluster: {
          name: clusterName,
          port,
          routes: clusterPorts.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`),
        },
      }),
    ),
  );
  const cluster: TestCluster = {
    servers,
    urls: servers.map((s) => s.url),
    stopAll: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
    await waitClusterReady(servers);
  } catch (err) {
    await cluster.stopAll();
    throw err;
  }
  return cluster;
}
