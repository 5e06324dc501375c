/**
 * The embedded server's credentials: what a single node (bustled with no `nats.servers`)
 * generates in its state dir on first start, and how every local program finds them.
 *
 *   <state>/auth/                     0755 (the CA and the status credential are for everyone)
 *     relay.password                  0600  user <id>          bustled: own events, follow the stream
 *     control.password                0600  user <id>.control  bustle-control serve on this machine (reads, never writes, the bots config)
 *     admin.password                  0600  user <id>.admin    stream and KV management (delete, purge), bustle-control apply
 *     status.password                 0644  user <id>.status   read-only: server and stream info (`bustle status`)
 *     ca.pem                          0644  the CA every local client pins
 *     ca-key.pem, server-key.pem      0600  (server.pem 0644): the embedded server's TLS identity
 *
 * The server only accepts TLS on its client port, with a certificate signed by this CA, and
 * clients send their password only after verifying it: a user who takes the port (say while
 * the server restarts) fails the handshake and never learns a password. docs/security.md.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BusSettings } from "./bus-config.js";
import { checkSecretFile, readSecret } from "./config/secrets.js";
import {
  controlPermissions,
  inboxPrefix,
  relayPermissions,
  renderPermissions,
  type Permissions,
} from "./permissions.js";
import { ensureCa, ensureNodeCert } from "./tls.js";
import { ConfigError } from "./errors.js";
import { STREAM_NAME } from "./names.js";

export type LocalRole = "relay" | "control" | "admin" | "status";
export const LOCAL_ROLES: readonly LocalRole[] = ["relay", "control", "admin", "status"];

export interface LocalCredential {
  role: LocalRole;
  user: string;
  passwordFile: string;
  /** The inbox prefix this user may receive replies on (pass it to connectBus). */
  inboxPrefix: string;
}

export interface LocalCredentials {
  /** `<state>/auth` */
  dir: string;
  relay: LocalCredential;
  control: LocalCredential;
  admin: LocalCredential;
  status: LocalCredential;
  /** The CA certificate every local client pins. */
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

/** The file layout of node `node`'s embedded credentials under `stateDir` (nothing is read or made). */
export function localCredentials(stateDir: string, node: string): LocalCredentials {
  const dir = join(stateDir, "auth");
  // Dotted names: a node id has no dots, so no role's name can be another node's relay user.
  const users: Record<LocalRole, string> = {
    relay: node,
    control: `${node}.control`,
    admin: `${node}.admin`,
    status: `${node}.status`,
  };
  const cred = (role: LocalRole): LocalCredential => ({
    role,
    user: users[role],
    passwordFile: join(dir, `${role}.password`),
    inboxPrefix: role === "status" ? `${inboxPrefix(node)}.status` : inboxPrefix(node),
  });
  return {
    dir,
    relay: cred("relay"),
    control: cred("control"),
    admin: cred("admin"),
    status: cred("status"),
    ca: join(dir, "ca.pem"),
    caKey: join(dir, "ca-key.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server-key.pem"),
  };
}

/** Loopback names the server certificate is valid for. */
const LOCAL_HOSTS = ["127.0.0.1", "localhost"];

/**
 * Makes whatever is missing (passwords, CA, server certificate); existing files are kept, so
 * restarts and upgrades keep every credential. Runs as the daemon's user: it owns the files.
 * Throws CertificateError when openssl is missing or fails.
 */
export function ensureLocalCredentials(stateDir: string, node: string): LocalCredentials {
  const c = localCredentials(stateDir, node);
  mkdirSync(c.dir, { recursive: true, mode: 0o755 });
  // Whatever the umask: plain users need the CA and the status password in here.
  chmodSync(c.dir, 0o755);
  for (const role of LOCAL_ROLES) {
    const file = c[role].passwordFile;
    if (existsSync(file)) continue;
    writeFileSync(file, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    // The status credential may only read server and stream info: any local user may use it.
    if (role === "status") chmodSync(file, 0o644);
  }
  // A server certificate without its CA (or the reverse) cannot be verified: make both again.
  const tlsFiles = [c.ca, c.caKey, c.serverCert, c.serverKey];
  if (!tlsFiles.every((f) => existsSync(f))) {
    for (const f of tlsFiles) rmSync(f, { force: true });
    const ca = ensureCa(c.dir, "local");
    chmodSync(ca.cert, 0o644);
    ensureNodeCert(ca, join(c.dir, "server"), node, LOCAL_HOSTS);
  }
  checkSecretFile(c.caKey, "embedded nats CA key");
  checkSecretFile(c.serverKey, "embedded nats server key");
  return c;
}

/** What each role may do on the embedded server; admin may do everything. */
export function localPermissions(node: string, role: LocalRole): Permissions | undefined {
  switch (role) {
    case "relay":
      // The only node on its server: it applies node.yaml's stream limits itself.
      return relayPermissions(node, { updateStream: true });
    case "control":
      return controlPermissions(node, "any");
    case "admin":
      return undefined;
    case "status":
      return {
        publish: ["$JS.API.INFO", `$JS.API.STREAM.INFO.${STREAM_NAME}`],
        subscribe: [`${inboxPrefix(node)}.status.>`],
      };
  }
}

const q = (s: string) => JSON.stringify(s);

/**
 * The `authorization` and `tls` blocks of the embedded server's conf. The users stay in the
 * global account, so an upgraded node keeps its existing stream. It holds passwords: the
 * conf is written 0600.
 */
export function renderLocalServerAuth(c: LocalCredentials, node: string): string {
  const users = LOCAL_ROLES.map((role) => {
    const pass = readSecret({ file: c[role].passwordFile }, `embedded nats ${role} password`, {
      shared: role === "status",
    })!;
    const perms = localPermissions(node, role);
    return [
      `    {`,
      `      user: ${q(c[role].user)}`,
      `      password: ${q(pass)}`,
      ...(perms ? [renderPermissions(perms, "      ")] : []),
      `    }`,
    ].join("\n");
  });
  return [
    `authorization {`,
    `  timeout: 5`,
    `  users: [`,
    ...users,
    `  ]`,
    `}`,
    `tls {`,
    `  cert_file: ${q(c.serverCert)}`,
    `  key_file: ${q(c.serverKey)}`,
    `  timeout: 5`,
    `}`,
  ].join("\n");
}

/**
 * Connection settings for `role` on the embedded server at 127.0.0.1:`port`: its user and
 * password, the pinned CA, its inbox prefix. Throws ConfigError when the password file is
 * missing, unreadable or readable by others (the relay has not started yet, or the wrong user).
 */
export function localBusSettings(c: LocalCredentials, role: LocalRole, port: number): BusSettings {
  const cred = c[role];
  if (!existsSync(cred.passwordFile)) {
    throw new ConfigError(
      `no embedded nats ${role} credential at ${cred.passwordFile}: bustled makes it on its first start (has it run with this state dir?)`,
    );
  }
  const pass = readSecret({ file: cred.passwordFile }, `embedded nats ${role} password`, { shared: role === "status" });
  return {
    servers: [`nats://127.0.0.1:${port}`],
    user: cred.user,
    pass,
    tls: { caFile: c.ca },
    inboxPrefix: cred.inboxPrefix,
  };
}
