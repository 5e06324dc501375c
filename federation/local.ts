/**
 * A whole federation on one machine: N nats-servers and N relays on loopback, each node with its
 * own folder (confs, secrets, store, homes, bustle.log, state) under one directory. It backs
 * `bustle-cluster up`, the federation tests and the cluster benchmark. With `proxies`, every link
 * between two nodes (routes both ways, and each relay's links to the other nodes' servers) goes
 * through a TcpProxy, so a test can cut one node off from the others.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../cluster/net.js";
import { NatsServer } from "../cluster/nats-server.js";
import { nodeDataPaths } from "../relay/config.js";
import { bustledProgram } from "../relay/programs.js";
import type { ChildProgram } from "../cluster/child.js";
import { TcpProxy } from "./proxy.js";
import { monitor, waitClusterReady } from "../cluster/servers.js";
import { waitFor } from "../cluster/wait-for.js";
import { initFederation, type FederationMap, type InitHooks } from "./init.js";
import { changeFederation, withMember } from "./plan-file.js";
import { ADMIN_ID } from "../cluster/names.js";
import type { BotGrant, FederationPlan, ServerNode } from "./plan.js";
import type { ConfUser } from "./server-conf.js";

export interface LocalFederationOptions {
  dir: string;
  /** Number of nodes (each runs a server and a relay). Default 3. */
  nodes?: number;
  /** Node ids; default n1..nN. */
  ids?: string[];
  tls?: boolean;
  proxies?: boolean;
  /** Extra users in every server's BUSTLE account (the benchmark's unrestricted baseline user). */
  extraUsers?: ConfUser[];
  /** YAML appended to every node.yaml (e.g. a generous `spool.rate`). */
  nodeYamlExtra?: string;
  /** Nodes with a control server (default every node) and the bots each may run (init's --control, --bot). */
  control?: string[];
  bots?: BotGrant[];
}

/** One relay's files. */
export interface LocalRelayNode {
  id: string;
  dir: string;
  config: string;
  homes: string;
  log: string;
  state: string;
}

/** A core node: a server and a relay. */
export interface LocalNode extends LocalRelayNode {
  server: NatsServer;
}

interface Link {
  from: string;
  to: string;
  proxy: TcpProxy;
}

export class LocalFederation {
  readonly nodes: LocalNode[] = [];
  /** Relay-only nodes (added with addMember). */
  readonly members: LocalRelayNode[] = [];
  /** Init's program-only hooks (proxies, extra users), given again on every re-run. */
  private hooks: InitHooks | undefined;
  private readonly links: Link[] = [];
  private readonly relays = new Map<string, ChildProgram>();
  map!: FederationMap;

  private constructor(readonly dir: string) {}

  /** Allocates ports, starts the proxies (if any) and writes every node's files. Nothing runs yet. */
  static async create(o: LocalFederationOptions): Promise<LocalFederation> {
    const dir = resolve(o.dir);
    const n = o.nodes ?? o.ids?.length ?? 3;
    const ids = o.ids ?? Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const fed = new LocalFederation(dir);
    const servers: ServerNode[] = [];
    for (const id of ids)
      servers.push({
        id,
        host: "127.0.0.1",
        clientPort: await freePort(),
        clusterPort: await freePort(),
        monitorPort: await freePort(),
      });
    const plan: FederationPlan = { cluster: "bustle", servers, members: [], control: o.control, bots: o.bots };
    const proxied = new Map<string, number>();
    if (o.proxies) {
      for (const a of servers) {
        for (const b of servers) {
          if (a === b) continue;
          const route = new TcpProxy(`route ${a.id}->${b.id}`, b.clusterPort);
          const client = new TcpProxy(`client ${a.id}->${b.id}`, b.clientPort);
          proxied.set(`route ${a.id} ${b.id}`, await route.start());
          proxied.set(`client ${a.id} ${b.id}`, await client.start());
          fed.links.push({ from: a.id, to: b.id, proxy: route }, { from: a.id, to: b.id, proxy: client });
        }
      }
    }
    const scheme = o.tls ? "tls" : "nats";
    // Without proxies init's own addresses are the right ones, so `bustle-cluster add-member`
    // can re-run init over this folder as over any other; proxies and extra users are hooks.
    if (o.proxies) {
      fed.hooks = {
        routesFor: (a, b) => `127.0.0.1:${proxied.get(`route ${a.id} ${b.id}`) ?? b.clusterPort}`,
        // Gossiped route addresses would let servers dial each other around the proxies (and win
        // the duplicate-route race under load): advertise a port nobody listens on instead.
        clusterAdvertise: () => "127.0.0.1:1",
        clientUrlFor: (id, s) =>
          `${scheme}://127.0.0.1:${id === s.id ? s.clientPort : (proxied.get(`client ${id} ${s.id}`) ?? s.clientPort)}`,
      };
    }
    if (o.extraUsers) fed.hooks = { ...fed.hooks, extraUsers: o.extraUsers };
    fed.map = initFederation(plan, dir, {
      tls: o.tls ?? false,
      // Every path a relay writes stays inside its node's folder (the audit log too).
      pathsInFolder: true,
      ...(o.nodeYamlExtra ? { nodeYamlExtra: o.nodeYamlExtra } : {}),
      ...fed.hooks,
    });
    for (const s of servers) fed.nodes.push(coreNode(dir, s));
    return fed;
  }

