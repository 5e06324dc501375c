/** One event published with this node's relay credentials over a short-lived connection (the admin's commands). */
import { jetstream } from "@nats-io/jetstream";
import { resolveBusSettings, type BusSettings } from "../cluster/bus-config.js";
import { closeBus, connectBus, type NatsConnection } from "../cluster/connection.js";
import { BustleError } from "../cluster/errors.js";
import { localBusSettings, localCredentials } from "../cluster/local-auth.js";
import { silentLogger } from "../cluster/logger.js";
import { isEmbedded, type NodeConfig } from "./config.js";

const CONNECT_MS = 5_000;

/** This node's relay credentials (the embedded server's local one on a single node). */
export function nodeBusSettings(config: NodeConfig, configFile: string | undefined): BusSettings {
  const settings = isEmbedded(config)
    ? localBusSettings(localCredentials(config.state.dir, config.node.id), "relay", config.nats.port)
    : resolveBusSettings(config.nats, configFile, [...config.nats.servers!]);
  return { ...settings, inboxPrefix: settings.inboxPrefix ?? `_INBOX.${config.node.id}` };
}

export async function publishOnce(
  settings: BusSettings,
  name: string,
  subject: string,
  data: Uint8Array,
  msgID: string,
): Promise<void> {
  let nc: NatsConnection;
  try {
    nc = await connectBus({
      ...settings,
      name,
      logger: silentLogger,
      waitOnFirstConnect: false,
      timeoutMs: CONNECT_MS,
    });
  } catch (err) {
    throw new BustleError(`cannot reach NATS at ${settings.servers.join(", ")}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    await jetstream(nc, { timeout: CONNECT_MS }).publish(subject, data, { msgID });
  } catch (err) {
    throw new BustleError(`the withdrawal was not accepted by the stream: ${(err as Error).message}`, { cause: err });
  } finally {
    await closeBus(nc).catch(() => {});
  }
}
