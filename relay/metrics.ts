/**
 * bustled's Prometheus metrics. The relay's parts know nothing of them: the counters sit at the
 * seams the daemon already wires (the audit log every produced or refused input passes, the
 * outbox's acks, the log writer's position), so counting is one wrapper each, here.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { STREAM_NAME } from "../cluster/names.js";
import type { Audit } from "./audit.js";
import type { LogWriter } from "./log-writer.js";
import type { Outbox } from "./outbox.js";

/** How long a scrape waits for the stream's last sequence (the lag gauge) before saying -1. */
const LAG_TIMEOUT_MS = 2_000;

export interface RelayMetrics {
  readonly registry: Registry;
  /** The audit log, counting spool lines, ambient events and rejections as they are recorded. */
  countAudit(audit: Audit): Audit;
  /** The outbox, counting events as JetStream acknowledges them; its size is `bustle_outbox_pending`. */
  countOutbox(outbox: Outbox): Outbox;
  /** The log writer once it runs (its position now is where counting starts), and the connection for the stream's head. */
  watchLog(writer: LogWriter, nc: NatsConnection): void;
  /** True once watchLog ran, while the connection is up (not disconnected or closed). */
  connected(): boolean;
}

export function createRelayMetrics(): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const spoolLines = new Counter({
    name: "bustle_spool_lines_total",
    help: "Spool lines turned into events",
    registers: [registry],
  });
  const published = new Counter({
    name: "bustle_events_published_total",
    help: "Events this node published that JetStream acknowledged",
    registers: [registry],
  });
  const rejected = new Counter({
    name: "bustle_rejected_total",
    help: "Input refused or dropped, by reason (see the audit log)",
    labelNames: ["reason"],
    registers: [registry],
  });
  const ambient = new Counter({
    name: "bustle_ambient_events_total",
    help: "Ambient (file activity) events, by kind",
    labelNames: ["kind"],
    registers: [registry],
  });
  let outbox: Outbox | undefined;
  let writer: LogWriter | undefined;
  let nc: NatsConnection | undefined;
  let counted = 0; // the log writer's position already counted
  let up = false;
  new Gauge({
    name: "bustle_nats_connected",
    help: "1 while the relay is connected to NATS and writing the log",
    registers: [registry],
    collect() {
      this.set(up ? 1 : 0);
    },
  });
  new Gauge({
    name: "bustle_outbox_pending",
    help: "Events waiting in the outbox for JetStream's ack",
    registers: [registry],
    collect() {
      this.set(outbox?.size ?? 0);
    },
  });
  new Gauge({
    name: "bustle_outbox_full",
    help: "1 while the outbox is at its bound (outbox.max_pending) and spools wait for NATS to catch up",
    registers: [registry],
    collect() {
      this.set(outbox?.full ? 1 : 0);
    },
  });
  new Gauge({
    name: "bustle_outbox_max_pending",
    help: "The outbox's bound: events waiting for JetStream past which spools are not read",
    registers: [registry],
    collect() {
      this.set(outbox?.maxPending ?? 0);
    },
  });
  new Counter({
    name: "bustle_log_events_total",
    help: "Events appended to bustle.log since bustled started",
    registers: [registry],
    collect() {
      const pos = writer?.position ?? counted;
      if (pos > counted) this.inc(pos - counted);
      counted = Math.max(counted, pos);
    },
  });
  new Gauge({
    name: "bustle_log_lag_events",
    help: "Events in the stream not yet in bustle.log (-1: the stream cannot be read)",
    registers: [registry],
    async collect() {
      // Not while disconnected: the request would wait out its timeout, and the scrape with it.
      if (!writer || !nc || !up || nc.isClosed()) return this.set(-1);
      try {
        const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: LAG_TIMEOUT_MS });
        const info = await jsm.streams.info(STREAM_NAME);
        this.set(Math.max(0, info.state.last_seq - writer.position));
      } catch {
        this.set(-1);
      }
    },
  });

  return {
    registry,
    countAudit: (audit) => ({
      ...audit,
      event(e, from) {
        if (e.source === "spool") spoolLines.inc();
        else if (e.source === "fs") ambient.inc({ kind: e.kind });
        audit.event(e, from);
      },
      rejected(reason, from, details) {
        rejected.inc({ reason });
        audit.rejected(reason, from, details);
      },
    }),
    countOutbox(o) {
      outbox = o;
      return new Proxy(o, {
        get(target, key) {
          if (key === "ack")
            return (ids: readonly string[]) => {
              target.ack(ids);
              published.inc(ids.length);
            };
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
    watchLog(w, conn) {
      writer = w;
      nc = conn;
      counted = w.position;
      up = true;
      void (async () => {
        for await (const st of conn.status()) {
          if (st.type === "disconnect") up = false;
          else if (st.type === "reconnect") up = true;
        }
        up = false;
      })().catch(() => (up = false));
    },
    connected: () => up && nc !== undefined && !nc.isClosed(),
  };
}
