/**
 * bustle-control's Prometheus metrics, read from the supervisor's status at each scrape: which
 * bots this server holds and in what state, how often each was restarted, and how many events
 * each has been handed.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { ServerStatus } from "./api.js";

const STATES = ["starting", "running", "backoff", "failed", "stopping", "stopped"] as const;

export function createControlMetrics(status: () => ServerStatus | undefined): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "bustle_bot_state",
    help: "1 for the state each bot held by this control server is in, 0 for the others",
    labelNames: ["bot", "type", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of status()?.bots ?? [])
        for (const s of STATES) this.set({ bot: b.id, type: b.type, state: s }, b.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: "bustle_bot_halted",
    help: "1 while a bot is halted (bustle-control halt)",
    labelNames: ["bot"],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of status()?.bots ?? []) this.set({ bot: b.id }, b.halted ? 1 : 0);
    },
  });
  new Gauge({
    name: "bustle_bot_restarts",
    help: "Restarts of each bot since this control server took it",
    labelNames: ["bot"],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of status()?.bots ?? []) this.set({ bot: b.id }, b.restarts);
    },
  });
  // Each bot process counts what it was handed; a restart starts its count again, so the
  // counter adds the differences (and a fresh process's whole count).
  const seen = new Map<string, number>();
  new Counter({
    name: "bustle_bot_events_delivered_total",
    help: "Events handed to each bot by this control server",
    labelNames: ["bot"],
    registers: [registry],
    collect() {
      for (const b of status()?.bots ?? []) {
        const now = b.delivered ?? 0;
        const before = seen.get(b.id) ?? 0;
        const add = now >= before ? now - before : now;
        if (add > 0) this.inc({ bot: b.id }, add);
        else this.inc({ bot: b.id }, 0);
        seen.set(b.id, now);
      }
    },
  });
  return registry;
}
