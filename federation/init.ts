/**
 * `bustle-cluster init`: every file a federation needs, one folder per node. Re-running it over
 * the same folder keeps existing passwords, CA and certificates (so a node can be added later).
 *
 *   DIR/ca/ca.pem, ca-key.pem        the CA (TLS, on by default); its key never leaves DIR/ca
 *   DIR/route.password               shared by the core servers' routes
 *   DIR/admin/admin.password, admin.yaml   the admin credential: stream and KV administration,
 *                                    steering any bot. For the core operators only.
 *   DIR/<id>/nats-server.conf        core servers only (0600; users' passwords as bcrypt hashes)
 *   DIR/<id>/node.yaml               bustled's config
 *   DIR/<id>/control.yaml            bustle-control's config (nodes with a control server)
 *   DIR/<id>/secrets/relay.password, control.password (the latter with a control server; 0600)
 *   DIR/<id>/tls/ca.pem, node.pem, node-key.pem          (TLS)
 *   DIR/<id>/cluster.json            the federation map `bustle-cluster status` reads
 *   DIR/federation.json              the plan and options init ran with (plan-file.ts): what
 *                                    add-member and remove-member change and re-run init with
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync, copyFileSync, rmSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import {
  adminPermissions,
  adminUser,
  controlPermissions,
  controlUser,
  relayPermissions,
  relayUser,
} from "../cluster/permissions.js";
import { ADMIN_ID } from "../cluster/names.js";
import {
  botsOf,
  checkPlan,
  controlNodes,
  hostPort,
  replicasFor,
  type BotGrant,
  type FederationPlan,
  type ServerNode,
} from "./plan.js";
import { ensureSecret, passwordHash } from "./secrets.js";
import { renderFederationConf, type ConfUser, type TlsFiles } from "./server-conf.js";
import { ensureCa, ensureNodeCert } from "../cluster/tls.js";
import { writePlanFile } from "./plan-file.js";
import { parseConfig } from "../cluster/config/load.js";
import { SYSTEM_DATA_DIR } from "../cluster/config/node-location.js";
import { HOMES_DEFAULTS, nodeConfigSchema, nodeDataPaths } from "../relay/config.js";

/** The options init remembers in DIR/federation.json, so add-member and remove-member re-run it the same way. */
export interface StoredInitOptions {
  /** CA and certificates, TLS on every link. Default true (`--no-tls` turns it off). */
  tls?: boolean;
  /** Where each node's folder will live on its own host (paths inside the confs). Default: DIR/<id>. */
  installDir?: string | undefined;
  /** JetStream store. Default DIR/<id>/jetstream, or /var/lib/bustle-nats with installDir. */
  storeDir?: string | undefined;
  /** Every path a relay writes inside its own node folder (`up` and the tests), instead of DEFAULT_NODE_PATHS. */
  pathsInFolder?: boolean;
  /** YAML text appended to every node.yaml (tests: spool rate limits). */
  nodeYamlExtra?: string;
}

/** Hooks only a program can give (tests' proxies, the benchmark's user): a folder made with them cannot be re-run from the command line. */
export interface InitHooks {
  /** Route host:ports a server dials, client URLs a node's relay uses. */
  routesFor?: (from: ServerNode, to: ServerNode) => string;
  clientUrlFor?: (node: string, server: ServerNode) => string;
  /** The cluster address a server gossips to its peers (see FederationServerConf.clusterAdvertise). */
  clusterAdvertise?: (server: ServerNode) => string | undefined;
  /** Users added to the BUSTLE account of every server (benchmarks: an unrestricted user); plain passwords, hashed in the conf. */
  extraUsers?: ConfUser[];
}

export type InitOptions = StoredInitOptions & InitHooks;

/** The relay's paths written into node.yaml (so the daemon, `bustle` and `status` agree on them). */
export interface NodePaths {
  homes: string;
  log: string;
  audit: string;
  state: string;
}

