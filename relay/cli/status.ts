/** `bustle status`: this node's view of the bus. NATS is imported only when it runs. */
import { Command } from "commander";

export interface StatusOptions {
  config?: string;
  json: boolean;
}

export function statusCommand(): Command {
  return new Command("status")
    .description("this node: NATS connection, cluster routes, the BUSTLE stream and its replicas, log lag, last event")
    .option("--config <FILE>", "node.yaml to read (default: $BUSTLE_CONFIG or /etc/bustle/node.yaml)")
    .option("--json", "one JSON object, for scripts", false)
    .action(async (opts: StatusOptions) => {
      const { runStatus } = await import("./status-run.js");
      await runStatus(opts);
    });
}
