/**
 * The BUSTLE stream: every event of the federation, in one order. Ensuring it is idempotent and
 * safe to call from every node at start-up: a node creates the stream when it is absent, and
 * otherwise only reports where the stream's limits differ from its own config. Changing the
 * limits of an existing stream is the admin's (applyStreamLimits with the admin credential), so
 * one node's config — or one hostile member — cannot cut the federation's history.
 */
import {
  jetstreamManager,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { ALL_EVENTS, STREAM_NAME } from "./names.js";
import type { Logger } from "./logger.js";
import { sleep } from "./wait-for.js";

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

/** The limits ensureStream compares (and applyStreamLimits sets). */
const LIMIT_KEYS = ["max_age", "max_bytes", "duplicate_window", "num_replicas"] as const;

export interface EnsureOptions {
  /**
   * Bring an existing stream up to `limits` (replicas only grow) instead of reporting the
   * difference. Only for a caller that administers the stream: the admin credential, or the
   * embedded single node whose relay is its own server's only user. Default false.
   */
  apply?: boolean;
}

/** The stream's limits that differ from the wanted ones: `{key: {stream, wanted}}`. */
function differences(
  cur: StreamConfig,
  wanted: Partial<StreamConfig>,
): Record<string, { stream: unknown; wanted: unknown }> {
  const out: Record<string, { stream: unknown; wanted: unknown }> = {};
  for (const k of LIMIT_KEYS) {
    const w = k === "num_replicas" ? Math.max(cur.num_replicas, wanted.num_replicas ?? 0) : wanted[k];
    if (w !== undefined && cur[k] !== w) out[k] = { stream: cur[k], wanted: w };
  }
  return out;
}

/**
 * Creates the stream when it is absent. When it exists with other limits, logs one warning
 * with the differences (or, with `apply`, updates it). Retries while JetStream is still electing
 * a leader, up to `timeoutMs` (default 60 s).
 */
export async function ensureStream(
  nc: NatsConnection,
  limits: StreamLimits,
  log: Logger,
  timeoutMs = 60_000,
  opts: EnsureOptions = {},
): Promise<JetStreamManager> {
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
        return jsm;
      }
      const diff = differences(existing.config, wanted);
      if (Object.keys(diff).length === 0) return jsm;
      if (opts.apply) {
        // Not retried: a credential without the right to update gets the same answer every time.
        await jsm.streams
          .update(STREAM_NAME, {
            ...existing.config,
            ...wanted,
            num_replicas: Math.max(existing.config.num_replicas, replicas),
          })
          .then(
            () => log.info("updated stream limits", { stream: STREAM_NAME, changed: diff }),
            (err: unknown) =>
              log.warn("could not update the stream's limits; leaving them", {
                stream: STREAM_NAME,
                differences: diff,
                error: err,
              }),
          );
      } else {
        log.warn(
          "the stream's limits differ from this node's config; leaving them (the federation's admin changes them with bustle-cluster stream)",
          { stream: STREAM_NAME, differences: diff },
        );
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

/** Limits to change on an existing stream (absent keys are kept as they are). */
export interface LimitChanges {
  maxAgeMs?: number | undefined;
  maxBytes?: number | undefined;
  duplicateWindowMs?: number | undefined;
  replicas?: number | undefined;
}

/**
 * Changes the given limits of the existing BUSTLE stream and returns its new config. Only the
 * admin credential may (`bustle-cluster stream`); others time out on a refused request.
 */
export async function applyStreamLimits(nc: NatsConnection, changes: LimitChanges): Promise<StreamConfig> {
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const cur = (await jsm.streams.info(STREAM_NAME)).config;
  const maxAge = changes.maxAgeMs !== undefined ? nanos(changes.maxAgeMs) : cur.max_age;
  const next = {
    ...cur,
    max_age: maxAge,
    ...(changes.maxBytes !== undefined ? { max_bytes: changes.maxBytes } : {}),
    // The de-duplication window may not outlast the events it covers.
    duplicate_window: Math.min(
      changes.duplicateWindowMs !== undefined ? nanos(changes.duplicateWindowMs) : cur.duplicate_window,
      maxAge || Infinity,
    ),
    ...(changes.replicas !== undefined ? { num_replicas: changes.replicas } : {}),
  };
  return (await jsm.streams.update(STREAM_NAME, next)).config;
}
