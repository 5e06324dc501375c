/**
 * `bustle-cluster init`: every file a federation needs, one folder per node. Re-running it over
 * the same folder keeps existing passwords, CA and certificates (so a node can be added later).
 *
 *   DIR/ca/ca.pem, ca-key.pem        the CA (--tls); its key never leaves DIR/ca
 *   DIR/route.password               shared by the core servers' routes
 *   DIR/<id>/nats-server.conf        core servers only (0600: it holds every user's password)
 *   DIR/<id>/node.yaml               bustled's config
 *   DIR/<id>/secrets/relay.password, control.password   (0600)
 *   DIR/<id>/tls/ca.pem, node.pem, node-key.pem          (--tls)
 *   DIR/<id>/cluster.json            the federation map `bustle-cluster status` reads
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { controlPermissions, controlUser, relayPermissions, relayUser } from "./permissions.js";
import { hostPort, replicasFor, type FederationPlan, type ServerNode } from "./plan.js";
import { renderFederationConf, type ConfUser, type TlsFiles } from "./server-conf.js";
import { ensureCa, ensureNodeCert } from "./tls.js";

export interface InitOptions {
  tls?: boolean;
  /** Where each node's folder will live on its own host (paths inside the confs). Default: DIR/<id>. */
  installDir?: string | undefined;
  /** JetStream store. Default DIR/<id>/jetstream, or /var/lib/bustle-nats with installDir. */
  storeDir?: string | undefined;
  /** Test and `up` hooks: route host:ports a server dials, client URLs a node's relay uses. */
  routesFor?: (from: ServerNode, to: ServerNode) => string;
  clientUrlFor?: (node: string, server: ServerNode) => string;
  /** The cluster address a server gossips to its peers (see FederationServerConf.clusterAdvertise). */
  clusterAdvertise?: (server: ServerNode) => string | undefined;
  /** Users added to the BUSTLE account of every server (benchmarks: an unrestricted user). */
  extraUsers?: ConfUser[];
  /** Where a node's relay keeps its files; default the /var/lib/bustle layout below. */
  nodePaths?: (id: string) => NodePaths;
  /** YAML text appended to a node's node.yaml (tests: spool rate limits). */
  nodeYamlExtra?: (id: string) => string;
}

/** The relay's paths written into node.yaml (so the daemon, `bustle` and `status` agree on them). */
export interface NodePaths {
  homes: string;
  log: string;
  audit: string;
  state: string;
}

/** bustled's usual layout on a node (its systemd unit's StateDirectory). */
export const DEFAULT_NODE_PATHS: NodePaths = {
  homes: "/home",
  log: "/var/lib/bustle/bustle.log",
  audit: "/var/lib/bustle/audit.log",
  state: "/var/lib/bustle/state",
};

/** What `cluster.json` holds: enough for `status` to find every server and node. */
export interface FederationMap {
  cluster: string;
  tls: boolean;
  servers: ServerNode[];
  members: string[];
}

const isLoopback = (h: string) => h === "localhost" || h.startsWith("127.") || h === "::1";

