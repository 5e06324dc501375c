/**
 * The relay node: wires the parts of one node together.
 *
 *   spool reader ─┐
 *                 ├─> outbox (durable) ─> publisher ─> JetStream BUSTLE ─> log writer ─> bustle.log
 *   ambient ──────┘
 *
 * Producers start before NATS is reachable: events wait in the outbox until it is.
 * `createRelay(config, deps)` builds; `start()` runs; `stop()` shuts down gracefully.
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { resolveBusSettings, type BusSettings } from "../cluster/bus-config.js";
import { closeBus, connectBus, type NatsConnection } from "../cluster/connection.js";
import type { Logger } from "../cluster/logger.js";
import { serveMetrics, type MetricsServer } from "../cluster/metrics.js";
import type { RelayMetrics } from "./metrics.js";
import { ensureLocalCredentials, localBusSettings } from "../cluster/local-auth.js";
import { ensureStream } from "../cluster/stream.js";
import type { AmbientWatcher } from "./ambient/watcher.js";
import { openAuditLog, type Audit } from "./audit.js";
import { createDiskFaults, type DiskFaults } from "./disk-fault.js";
import { isEmbedded, type NodeConfig } from "./config.js";
import { startEmbeddedServer, type EmbeddedServer } from "./embedded-server.js";
import { createLogWriter, type LogWriter } from "./log-writer.js";
import { loadIdKey } from "./id-key.js";
import { openOutbox, type Outbox } from "./outbox.js";
import { createPublisher, type Publisher } from "./publisher.js";
import { watchSilences, type SilenceWatch } from "./silence.js";
import { createSpoolReader, type SpoolReader } from "./spool/spool-reader.js";
import { sleep } from "../cluster/wait-for.js";

export interface RelayDeps {
  log: Logger;
  /** The node.yaml path, for resolving relative paths in it (TLS files, secrets). */
  configFile?: string | undefined;
}

export interface Relay {
  /** Starts every part; resolves once producers run (NATS may still be connecting). */
  start(): Promise<void>;
  /** Stops producers, gives the publisher a moment to flush, stops the writer, drains NATS. */
  stop(): Promise<void>;
  /** Resolves when NATS is connected and the stream ensured (tests, status). */
  readonly ready: Promise<void>;
  /** Resolves (never rejects) with the error when a part fails for good after start (the log writer cannot run): bustled exits. */
  readonly failed: Promise<Error>;
  /** Reopens bustle.log and the audit log (after logrotate; SIGHUP). */
  reopenLogs(): Promise<void>;
}

