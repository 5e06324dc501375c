/** The bus a bot or client test needs: one JetStream nats-server, a connection, the BUSTLE stream. */
import { closeBus, connectBus, type NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import type { NatsServer } from "../../cluster/nats-server.js";
import { ensureStream } from "../../cluster/stream.js";
import { startServer } from "../../cluster/servers.js";

export interface Bus {
  server: NatsServer;
  nc: NatsConnection;
  /** Closes the connection and stops the server. */
  close(): Promise<void>;
}

export async function startBus(dir: string, name = "test"): Promise<Bus> {
  const server = await startServer(dir);
  const nc = await connectBus({ servers: [server.url], name, logger: silentLogger });
  await ensureStream(nc, {}, silentLogger);
  return {
    server,
    nc,
    close: async () => {
      await closeBus(nc).catch(() => {});
      await server.stop();
    },
  };
}
