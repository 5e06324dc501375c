/** What every `bustle-control` sub-command shares: where control.yaml is, loading it, reaching NATS. */
import type { Command } from "commander";
import { connectBus, type NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import { registry } from "../../bots/registry.js";
import { CONTROL_CONFIG_SEARCH, requireConfig, SYSTEM_CONTROL_CONFIG } from "../../cluster/config/node-location.js";
import { loadControlConfig, type ControlConfig } from "../config/control-config.js";

export const DEFAULT_CONFIG = SYSTEM_CONTROL_CONFIG;

export interface ConfigOpts {
  config: string;
}

/**
 * Adds `--config FILE` (default $BUSTLE_CONTROL_CONFIG, else /etc/bustle/control.yaml), resolved
 * by the shared search before the action runs: the action always gets a file, and with none the
 * error names every place that was tried.
 */
export function withConfig(cmd: Command): Command {
  return cmd
    .option("-c, --config <file>", `control.yaml (default $BUSTLE_CONTROL_CONFIG, else ${DEFAULT_CONFIG})`)
    .hook("preAction", (_cmd, action) => {
      action.setOptionValue(
        "config",
        requireConfig(CONTROL_CONFIG_SEARCH(action.opts().config as string | undefined), "control.yaml").file,
      );
    });
}

/** Loads control.yaml; `checkBots` also runs each bot type's own checks (secrets, programs). */
export function loadConfig(file: string, checkBots: boolean): ControlConfig {
  return loadControlConfig(file, registry, { checkBots });
}

/** Connects like a CLI: fail fast with one clear line when no server answers. */
export async function withBus<T>(config: ControlConfig, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectBus({
    ...config.bus,
    name: `bustle-control cli ${config.node}`,
    logger: silentLogger,
    waitOnFirstConnect: false,
    inboxPrefix: `_INBOX.${config.node}`,
  });
  try {
    return await fn(nc);
  } finally {
    // Nothing is in flight once the answer is here: close without the drain's wait.
    await nc.close().catch(() => {});
  }
}
