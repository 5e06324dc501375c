/**
 * Which node the CLI acts on and where its bustle.log is, by the shared resolution of
 * cluster/config/node-location.ts. The config module (and the YAML parser behind it) is imported
 * only when needed, so `bustle --log F` and `$BUSTLE_LOG` stay fast.
 */
import { locateNode } from "../../cluster/config/node-location.js";
import type { NodeConfig } from "../config.js";

/**
 * The node config the CLI acts on: its file (`--config`, `$BUSTLE_CONFIG`, /etc/bustle/node.yaml),
 * else the defaults of the node whose files are on this machine. Throws ConfigError (one line)
 * for a broken file, or naming every place it looked when there is no node.
 */
export async function loadCliConfig(
  flag: string | undefined,
): Promise<{ file: string | undefined; config: NodeConfig }> {
  const where = locateNode(flag);
  const { loadNodeConfig } = await import("../config.js");
  return where.file !== undefined
    ? { file: where.file, config: loadNodeConfig(where.file) }
    : { file: undefined, config: loadNodeConfig(undefined, {}, where.dataDir) };
}

/** bustle.log: `--log`, else `$BUSTLE_LOG`, else the node config's `log.path`. */
export async function resolveLogPath(opts: { log?: string | undefined; config?: string | undefined }): Promise<string> {
  if (opts.log) return opts.log;
  if (process.env.BUSTLE_LOG) return process.env.BUSTLE_LOG;
  return (await loadCliConfig(opts.config)).config.log.path;
}