/** bustled's usual layout on a node (its systemd unit's StateDirectory), as the relay defines it. */
export const DEFAULT_NODE_PATHS: NodePaths = { homes: HOMES_DEFAULTS.root, ...nodeDataPaths(SYSTEM_DATA_DIR) };

/** What `cluster.json` holds: enough for `status` to find every server and node. */
export interface FederationMap {
  cluster: string;
  tls: boolean;
  servers: ServerNode[];
  members: string[];
  /** Nodes with a control server (and a control credential). */
  control: string[];
  /** Which nodes may run each declared bot. */
  bots: BotGrant[];
}

const isLoopback = (h: string) => h === "localhost" || h.startsWith("127.") || h === "::1";

/** Writes the federation into `outDir`; returns the map it wrote. */
export function initFederation(input: FederationPlan, outDir: string, o: InitOptions = {}): FederationMap {
  const plan = checkPlan(input);
  const tlsOn = o.tls ?? true;
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true, mode: 0o755 });
  const all = [...plan.servers.map((s) => s.id), ...plan.members];
  const control = controlNodes(plan);
  const installOf = (id: string) => (o.installDir ? o.installDir : join(out, id));
  const routePassword = ensureSecret(join(out, "route.password"));
  const ca = tlsOn ? ensureCa(join(out, "ca"), plan.cluster) : undefined;
  const pathsOf = (id: string): NodePaths =>
    o.pathsInFolder ? { homes: join(out, id, "homes"), ...nodeDataPaths(join(out, id)) } : DEFAULT_NODE_PATHS;
  const map: FederationMap = {
    cluster: plan.cluster,
    tls: tlsOn,
    servers: plan.servers,
    members: plan.members,
    control,
    bots: plan.bots ?? [],
  };
  const user = (name: string, file: string, permissions: ConfUser["permissions"]): ConfUser => ({
    user: name,
    password: passwordHash(ensureSecret(file)),
    permissions,
  });

  const adminDir = join(out, ADMIN_ID);
  mkdirSync(adminDir, { recursive: true, mode: 0o700 });
  chmodSync(adminDir, 0o700);
  const users: ConfUser[] = [user(adminUser(), join(adminDir, "admin.password"), adminPermissions())];
  for (const id of all) {
    const dir = join(out, id);
    mkdirSync(join(dir, "secrets"), { recursive: true, mode: 0o700 });
    chmodSync(join(dir, "secrets"), 0o700);
    users.push(user(relayUser(id), join(dir, "secrets", "relay.password"), relayPermissions(id)));
    if (control.includes(id)) {
      users.push(
        user(controlUser(id), join(dir, "secrets", "control.password"), controlPermissions(id, botsOf(plan, id))),
      );
    } else {
      // A node without a control server holds no control credential (an older init gave one).
      rmSync(join(dir, "secrets", "control.password"), { force: true });
      rmSync(join(dir, "control.yaml"), { force: true });
    }
    if (ca) {
      mkdirSync(join(dir, "tls"), { recursive: true });
      copyFileSync(ca.cert, join(dir, "tls", "ca.pem"));
    }
    writeFileSync(join(dir, "cluster.json"), JSON.stringify(map, null, 2) + "\n", { mode: 0o644 });
  }

  users.push(...(o.extraUsers ?? []).map((u) => ({ ...u, password: passwordHash(u.password) })));
  for (const s of plan.servers) {
    const dir = join(out, s.id);
    const install = installOf(s.id);
    let tls: TlsFiles | undefined;
    if (ca) {
      const hosts = [s.host, ...(isLoopback(s.host) ? ["127.0.0.1", "localhost"] : [])];
      ensureNodeCert(ca, join(dir, "tls", "node"), s.id, hosts);
      tls = {
        ca: join(install, "tls", "ca.pem"),
        cert: join(install, "tls", "node.pem"),
        key: join(install, "tls", "node-key.pem"),
      };
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
      routes: plan.servers
        .filter((t) => t !== s)
        .map((t) => (o.routesFor ? o.routesFor(s, t) : hostPort(t.host, t.clusterPort))),
      clusterAdvertise: o.clusterAdvertise?.(s),
      tls,
    });
    writeFileSync(join(dir, "nats-server.conf"), conf, { mode: 0o600 });
    chmodSync(join(dir, "nats-server.conf"), 0o600);
  }

  const scheme = tlsOn ? "tls" : "nats";
  const urlsFor = (id: string) => {
    const own = plan.servers.find((s) => s.id === id);
    // The node's own server first: the relay prefers it (it tries them in order) and fails over
    // to the others. A member has none: members start at different servers, in turn.
    const turn = Math.max(0, plan.members.indexOf(id)) % plan.servers.length;
    const order = own
      ? [own, ...plan.servers.filter((s) => s !== own)]
      : [...plan.servers.slice(turn), ...plan.servers.slice(0, turn)];
    return order.map((s) => (o.clientUrlFor ? o.clientUrlFor(id, s) : `${scheme}://${hostPort(s.host, s.clientPort)}`));
  };
  for (const id of all) {
    const nodeYaml = join(out, id, "node.yaml");
    const text =
      renderNodeYaml(id, urlsFor(id), replicasFor(plan.servers.length), tlsOn, pathsOf(id)) + (o.nodeYamlExtra ?? "");
    // The relay's own schema checks what is written: a node.yaml bustled would refuse is a bug here.
    parseConfig(text, nodeYaml, nodeConfigSchema);
    writeFileSync(nodeYaml, text, { mode: 0o644 });
    // An admin's edits (its bots) are kept: control.yaml is written only when missing.
    const controlYaml = join(out, id, "control.yaml");
    if (control.includes(id) && !existsSync(controlYaml))
      writeFileSync(controlYaml, renderControlYaml(id, botsOf(plan, id)), { mode: 0o644 });
  }
  writeFileSync(join(adminDir, "admin.yaml"), renderAdminYaml(urlsFor(ADMIN_ID), tlsOn), { mode: 0o600 });
  writePlanFile(out, plan, o);
  return map;
}

