/**
 * The embedded default: with no `nats.servers`, bustled runs its own single JetStream
 * nats-server on 127.0.0.1:<nats.port>, keeps its data under the state dir, and restarts it
 * (with backoff) if it dies.
 */
import { join } from "node:path";
import type { Logger } from "../cluster/logger.js";
import { prepareLocalServer, type NatsServer } from "../cluster/nats-server.js";

export interface EmbeddedServer {
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startEmbeddedServer(opts: { stateDir: string; port: number; node: string; log: Logger }): Promise<EmbeddedServer> {
  const dir = join(opts.stateDir, "nats");
  // No monitoring port: nothing else on the machine needs one for a single node.
  const server: NatsServer = await prepareLocalServer({ dir, port: opts.port, monitorPort: 0, serverName: opts.node });
  await server.start();
  opts.log.info("embedded nats-server started", { url: server.url, dir, pid: server.pid });
  let stopping = false;
  let delay = 500;
  const supervise = async (): Promise<void> => {
    while (!stopping) {
      await server.waitExit();
      if (stopping) return;
      opts.log.error("embedded nats-server exited; restarting", { delay_ms: delay, output: server.recentOutput().slice(-3) });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
      try {
        await server.start();
        delay = 500;
        opts.log.info("embedded nats-server restarted", { pid: server.pid });
      } catch (err) {
        opts.log.error("embedded nats-server did not restart", { error: err });
      }
    }
  };
  void supervise();
  return {
    url: server.url,
    dir,
    async stop() {
      stopping = true;
      await server.stop();
    },
  };
}
