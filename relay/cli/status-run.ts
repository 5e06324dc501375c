/**
 * Gathers the node's health over a short-lived connection and prints it. NATS unreachable is
 * a user-facing error (exit 1, one line) within about five seconds, never a hang.
 */
import { userInfo } from "node:os";
import { resolveBusSettings } from "../../cluster/bus-config.js";
import { localBusSettings, localCredentials } from "../../cluster/local-auth.js";
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { gatherHealth } from "../health.js";
import { logPositionPath } from "../log-position.js";
import { silentLogger } from "../../cluster/logger.js";
import { isEmbedded } from "../config.js";
import { loadCliConfig } from "./node-config.js";
import { readDiskFault } from "../disk-fault.js";
import { formatDiskFault, formatHealth } from "./status-format.js";
import { CliError } from "./run.js";
import type { StatusOptions } from "./status.js";

const CONNECT_MS = 4_000;

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "?");
  }
}

export async function runStatus(opts: StatusOptions): Promise<void> {
  const { file, config } = await loadCliConfig(opts.config);
  // An embedded node: the read-only status credential any local user may read (docs/security.md).
  const settings = isEmbedded(config)
    ? localBusSettings(localCredentials(config.state.dir, config.node.id), "status", config.nats.port)
    : resolveBusSettings(config.nats, file, [...config.nats.servers!]);
  const servers = settings.servers;
  const logPath = process.env.BUSTLE_LOG || config.log.path;

  let nc: NatsConnection;
  let timer: NodeJS.Timeout | undefined;
  try {
    nc = await Promise.race([
      connectBus({
        ...settings,
        name: `bustle status (${who()})`,
        logger: silentLogger,
        waitOnFirstConnect: false,
        timeoutMs: CONNECT_MS,
        // The node's credentials may only receive replies under its own prefix.
        inboxPrefix: settings.inboxPrefix ?? `_INBOX.${config.node.id}`,
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_MS / 1000 + 1} s`)), CONNECT_MS + 1_000);
      }),
    ]);
  } catch (err) {
    const cause = (err as Error).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    throw new CliError(`cannot reach NATS at ${servers.join(", ")} (${why}) — is nats-server or bustled running?`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
  try {
    const health = await gatherHealth(nc, { logPositionFile: logPositionPath(config.state.dir), logFile: logPath });
    const node = { id: config.node.id, name: config.node.name, logPath };
    const disk = readDiskFault(config.state.dir);
    process.stdout.write(
      opts.json
        ? JSON.stringify({ node, ...health, diskFault: disk ?? null }, null, 2) + "\n"
        : formatHealth(health, node) + formatDiskFault(disk),
    );
  } finally {
    await closeBus(nc);
  }
}
