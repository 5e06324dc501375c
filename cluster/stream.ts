/**
 * The BUSTLE stream: every event of the federation, in one order. Ensuring it is idempotent and
 * safe to call from every node at start-up.
 */
import { jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { ALL_EVENTS, STREAM_NAME } from "./names.js";
import type { Logger } from "./logger.js";

export interface StreamLimits {
  /** Replicas; default min(3, servers in the cluster). */
  replicas?: number;
  /** How long events are kept. Default 30 days. */
  maxAgeMs?: number;
  /** Total size cap. Default 1 GiB. */
  maxBytes?: number;
  /**
   * De-duplication window for `Nats-Msg-Id`. It bounds how late a re-sent event (after an
   * outage) is still recognised as a copy, so it is long: default 6 hours.
   */
  duplicateWindowMs?: number;
}

export const STREAM_DEFAULTS = {
  maxAgeMs: 30 * 86_400_000,
  maxBytes: 1024 ** 3,
  duplicateWindowMs: 6 * 3_600_000,
} as const;

/**
 * The cluster's size as this client can tell: the servers the cluster advertises, or — when it
 * advertises none (`no_advertise`) — the servers this client was configured with. 1 when the
 * server is not clustered.
 */
export function clusterSize(nc: NatsConnection): number {
  const info = nc.info;
  if (!info?.cluster) return 1;
  const advertised = new Set(info.connect_urls ?? []).size;
  const configured = nc.getServers().filter((s) => !s.gossiped).length;
  return Math.max(1, advertised, configured);
}

export function streamConfig(limits: StreamLimits, replicas: number): Partial<StreamConfig> & { name: string } {
  const maxAge = limits.maxAgeMs ?? STREAM_DEFAULTS.maxAgeMs;
  return {
    name: STREAM_NAME,
    subjects: [ALL_EVENTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAge),
    max_bytes: limits.maxBytes ?? STREAM_DEFAULTS.maxBytes,
    duplicate_window: nanos(Math.min(limits.duplicateWindowMs ?? STREAM_DEFAULTS.duplicateWindowMs, maxAge)),
    num_replicas: replicas,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates the stream or brings an existing one up to the wanted limits (replicas only grow).
 * Retries while JetStream is still electing a leader, up to `timeoutMs` (default 60 s).
 */
export async function ensureStream(nc: NatsConnection, limits: StreamLimits, log: Logger, timeoutMs = 60_000): Promise<JetStreamManager> {
  const deadline = Date.now() + timeoutMs;
  let delay = 200;
  for (;;) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000 });
      const replicas = limits.replicas ?? Math.min(3, clusterSize(nc));
      const wanted = streamConfig(limits, replicas);
      const existing = await jsm.streams.info(STREAM_NAME).catch((err: Error) => {
        if (/not found/i.test(err.message)) return undefined;
        throw err;
      });
      if (!existing) {
        await jsm.streams.add(wanted);
        log.info("created stream", { stream: STREAM_NAME, replicas });
      } else {
        const cur = existing.config;
        const next = { ...cur, ...wanted, num_replicas: Math.max(cur.num_replicas, replicas) };
        const differs = (["max_age", "max_bytes", "duplicate_window", "num_replicas"] as const).some((k) => cur[k] !== next[k]);
        if (differs) {
          await jsm.streams.update(STREAM_NAME, next);
          log.info("updated stream limits", { stream: STREAM_NAME, replicas: next.num_replicas });
        }
      }
      return jsm;
    } catch (err) {
      if (Date.now() + delay > deadline) throw err;
      log.debug("stream not ready yet, retrying", { error: err });
      await sleep(delay);
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
