/** `bustle-control serve`: run the bots of control.yaml, supervised, each exactly once across the federation. */
import { Command } from "commander";
import { createLogger } from "../../cluster/logger.js";
import { loadConfig, withConfig, type ConfigOpts } from "./common.js";

export const serveCommand = withConfig(new Command("serve"))
  .description("run the configured bots (SIGHUP re-reads control.yaml; SIGTERM/SIGINT stop gracefully)")
  .action(async (opts: ConfigOpts) => {
    const config = loadConfig(opts.config, true);
    const log = createLogger({ component: "bustle-control", fields: { node: config.node } });
    const { createControlServer } = await import("../server.js");
    const server = createControlServer(config, { log, reread: () => loadConfig(opts.config, true) });
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) process.exit(1); // a second signal: leave now
      stopping = true;
      log.info("stopping", { signal });
      server.stop().then(() => process.exit(0), (err) => {
        log.error("error while stopping", { error: err });
        process.exit(1);
      });
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
    let reloading = Promise.resolve();
    process.on("SIGHUP", () => {
      log.info("SIGHUP: re-reading control.yaml", { file: opts.config });
      reloading = reloading.then(() => server.reload().then(() => {}, (err) => log.error("reload failed", { error: err })));
    });
    await server.start();
    process.stderr.write(`bustle-control: node ${config.node}, ${config.bots.length} bot(s) in ${opts.config}, NATS ${config.bus.servers.join(", ")}\n`);
  });