function secret(path: string): string {
  if (existsSync(path)) {
    const v = readFileSync(path, "utf8").trim();
    if (v) return v;
  }
  const v = randomBytes(24).toString("base64url");
  writeFileSync(path, `${v}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return v;
}

/** Writes the federation into `outDir`; returns the map it wrote. */
export function initFederation(plan: FederationPlan, outDir: string, o: InitOptions = {}): FederationMap {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true, mode: 0o755 });
  const all = [...plan.servers.map((s) => s.id), ...plan.members];
  const installOf = (id: string) => (o.installDir ? o.installDir : join(out, id));
  const routePassword = secret(join(out, "route.password"));
  const ca = o.tls ? ensureCa(join(out, "ca"), plan.cluster) : undefined;
  const map: FederationMap = { cluster: plan.cluster, tls: !!o.tls, servers: plan.servers, members: plan.members };

  const users: ConfUser[] = [];
  for (const id of all) {
    const dir = join(out, id);
    mkdirSync(join(dir, "secrets"), { recursive: true, mode: 0o700 });
    chmodSync(join(dir, "secrets"), 0o700);
    users.push({ user: relayUser(id), password: secret(join(dir, "secrets", "relay.password")), permissions: relayPermissions(id) });
    users.push({ user: controlUser(id), password: secret(join(dir, "secrets", "control.password")), permissions: controlPermissions(id) });
    if (ca) {
      mkdirSync(join(dir, "tls"), { recursive: true });
      copyFileSync(ca.cert, join(dir, "tls", "ca.pem"));
    }
    writeFileSync(join(dir, "cluster.json"), JSON.stringify(map, null, 2) + "\n", { mode: 0o644 });
  }

  users.push(...(o.extraUsers ?? []));
  for (const s of plan.servers) {
    const dir = join(out, s.id);
    const install = installOf(s.id);
    let tls: TlsFiles | undefined;
    if (ca) {
      const hosts = [s.host, ...(isLoopback(s.host) ? ["127.0.0.1", "localhost"] : [])];
      ensureNodeCert(ca, join(dir, "tls", "node"), s.id, hosts);
      tls = { ca: join(install, "tls", "ca.pem"), cert: join(install, "tls", "node.pem"), key: join(install, "tls", "node-key.pem") };
    }
    const storeDir = o.storeDir ?? (o.installDir ? "/var/lib/bustle-nats" : join(install, "jetstream"));
    const conf = renderFederationConf({
      serverName: s.id,
      clusterName: plan.cluster,
      listenHost: isLoopback(s.host) ? s.host : "0.0.0.0",
      clientPort: s.clientPort,
      clusterPort: s.clusterPort,
      monitorPort: s.monitorPort,
      storeDir: isAbsolute(storeDir) ? storeDir : resolve(storeDir),
      users,
      route: { user: "route", password: routePassword },
      routes: plan.servers.filter((t) => t !== s).map((t) => (o.routesFor ? o.routesFor(s, t) : hostPort(t.host, t.clusterPort))),
      clusterAdvertise: o.clusterAdvertise?.(s),
      tls,
    });
    writeFileSync(join(dir, "nats-server.conf"), conf, { mode: 0o600 });
    chmodSync(join(dir, "nats-server.conf"), 0o600);
  }

  for (const id of all) {
    const own = plan.servers.find((s) => s.id === id);
    // The node's own server first: the relay prefers it and fails over to the others.
    const order = own ? [own, ...plan.servers.filter((s) => s !== own)] : plan.servers;
    const scheme = o.tls ? "tls" : "nats";
    const urls = order.map((s) => (o.clientUrlFor ? o.clientUrlFor(id, s) : `${scheme}://${hostPort(s.host, s.clientPort)}`));
    writeFileSync(join(out, id, "node.yaml"), renderNodeYaml(id, urls, replicasFor(plan.servers.length), !!o.tls, o.nodePaths?.(id) ?? DEFAULT_NODE_PATHS) + (o.nodeYamlExtra?.(id) ?? ""), { mode: 0o644 });
  }
  return map;
}

/** bustled's node.yaml for a federation node; paths are relative to the file's folder. */
export function renderNodeYaml(id: string, urls: string[], replicas: number, tls: boolean, paths: NodePaths = DEFAULT_NODE_PATHS): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    `# bustled config for node ${id}, generated by bustle-cluster init.`,
    `node: {id: ${id}}`,
    `nats:`,
    `  servers: [${urls.map(q).join(", ")}]`,
    `  user: ${q(relayUser(id))}`,
    `  password_file: secrets/relay.password`,
    ...(tls ? [`  tls: {ca: tls/ca.pem}`] : []),
    `stream: {replicas: ${replicas}}`,
    `homes: {root: ${q(paths.homes)}}`,
    `log: {path: ${q(paths.log)}, audit: ${q(paths.audit)}}`,
    `state: {dir: ${q(paths.state)}}`,
    "",
  ].join("\n");
}