  /**
   * A new tilde joins the running federation as a relay-only member: init is re-run over the
   * same folder (passwords kept, the new node's user added to every server's conf) and every
   * running server reloads its conf (SIGHUP). Start its relay with startRelay(id).
   */
  async addMember(id: string): Promise<LocalRelayNode> {
    this.map = changeFederation(this.dir, (plan) => withMember(plan, id), this.hooks);
    this.reloadServers();
    return this.trackMember(id);
  }

  /** Knows member `id` (its folder written by `bustle-cluster add-member`), so startRelay(id) runs it. */
  trackMember(id: string): LocalRelayNode {
    const m = relayFiles(join(this.dir, id), id);
    this.members.push(m);
    return m;
  }

  /** Knows core server `id` (its folder written by `bustle-cluster add-server`), so a test can start it. */
  trackServer(id: string, map: FederationMap): LocalNode {
    const spec = map.servers.find((s) => s.id === id);
    if (!spec) throw new Error(`no server ${id} in the map`);
    this.map = map;
    const n = coreNode(this.dir, spec);
    this.nodes.push(n);
    return n;
  }

  /** Every running server rereads its conf (SIGHUP, as `nats-server --signal reload` sends). */
  reloadServers(): void {
    for (const s of this.servers) if (s.running) s.signal("SIGHUP");
  }

  /**
   * Re-runs init over the folder with a changed plan (members, control nodes, bot grants) and
   * has every running server reload its conf (SIGHUP), as an operator does.
   */
  replan(change: Partial<Pick<FederationPlan, "members" | "control" | "bots">>): void {
    this.map = changeFederation(this.dir, (plan) => ({ ...plan, ...change }), this.hooks);
    this.reloadServers();
  }

  /** DIR/admin: the admin credential's password and admin.yaml. */
  get adminDir(): string {
    return join(this.dir, ADMIN_ID);
  }

