/** What every `bustle-control` sub-command shares: where control.yaml is, loading it, reaching NATS. */
import type { Command } from "commander";
import { connectBus, type NatsConnection } from "../../cluster/connection.js";
import { silentLogger } from "../../cluster/logger.js";
import { registry } from "../../bots/registry.js";
import { loadControlConfig, type ControlConfig } from "../config/control-config.js";

export const DEFAULT_CONFIG = "/etc/bustle/control.yaml";

export interface ConfigOpts {
  config: string;
}

/** Adds `--config FILE` (default $BUSTLE_CONTROL_CONFIG, else /etc/bustle/control.yaml). */
export function withConfig(cmd: Command): Command {
  return cmd.option("-c, --config <file>", `control.yaml (default $BUSTLE_CONTROL_CONFIG, else ${DEFAULT_CONFIG})`, process.env.BUSTLE_CONTROL_CONFIG || DEFAULT_CONFIG);
}

/** Loads control.yaml; `checkBots` also runs each bot type's own checks (secrets, programs). */
export function loadConfig(file: string, checkBots: boolean): ControlConfig {
  return loadControlConfig(file, registry, { checkBots });
}

/** Connects like a CLI: fail fast with one clear line when no server answers. */
export async function withBus<T>(config: ControlConfig, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectBus({ ...config.bus, name: `bustle-control cli ${config.node}`, logger: silentLogger, waitOnFirstConnect: false, inboxPrefix: `_INBOX.${config.node}` });
  try {
    return await fn(nc);
  } finally {
    // Nothing is in flight once the answer is here: close without the drain's wait.
    await nc.close().catch(() => {});
  }
}
