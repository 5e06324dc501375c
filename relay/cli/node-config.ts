/**
 * Which node.yaml the CLI reads and where bustle.log is. The config module (and the YAML parser
 * behind it) is imported only when needed, so `bustle --log F` and `$BUSTLE_LOG` stay fast.
 */
import { existsSync } from "node:fs";
import type { NodeConfig } from "../config.js";

export const DEFAULT_CONFIG = "/etc/bustle/node.yaml";

/** `--config`, else `$BUSTLE_CONFIG`, else /etc/bustle/node.yaml when it exists, else none (the defaults). */
export function configFile(flag: string | undefined): string | undefined {
  if (flag) return flag;
  if (process.env.BUSTLE_CONFIG) return process.env.BUSTLE_CONFIG;
  return existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined;
}

/** The node config the CLI acts on; throws ConfigError (one line) for a broken file. */
export async function loadCliConfig(flag: string | undefined): Promise<{ file: string | undefined; config: NodeConfig }> {
  const file = configFile(flag);
  const { loadNodeConfig } = await import("../config.js");
  return { file, config: loadNodeConfig(file) };
}

/** bustle.log: `--log`, else `$BUSTLE_LOG`, else the node config's `log.path`. */
export async function resolveLogPath(opts: { log?: string | undefined; config?: string | undefined }): Promise<string> {
  if (opts.log) return opts.log;
  if (process.env.BUSTLE_LOG) return process.env.BUSTLE_LOG;
  return (await loadCliConfig(opts.config)).config.log.path;
}
