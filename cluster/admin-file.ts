/**
 * DIR/admin/admin.yaml, the admin credential's connection (init writes it; it also serves as a
 * control.yaml for `bustle-control`, so its `bots` are not this module's business).
 */
import { loadConfigFile } from "./config/load.js";
import { object, optional, string, type Schema } from "./config/schema.js";
import { natsSectionSchema, resolveBusSettings, type BusSettings } from "./bus-config.js";
import { connectBus, type NatsConnection } from "./connection.js";
import { silentLogger } from "./logger.js";
import { ADMIN_ID } from "./names.js";
import { inboxPrefix } from "./permissions.js";

/** Anything: keys another program reads. */
const passThrough: Schema<unknown> = { expects: "anything", check: (v) => v };

const adminFileSchema = object({ node: optional(string()), nats: natsSectionSchema, bots: optional(passThrough) });

/** The admin's connection settings from admin.yaml. Throws ConfigError naming the file and key. */
export function loadAdminBus(file: string): BusSettings & { inboxPrefix: string } {
  const cfg = loadConfigFile(file, adminFileSchema);
  return {
    ...resolveBusSettings(cfg.nats, file, [...(cfg.nats.servers ?? [`nats://127.0.0.1:${cfg.nats.port}`])]),
    inboxPrefix: inboxPrefix(ADMIN_ID),
  };
}

/**
 * Connects as the admin of admin.yaml (`name` is what the servers see). Does not wait for the
 * first server: an unreachable one is the first request's error, as for any admin command.
 */
export function connectAdmin(file: string, name: string): Promise<NatsConnection> {
  return connectBus({ ...loadAdminBus(file), name, logger: silentLogger, waitOnFirstConnect: false });
}
