/**
 * A control server: one NATS connection, the KV buckets, the supervisor and the command API.
 * Build with createControlServer(), run with start(); reload() applies a re-read control.yaml
 * (keeping the old one when the new one is bad); stop() stops every bot and releases its lease.
 * It follows the federation's stored bots config (control/bots-config/): each new revision is
 * applied like a reload, one change at a time.
 */
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closeBus, connectBus, type NatsConnection } from "../cluster/connection.js";
import { ConfigError } from "../cluster/errors.js";
import { botOfSubject } from "../cluster/permissions.js";
import { CONFIG_BUCKET } from "../cluster/names.js";
import { onRefusal, PermissionDenied } from "../cluster/refusals.js";
import type { Logger } from "../cluster/logger.js";
import { registry as defaultRegistry, type Registry } from "../bots/registry.js";
import { ControlApi, type ServerStatus } from "./api.js";
import { openBuckets } from "./buckets.js";
import { BotsSource } from "./bots-config/bots-source.js";
import type { Revision } from "./bots-config/document.js";
import { BotsConfigFollower } from "./bots-config/follower.js";
import type { ControlConfig } from "./config/control-config.js";
import { Supervisor } from "./supervisor.js";

const here = dirname(fileURLToPath(import.meta.url));

export interface ControlServerDeps {
  log: Logger;
  /** Re-reads control.yaml (throws ConfigError); for SIGHUP and `reload BOT`. */
  reread(): ControlConfig;
  /** The module exporting the bot registry the hosts build bots from (tests pass one with fake types). */
  registryModule?: string;
  /** The registry the stored bots config is checked with (default bots/registry.ts). */
  registry?: Registry;
  hostPath?: string;
}

export interface ControlServer {
  /** Connects (waiting for NATS as long as it takes) and starts campaigning for the bots. */
  start(): Promise<void>;
  /** Re-reads control.yaml; resolves true when applied, false when the file was bad (the old config keeps running). */
  reload(): Promise<boolean>;
  /** Stops every bot cleanly, releases the leases and closes the connection. */
  stop(): Promise<void>;
  readonly instance: string;
  /** What this server holds right now (metrics); undefined before start. */
  status(): ServerStatus | undefined;
}

export function createControlServer(config: ControlConfig, deps: ControlServerDeps): ControlServer {
  const log = deps.log;
  const instance = `${config.node}-${process.pid}-${randomBytes(3).toString("hex")}`;
  let nc: NatsConnection | undefined;
  let supervisor: Supervisor | undefined;
  let api: ControlApi | undefined;
  let follower: BotsConfigFollower | undefined;
  // control.yaml and the federation's stored list; one change at a time (SIGHUP, new revisions).
  const source = new BotsSource(config, deps.registry ?? defaultRegistry, log.child("bots-config"));
  let applying = Promise.resolve();
  const enqueue = (fn: () => Promise<unknown>): Promise<void> =>
    (applying = applying.then(fn).then(
      () => {},
      (err) => log.error("applying a bots change failed", { error: err }),
    ));
  const onRevision = (r: Revision) => {
    if (source.accept(r)) void enqueue(() => supervisor!.apply(source.config()));
  };
  return {
    instance,
    status: () => supervisor?.statusAll(),
    async start() {
      nc = await connectBus({
        ...config.bus,
        name: `bustle-control ${config.node}`,
        logger: log.child("nats"),
        inboxPrefix: `_INBOX.${config.node}`,
      });
      // A refusal while starting is fatal (one line naming subject and user); later, a refused
      // bot key means this node may not run that bot: say so once and stop campaigning for it.
      let failStart: ((err: PermissionDenied) => void) | undefined;
      const refusedAtStart = new Promise<never>((_, reject) => (failStart = reject));
      refusedAtStart.catch(() => {});
      const told = new Set<string>();
      onRefusal(nc, (e) => {
        if (failStart) {
          return failStart(
            new PermissionDenied(
              config.bus.user,
              e.operation,
              e.subject,
              `a control server needs its node's control credential (the control.yaml bustle-cluster init writes, or nats.user <node>.control)`,
            ),
          );
        }
        if (told.has(e.subject)) return;
        told.add(e.subject);
        const bot = botOfSubject(e.subject);
        const hint = bot
          ? `this node may not run bot ${bot} (the federation grants it with bustle-cluster init --bot ${bot}=${config.node}); not campaigning for it`
          : e.subject.includes(`KV_${CONFIG_BUCKET}`)
            ? `this credential may not read the federation's bots config (the core confs predate it: re-run bustle-cluster init); running control.yaml's bots`
            : "";
        log.error(new PermissionDenied(config.bus.user, e.operation, e.subject, hint).message);
        if (bot) void supervisor?.refuse(bot);
      });
      let buckets;
      try {
        buckets = await Promise.race([openBuckets(nc, config.lease.ttl, log), refusedAtStart]);
      } catch (err) {
        await nc.close().catch(() => {});
        throw err;
      }
      failStart = undefined;
      follower = new BotsConfigFollower(nc, log.child("bots-config"), onRevision);
      const first = await follower.read().catch(
        (err) =>
          void log.warn("cannot read the federation's bots config; starting with control.yaml's bots", {
            error: err,
          }),
      );
      if (first) source.accept(first);
      supervisor = new Supervisor(source.config(), {
        buckets,
        instance,
        log: log.child("supervisor"),
        reread: () => source.config(deps.reread()),
        hostPath: deps.hostPath ?? join(here, "bin", "bot-host.js"),
        registryModule: deps.registryModule ?? join(here, "..", "bots", "registry.js"),
      });
      api = new ControlApi(nc, supervisor, log.child("api"));
      api.start();
      supervisor.start(api);
      follower.start();
      log.info("control server started", {
        node: config.node,
        instance,
        file: config.file,
        state: config.stateDir,
        leaseTtlMs: buckets.ttl,
      });
    },
    async reload() {
      let next: ControlConfig;
      try {
        next = deps.reread();
      } catch (err) {
        const why = err instanceof ConfigError ? err.problems.join("; ") : (err as Error).message;
        log.error(`control.yaml not reloaded; the old config keeps running: ${why}`);
        return false;
      }
      source.setFile(next);
      await enqueue(() => supervisor!.apply(source.config()));
      return true;
    },
    async stop() {
      await follower?.stop();
      await applying;
      api?.stop();
      await supervisor?.stop();
      await closeBus(nc, log);
      log.info("control server stopped");
    },
  };
}