/** bustled's node.yaml for a federation node; paths are relative to the file's folder. */
export function renderNodeYaml(
  id: string,
  urls: string[],
  replicas: number,
  tls: boolean,
  paths: NodePaths = DEFAULT_NODE_PATHS,
): string {
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

/** bustle-control's control.yaml for a node: that node's connection with its control credential, no bots yet. */
export function renderControlYaml(id: string, bots: string[]): string {
  return [
    `# bustle-control config for node ${id}, generated by bustle-cluster init (it is not overwritten later).`,
    `# The connection is node.yaml's, with this node's control credential.`,
    `nats: {config: node.yaml, user: ${JSON.stringify(controlUser(id))}, password_file: secrets/control.password}`,
    bots.length
      ? `# This node's control credential may run (and steer) these bots: ${bots.join(", ")}.`
      : `# This node's control credential may run no bot yet: declare them with bustle-cluster init --bot ID=${id}.`,
    `# Add their entries below (docs/control.md), e.g.`,
    `#  - {id: ${bots[0] ?? "irc-town"}, type: irc, irc: {host: irc.example.org, port: 6697, tls: true, nick: bustle, channels: ["#bustle"]}}`,
    `bots: []`,
    "",
  ].join("\n");
}

/** DIR/admin/admin.yaml: a control.yaml with the admin credential (steer any bot; `bustle-cluster stream --admin`). */
export function renderAdminYaml(urls: string[], tls: boolean): string {
  return [
    `# The federation's admin credential, generated by bustle-cluster init: it may update, purge and`,
    `# delete the BUSTLE stream and the KV buckets, and steer every bot. Keep DIR/admin/ with the`,
    `# core servers' operators; never copy it into a node's folder.`,
    `node: ${ADMIN_ID}`,
    `nats:`,
    `  servers: [${urls.map((u) => JSON.stringify(u)).join(", ")}]`,
    `  user: ${JSON.stringify(adminUser())}`,
    `  password_file: admin.password`,
    ...(tls ? [`  tls: {ca: ../ca/ca.pem}`] : []),
    `bots: []`,
    "",
  ].join("\n");
}
