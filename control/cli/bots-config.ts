/**
 * What the bots-config commands share: the message for a credential that may not write the
 * config, and the federation's stored list as this node's control server would follow it.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { refusedOr } from "../../cluster/refusals.js";
import { registry } from "../../bots/registry.js";
import { parseStoredBots } from "../bots-config/document.js";
import { effectiveBots, withBots } from "../bots-config/effective.js";
import { latest, openConfig } from "../bots-config/store.js";
import type { ControlConfig } from "../config/control-config.js";
import { withBus } from "./common.js";

export const ADMIN_ONLY = () =>
  "only the federation's admin may change the bots config: run it with --config DIR/admin/admin.yaml (bustle-cluster init wrote it)";

/** Runs `work` on the bus as the admin's change to the bots config: a refused credential is one line saying who may. */
export function asAdmin<T>(config: ControlConfig, work: (nc: NatsConnection) => Promise<T>): Promise<T> {
  return withBus(config, (nc) => refusedOr(nc, config.bus.user, ADMIN_ONLY, work(nc)));
}

/**
 * `config` with the bots its control server runs: the stored list where it follows one (see
 * control/bots-config/effective.ts), else its file's. A stored list this credential may not read
 * (core confs from before the bots config), or one that does not validate, leaves the file's.
 */
export async function followedConfig(config: ControlConfig, nc: NatsConnection): Promise<ControlConfig> {
  if (config.federation.bots === "ignore") return config;
  try {
    const r = await refusedOr(
      nc,
      config.bus.user,
      () => "",
      (async () => {
        const kv = await openConfig(nc);
        return kv ? latest(kv) : undefined;
      })(),
    );
    if (!r?.doc) return withBots(config, effectiveBots(config, undefined, undefined).bots);
    const specs = parseStoredBots(r.doc.bots, registry, `federation bots config revision ${r.revision}`);
    return withBots(config, effectiveBots(config, { revision: r.revision, specs }, undefined).bots);
  } catch {
    return withBots(config, effectiveBots(config, undefined, undefined).bots);
  }
}
