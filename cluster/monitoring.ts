/**
 * What a server's monitoring endpoint (`/varz`, `/routez`, `/jsz`) says about the cluster:
 * which routes are up and who leads JetStream. Every request is bounded; a server that does not
 * answer is reported as unreachable, never thrown.
 */

/** One server as its own monitoring endpoint describes it. */
export interface ServerView {
  /** The node id from the federation map. */
  id: string;
  /** The monitoring URL asked. */
  monitor: string;
  reachable: boolean;
  /** False when status did not ask this server (its monitoring port is on another host). */
  asked?: boolean | undefined;
  error?: string | undefined;
  serverName?: string | undefined;
  serverId?: string | undefined;
  version?: string | undefined;
  /** Route peers by server name where known (else a server id prefix). */
  routes: string[];
  /** The JetStream meta leader this server sees; undefined when there is none. */
  metaLeader?: string | undefined;
  /** Meta group members this server sees, with whether each is current. */
  metaPeers: { name: string; current: boolean; offline: boolean }[];
  jetstream: boolean;
  connections?: number | undefined;
}

async function get(url: string, timeoutMs: number): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

/** Asks one server; `monitor` is like "http://127.0.0.1:8222". */
export async function viewServer(
  id: string,
  monitor: string,
  timeoutMs = 2_000,
): Promise<ServerView & { routeIds: string[] }> {
  const base = monitor.replace(/\/+$/, "");
  try {
    const [varz, routez, jsz] = await Promise.all([
      get(`${base}/varz`, timeoutMs),
      get(`${base}/routez`, timeoutMs),
      get(`${base}/jsz`, timeoutMs),
    ]);
    const meta = jsz?.meta_cluster;
    return {
      id,
      monitor: base,
      reachable: true,
      serverName: String(varz.server_name ?? ""),
      serverId: String(varz.server_id ?? ""),
      version: String(varz.version ?? ""),
      routeIds: [
        ...new Set<string>((routez?.routes ?? []).map((r: { remote_id?: string }) => String(r.remote_id ?? ""))),
      ],
      routes: [],
      metaLeader: meta?.leader || undefined,
      metaPeers: (meta?.replicas ?? []).map((r: { name?: string; current?: boolean; offline?: boolean }) => ({
        name: String(r.name ?? ""),
        current: !!r.current,
        offline: !!r.offline,
      })),
      jetstream: !!varz.jetstream?.config,
      connections: typeof varz.connections === "number" ? varz.connections : undefined,
    };
  } catch (err) {
    const e = err as Error;
    const why =
      e.name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : e.cause instanceof Error
          ? e.cause.message
          : e.message;
    return {
      id,
      monitor: base,
      reachable: false,
      error: why,
      routes: [],
      routeIds: [],
      metaPeers: [],
      jetstream: false,
    };
  }
}

/** Asks every server at once and names each route peer by the server names the others report. */
export async function viewServers(
  targets: { id: string; monitor: string }[],
  timeoutMs = 2_000,
): Promise<ServerView[]> {
  const views = await Promise.all(targets.map((t) => viewServer(t.id, t.monitor, timeoutMs)));
  const names = new Map(views.filter((v) => v.serverId).map((v) => [v.serverId!, v.serverName!]));
  return views.map(({ routeIds, ...v }) => ({
    ...v,
    routes: routeIds.map((rid) => names.get(rid) ?? rid.slice(0, 8)).sort(),
  }));
}

/** The meta leader most answering servers name (a server cut off may name a stale one). */
export function metaLeaderOf(views: ServerView[]): string | undefined {
  const votes = new Map<string, number>();
  for (const v of views) if (v.metaLeader) votes.set(v.metaLeader, (votes.get(v.metaLeader) ?? 0) + 1);
  return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}
