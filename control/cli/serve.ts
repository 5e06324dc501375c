/** `bustle-control serve`: run the bots of control.yaml, supervised, each exactly once across the federation. */
import { Command } from "commander";
import { createLogger } from "../../cluster/logger.js";
import { runDaemon } from "../../cluster/program.js";
import { loadConfig, withConfig, type ConfigOpts } from "./common.js";

export const serveCommand = withConfig(new Command("serve"))
  .description("run the configured bots (SIGHUP re-reads control.yaml; SIGTERM/SIGINT stop gracefully)")
  .action(async (opts: ConfigOpts) => {
    const config = loadConfig(opts.config, true);
    const log = createLogger({ component: "bustle-control", fields: { node: config.node } });
    const { createControlServer } = await import("../server.js");
    const server = createControlServer(config, { log, reread: () => loadConfig(opts.config, true) });
    await runDaemon(
      {
        start: async () => {
          if (config.metrics) {
            const { createControlMetrics } = await import("../metrics.js");
            const { serveMetrics } = await import("../../cluster/metrics.js");
            // Before NATS: /healthz answers 503 while the server is still connecting. The listener
            // lives as long as the process.
            await serveMetrics({
              listen: config.metrics.listen,
              registry: createControlMetrics(() => server.status()),
              log: log.child("metrics"),
              health: () => ({
                ok: server.status() !== undefined,
                node: config.node,
                bots: server.status()?.bots.map((b) => ({ id: b.id, state: b.state })) ?? [],
              }),
            });
          }
          await server.start();
          process.stderr.write(
            `bustle-control: node ${config.node}, ${config.bots.length} bot(s) in ${opts.config}, NATS ${config.bus.servers.join(", ")}\n`,
          );
        },
        stop: () => server.stop(),
        reload: async () => {
          log.info("SIGHUP: re-reading control.yaml", { file: opts.config });
          await server.reload();
        },
      },
      log,
    );
  });