  node(id: string): LocalNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** A core node or a member. */
  relayNode(id: string): LocalRelayNode {
    const n = this.nodes.find((x) => x.id === id) ?? this.members.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  get servers(): NatsServer[] {
    return this.nodes.map((n) => n.server);
  }

  /** Starts every server and waits for the routes and a JetStream meta leader. */
  async startServers(timeoutMs = 30_000): Promise<void> {
    await Promise.all(this.servers.map((s) => s.start()));
    await waitClusterReady(this.servers, timeoutMs);
  }

  /**
   * Spawns `bustled` for a node (not waiting for it); its own output goes to `<node>/bustled.out`.
   * `nodeArgs` are flags for node itself (a benchmark's `--cpu-prof`).
   */
  startRelay(id: string, extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): ChildProgram {
    const n = this.relayNode(id);
    if (this.relays.get(id)?.running) throw new Error(`relay ${id} is already running`);
    const relay = bustledProgram({
      config: n.config,
      state: n.state,
      logPath: join(n.dir, "bustled.out"),
      waitReady: false,
      graceMs: 10_000,
      nodeArgs,
      args: ["--homes", n.homes, "--log", n.log, "--state", n.state],
      env: { ...process.env, ...extraEnv },
    });
    void relay.start(); // spawns at once; not waiting for readiness, so nothing to reject
    this.relays.set(id, relay);
    return relay;
  }

  startRelays(nodeArgs: string[] = []): void {
    for (const n of this.nodes) this.startRelay(n.id, {}, nodeArgs);
  }

  /** The running relay's process id (a benchmark reads its CPU time). */
  relayPid(id: string): number | undefined {
    return this.relays.get(id)?.pid;
  }

  /** SIGTERM a relay and wait for it to exit (SIGKILL after 10 s). */
  async stopRelay(id: string): Promise<number | null> {
    return (await this.relays.get(id)?.stop()) ?? null;
  }

  relayRunning(id: string): boolean {
    return this.relays.get(id)?.running ?? false;
  }

  /** Resolves when a relay exits (for `up`: one dying is news). */
  relayExit(id: string): Promise<number | null> {
    return this.relays.get(id)?.waitExit() ?? Promise.resolve(null);
  }

  /** Cuts every link between node `id` and the others (needs `proxies`). */
  cut(id: string): void {
    if (this.links.length === 0) throw new Error("this federation was made without proxies");
    for (const l of this.links) if (l.from === id || l.to === id) l.proxy.sever();
  }

  heal(id: string): void {
    for (const l of this.links) if (l.from === id || l.to === id) l.proxy.heal();
  }

  /** Stops relays first (so they flush), then servers, then proxies. Never throws. */
  async stop(): Promise<void> {
    await Promise.all([...this.nodes, ...this.members].map((n) => this.stopRelay(n.id).catch(() => null)));
    await Promise.all(this.servers.map((s) => s.stop().catch(() => {})));
    await Promise.all(this.links.map((l) => l.proxy.close().catch(() => {})));
  }
}

function coreNode(dir: string, s: ServerNode): LocalNode {
  const nd = join(dir, s.id);
  return {
    ...relayFiles(nd, s.id),
    server: new NatsServer({
      confPath: join(nd, "nats-server.conf"),
      port: s.clientPort,
      monitorPort: s.monitorPort,
      logPath: join(nd, "nats-server.log"),
      pidPath: join(nd, "nats-server.pid"),
    }),
  };
}

function relayFiles(dir: string, id: string): LocalRelayNode {
  const { log, state } = nodeDataPaths(dir);
  const n = { id, dir, config: join(dir, "node.yaml"), homes: join(dir, "homes"), log, state };
  mkdirSync(n.homes, { recursive: true });
  return n;
}

/** The server (node id) each relay is connected to, from the servers' /connz. */
export async function relayConnections(fed: LocalFederation): Promise<Map<string, string>> {
  const where = new Map<string, string>();
  for (const n of fed.nodes) {
    if (!n.server.running) continue;
    const connz = await monitor(n.server, "/connz?limit=1024");
    for (const c of connz?.connections ?? []) {
      const m = /^bustled (\S+)$/.exec(c.name ?? "");
      if (m) where.set(m[1]!, n.id);
    }
  }
  return where;
}

/** Waits until every core node's relay is connected to a server; fails at once, with its last words, if one exited. */
export async function waitRelaysConnected(fed: LocalFederation, ms: number): Promise<void> {
  await waitFor(
    async () => {
      const dead = fed.nodes.find((n) => !fed.relayRunning(n.id));
      if (dead)
        throw new Error(
          `relay ${dead.id} exited: ${readText(join(dead.dir, "bustled.out")).split("\n").slice(-3).join(" | ")}`,
        );
      return (await relayConnections(fed)).size === fed.nodes.length;
    },
    ms,
    "every relay to connect to a server",
  );
}

const readText = (path: string): string => (existsSync(path) ? readFileSync(path, "utf8") : "");
