/**
 * Where a node's files are: the one resolution every program shares (`bustle`, `bustle status`,
 * `bustled`, `bustle-control`, `bustle-cluster status`).
 *
 *   config file:  --config, else $BUSTLE_CONFIG, else /etc/bustle/node.yaml when it exists
 *   without one:  a daemon uses /var/lib/bustle as root, else the per-user folder; a client
 *                 (which runs as any user) uses the node it finds on this machine — the system
 *                 one when its files are in /var/lib/bustle, the per-user one only for a
 *                 personal node — and otherwise says every place it looked.
 *
 * It lives in cluster/ (the ground floor) because relay/, control/ and federation/ all
 * need it and none of them may import another's internals. It knows paths only, no schema.
 */
import { existsSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { NODE_ID_RE } from "../names.js";
import { ConfigError } from "../errors.js";

export const SYSTEM_CONFIG_DIR = "/etc/bustle";
export const SYSTEM_NODE_CONFIG = join(SYSTEM_CONFIG_DIR, "node.yaml");
export const SYSTEM_CONTROL_CONFIG = join(SYSTEM_CONFIG_DIR, "control.yaml");
export const SYSTEM_DATA_DIR = "/var/lib/bustle";

/** A personal node's folder: $XDG_STATE_HOME/bustle, else ~/.local/state/bustle. */
export function personalDataDir(): string {
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "bustle");
}

/**
 * The folder a node keeps its files in when its config does not say: the system one as root or
 * for the system's own node.yaml (whoever reads it — bustled as the `bustle` user, alice's
 * `bustle status` — must arrive at the same paths), else the per-user one.
 */
export function defaultDataDir(configFile?: string): string {
  if (process.getuid?.() === 0) return SYSTEM_DATA_DIR;
  if (configFile !== undefined && dirname(resolve(configFile)) === SYSTEM_CONFIG_DIR) return SYSTEM_DATA_DIR;
  return personalDataDir();
}

/**
 * A node's files in its data dir: the paths node.yaml leaves unset take these, tools that lay out
 * a node use them, and a client recognises a node's folder by them.
 */
export function nodeDataPaths(dataDir: string): { log: string; audit: string; state: string } {
  return { log: join(dataDir, "bustle.log"), audit: join(dataDir, "audit.log"), state: join(dataDir, "state") };
}

/** A node id made from the host name ("tilde.town" → "tilde-town"). */
export function defaultNodeId(): string {
  const id = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 32);
  return NODE_ID_RE.test(id) ? id : "local";
}

/** A config file to read, and how it was chosen (for messages). */
export interface FoundConfig {
  file: string;
  from: "flag" | "env" | "system";
}

/** One program's config search: its flag, its environment variable, its file under /etc/bustle. */
export interface ConfigSearch {
  flag: string | undefined;
  env: string;
  system: string;
}

export const NODE_CONFIG_SEARCH = (flag: string | undefined): ConfigSearch => ({
  flag,
  env: "BUSTLE_CONFIG",
  system: SYSTEM_NODE_CONFIG,
});
export const CONTROL_CONFIG_SEARCH = (flag: string | undefined): ConfigSearch => ({
  flag,
  env: "BUSTLE_CONTROL_CONFIG",
  system: SYSTEM_CONTROL_CONFIG,
});

/** The flag, else the environment variable, else the system file when it exists, else undefined. */
export function findConfig(search: ConfigSearch): FoundConfig | undefined {
  if (search.flag) return { file: search.flag, from: "flag" };
  const env = process.env[search.env];
  if (env) return { file: env, from: "env" };
  return existsSync(search.system) ? { file: search.system, from: "system" } : undefined;
}

/** What was tried, as one phrase: "no --config, $BUSTLE_CONFIG unset, no /etc/bustle/node.yaml". */
export function triedConfig(search: ConfigSearch): string {
  return `no --config, $${search.env} unset, no ${search.system}`;
}

/** Like findConfig, but a config is required: the error says every place it looked. */
export function requireConfig(search: ConfigSearch, what: string): FoundConfig {
  const found = findConfig(search);
  if (!found) throw new ConfigError(`no ${what} found (${triedConfig(search)}): give --config FILE`);
  return found;
}

/** A node's files are in `dir` when it has run there: its state folder or its log exists. */
export function nodeRunsIn(dir: string): boolean {
  const { state, log } = nodeDataPaths(dir);
  return existsSync(state) || existsSync(log);
}

/**
 * How a client (any user) finds the node on this machine: its config file, or — with none — the
 * data dir of the node whose files are here (the system's first; a personal node only when there
 * is no system one). Throws a ConfigError naming every path it tried when there is no node.
 */
export type NodeLocation =
  | { file: string; from: FoundConfig["from"]; dataDir?: undefined }
  | { file?: undefined; dataDir: string };

export function locateNode(flag: string | undefined): NodeLocation {
  const search = NODE_CONFIG_SEARCH(flag);
  const found = findConfig(search);
  if (found) return found;
  const dirs = [...new Set([SYSTEM_DATA_DIR, personalDataDir()])];
  const dir = dirs.find(nodeRunsIn);
  if (dir) return { dataDir: dir };
  throw new ConfigError(
    `no bustle node found on this machine (${triedConfig(search)}, no node files in ${dirs.join(" or ")}) — is bustled running? Give --config FILE or --log FILE`,
  );
}
