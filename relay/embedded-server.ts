/**
 * The embedded default: with no `nats.servers`, bustled runs its own single JetStream
 * nats-server on 127.0.0.1:<nats.port>, keeps its data under the state dir, and restarts it
 * (with backoff) if it dies. The server accepts only TLS clients that log in with one of the
 * node's generated credentials (cluster/local-auth.ts); its conf is rewritten on every start,
 * so an upgraded node gets its users on the first start after the upgrade.
 */
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { renderLocalServerAuth, type LocalCredentials } from "../cluster/local-auth.js";
import type { Logger } from "../cluster/logger.js";
import { prepareLocalServer, type NatsServer } from "../cluster/nats-server.js";
import { sleep } from "../cluster/wait-for.js";

export interface EmbeddedServer {
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  stateDir: string;
  port: number;
  node: string;
  /** From ensureLocalCredentials: the users written into the server's conf. */
  credentials: LocalCredentials;
  log: Logger;
}

export async function startEmbeddedServer(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const dir = join(opts.stateDir, "nats");
  // The store holds every event with its details and the conf holds passwords: the daemon's user only.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // No monitoring port: nothing else on the machine needs one for a single node.
  const server: NatsServer = await prepareLocalServer({
    dir,
    port: opts.port,
    monitorPort: 0,
    serverName: opts.node,
    extra: renderLocalServerAuth(opts.credentials, opts.node),
  });
  await server.start();
  opts.log.info("embedded nats-server started", { url: server.url, dir, pid: server.pid });
  let stopping = false;
  let delay = 500;
  const supervise = async (): Promise<void> => {
    while (!stopping) {
      await server.waitExit();
      if (stopping) return;
      opts.log.error("embedded nats-server exited; restarting", {
        delay_ms: delay,
        output: server.recentOutput().slice(-3),
      });
      await sleep(delay);
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