export function createRelay(config: NodeConfig, deps: RelayDeps): Relay {
  const log = deps.log;
  const node = config.node.id;
  const stateDir = config.state.dir;
  let audit: Audit | undefined;
  let faults: DiskFaults | undefined;
  let outbox: Outbox | undefined;
  let spool: SpoolReader | undefined;
  let silences: SilenceWatch | undefined;
  let ambient: AmbientWatcher | undefined;
  let publisher: Publisher | undefined;
  let writer: LogWriter | undefined;
  let embedded: EmbeddedServer | undefined;
  let nc: NatsConnection | undefined;
  let stopped = false;
  let metrics: RelayMetrics | undefined;
  let metricsServer: MetricsServer | undefined;
  let recoverStream: (() => Promise<void>) | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  let markFailed!: (err: Error) => void;
  const failed = new Promise<Error>((r) => (markFailed = r));

  async function connectAndRun(settings: BusSettings): Promise<void> {
    // The node's own inbox (its credentials may receive replies only there); the publisher's replies come there too.
    const inboxPrefix = settings.inboxPrefix ?? `_INBOX.${node}`;
    // Retried forever: while NATS is unreachable (or refuses us) producers keep filling the
    // outbox, and the first successful connection delivers everything.
    let delay = 1_000;
    while (!stopped && !nc) {
      try {
        nc = await connectBus({
          ...settings,
          inboxPrefix,
          name: `bustled ${node}`,
          logger: log.child("nats"),
          // Its own server first (bustle-cluster init writes it so): not a random other node's.
          inOrder: true,
        });
      } catch (err) {
        log.error("cannot connect to NATS; retrying", { error: err, retry_ms: delay });
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    if (stopped || !nc) return;
    const s = config.stream;
    const limits = {
      ...(s.replicas !== undefined ? { replicas: s.replicas } : {}),
      ...(s.max_age !== undefined ? { maxAgeMs: s.max_age } : {}),
      ...(s.max_bytes !== undefined ? { maxBytes: s.max_bytes } : {}),
      ...(s.duplicate_window !== undefined ? { duplicateWindowMs: s.duplicate_window } : {}),
    };
    const conn = nc;
    // The embedded node's relay administers its own stream; a federation node only reports a difference.
    const streamOpts = { apply: isEmbedded(config) };
    await ensureStream(conn, limits, log.child("stream"), 365 * 86_400_000, streamOpts);
    if (stopped) return;
    // If publishing keeps failing, make sure the stream still exists (an admin may have deleted it).
    recoverStream = async () => {
      await ensureStream(conn, limits, log.child("stream"), 5_000, streamOpts);
    };
    publisher!.start(nc, inboxPrefix);
    await writer!.start(nc);
    metrics?.watchLog(writer!, conn);
    markReady();
  }

  return {
    ready,
    failed,
    async reopenLogs() {
      audit?.reopen();
      await writer?.reopen("SIGHUP");
    },
    async start() {
      mkdirSync(stateDir, { recursive: true, mode: 0o755 });
      // Settings first: a missing or exposed password file is a config error, reported before anything runs.
      const credentials = isEmbedded(config) ? ensureLocalCredentials(stateDir, node) : undefined;
      const settings = credentials
        ? localBusSettings(credentials, "relay", config.nats.port)
        : resolveBusSettings(config.nats, deps.configFile, [...config.nats.servers!]);
      if (config.metrics) metrics = (await import("./metrics.js")).createRelayMetrics();
      // One record of disk faults for every durable writer: said once, shown by `bustle status`.
      faults = createDiskFaults(log.child("disk"), stateDir);
      audit = openAuditLog(config.log.audit, { log: log.child("audit"), faults });
      if (metrics) audit = metrics.countAudit(audit);
      outbox = await openOutbox(join(stateDir, "outbox"), log.child("outbox"), faults, {
        maxPending: config.outbox.max_pending,
      });
      if (metrics) outbox = metrics.countOutbox(outbox);
      // Before anything runs: an address that cannot be bound fails the start cleanly.
      if (metrics && config.metrics) {
        const m = metrics;
        metricsServer = await serveMetrics({
          listen: config.metrics.listen,
          registry: m.registry,
          log: log.child("metrics"),
          health: () => ({
            ok: m.connected(),
            node,
            nats: m.connected() ? "connected" : "not connected",
            pending_events: outbox?.size ?? 0,
            outbox_full: outbox?.full ?? false,
          }),
        });
      }
      const idKey = loadIdKey(stateDir);
      publisher = createPublisher({
        outbox,
        log: log.child("publisher"),
        audit,
        idKey,
        recover: () => recoverStream?.() ?? Promise.resolve(),
      });
      writer = createLogWriter({
        logPath: config.log.path,
        stateDir,
        node,
        audit,
        log: log.child("log-writer"),
        faults,
      });
      // Before any producer runs: a log that cannot be opened fails the start with a clear error.
      await writer.open();
      silences = watchSilences(stateDir, audit, log.child("silence"));
      // Ambient first: the homes it watches need no inotify watch of the spool reader's own.
      if (config.ambient.enabled) {
        // Loaded only when used: the native watcher is the heaviest dependency of the node.
        const { createAmbientWatcher } = await import("./ambient/watcher.js");
        ambient = createAmbientWatcher({
          node,
          homesRoot: config.homes.root,
          config: config.ambient,
          sink: outbox,
          audit,
          log: log.child("ambient"),
          onSpoolChange: (user: string) => spool?.poke(user),
          onCoverageChange: (user: string) => spool?.rewatch(user),
        });
        await ambient.start();
      }
      spool = createSpoolReader({
        isSilenced: silences.check,
        node,
        idKey,
        homesRoot: config.homes.root,
        stateDir,
        sink: outbox,
        audit,
        faults,
        log: log.child("spool"),
        rate: { burst: config.spool.rate.burst, perMinute: config.spool.rate.per_minute },
        maxLineBytes: config.spool.max_line_bytes,
        rescanMs: config.spool.rescan,
        ...(ambient ? { watchedElsewhere: (user: string) => ambient?.watches(user) ?? false } : {}),
      });
      if (credentials) {
        embedded = await startEmbeddedServer({
          stateDir,
          port: config.nats.port,
          node,
          credentials,
          log: log.child("nats-server"),
        });
      }
      // Connecting before the spool reader's first scan: that scan waits for room when the outbox
      // is full (a journal or spool backlog past outbox.max_pending), and only the publisher makes room.
      // The log writer not running while producers go on would be a silent outage: fail instead.
      connectAndRun(settings).catch((err: unknown) => {
        log.error("cannot run the log writer against NATS; stopping", { error: err });
        markFailed(err instanceof Error ? err : new Error(String(err)));
      });
      await spool.start();
      log.info("bustled started", {
        node,
        log: config.log.path,
        audit: config.log.audit,
        state: stateDir,
        homes: config.homes.root,
        nats: settings.servers,
        embedded_server: embedded ? embedded.dir : null,
        credentials: credentials ? credentials.dir : null,
        pending_events: outbox.size,
      });
    },
    async stop() {
      stopped = true;
      // Writers waiting out a full disk give up now: what they hold is still in the spools and the stream.
      faults?.abandon();
      // So do producers waiting for room in a full outbox (their spool offsets stay put).
      outbox?.abandonWaits();
      await ambient?.stop();
      await spool?.stop();
      silences?.stop();
      if (publisher && nc && !nc.isClosed()) {
        const flushed = await publisher.drain(3_000);
        if (!flushed)
          log.warn("stopping with events still in the outbox; they are sent on the next start", {
            pending: outbox?.size,
          });
      }
      await publisher?.stop();
      await writer?.stop();
      await closeBus(nc, log);
      await outbox?.close();
      await embedded?.stop();
      audit?.close();
      await metricsServer?.close();
      faults?.close();
      log.info("bustled stopped");
    },
  };
}
