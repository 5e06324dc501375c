/**
 * The one way every bustle program connects to NATS: the whole server list, reconnecting
 * forever, status changes logged, drained on shutdown.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { BusSettings } from "./bus-config.js";
import { NatsUnavailable } from "./errors.js";
import type { Logger } from "./logger.js";

export type { NatsConnection };

export interface ConnectOptions extends BusSettings {
  /** Connection name shown by the server's monitoring (e.g. "bustled town"). */
  name: string;
  logger: Logger;
  /** Keep trying the first connection too (daemons); CLIs fail fast instead. Default true. */
  waitOnFirstConnect?: boolean;
  /** How long a CLI waits for its first connection before giving up. Default 5 s. */
  timeoutMs?: number;
  /**
   * Try the servers in the order given (the first is preferred, the others are fail-over)
   * instead of nats.js's shuffled order. A relay's node.yaml lists its own server first.
   */
  inOrder?: boolean;
}

/**
 * Connects and starts logging status changes. Resolves once connected; with
 * `waitOnFirstConnect: false` rejects with NatsUnavailable when no server answers.
 * The caller owns the connection and must `closeBus()` it.
 */
export async function connectBus(opts: ConnectOptions): Promise<NatsConnection> {
  const wait = opts.waitOnFirstConnect ?? true;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: opts.servers,
      name: opts.name,
      ...(opts.user !== undefined ? { user: opts.user } : {}),
      ...(opts.pass !== undefined ? { pass: opts.pass } : {}),
      ...(opts.tls ? { tls: { ...opts.tls } } : {}),
      ...(opts.inboxPrefix ? { inboxPrefix: opts.inboxPrefix } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      reconnectJitter: 250,
      pingInterval: 10_000,
      maxPingOut: 2,
      timeout: opts.timeoutMs ?? 5_000,
      waitOnFirstConnect: wait,
      ...(opts.inOrder ? { noRandomize: true } : {}),
      // Otherwise every request builds two Error objects with stack traces up front (a third
      // of the relay's CPU under load, measured with --cpu-prof).
      noAsyncTraces: true,
      ignoreClusterUpdates: false,
    });
  } catch (err) {
    throw new NatsUnavailable(`cannot connect to NATS at ${opts.servers.join(", ")}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  watchStatus(nc, opts.logger);
  opts.logger.info("connected to NATS", { server: nc.getServer() });
  return nc;
}

async function watchStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case "disconnect":
        log.warn("disconnected from NATS", { server: s.server });
        break;
      case "reconnect":
        log.info("reconnected to NATS", { server: s.server });
        break;
      case "error":
        log.warn("NATS error", { error: s.error });
        break;
      case "slowConsumer":
        log.warn("slow consumer", { subject: s.sub.getSubject(), pending: s.pending });
        break;
      case "ldm":
        log.info("server entering lame-duck mode", { server: s.server });
        break;
      default:
        break;
    }
  }
}

/** Drains (delivering what is in flight) and closes; never throws. */
export async function closeBus(nc: NatsConnection | undefined, log?: Logger): Promise<void> {
  if (!nc || nc.isClosed()) return;
  try {
    await Promise.race([nc.drain(), new Promise((r) => setTimeout(r, 5_000))]);
  } catch (err) {
    log?.debug("drain failed", { error: err });
  }
  if (!nc.isClosed()) await nc.close().catch(() => {});
}
