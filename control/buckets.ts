/** The control servers' two KV buckets: leases (entries age out after the lease TTL) and bots' positions and admin flags. */
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../cluster/logger.js";
import { clusterSize } from "../cluster/stream.js";
import { BOTS_BUCKET } from "../cluster/names.js";
import { LEASE_BUCKET } from "./lease.js";
import { sleep } from "../cluster/wait-for.js";

export interface Buckets {
  leases: KV;
  /** The lease TTL actually in force (the first control server to create the bucket set it). */
  ttl: number;
  bots: KV;
}

async function ensure(kvm: Kvm, name: string, opts: { ttl?: number; replicas: number }, log: Logger): Promise<KV> {
  try {
    return await kvm.create(name, { history: 1, replicas: opts.replicas, ...(opts.ttl ? { ttl: opts.ttl } : {}) });
  } catch (err) {
    // Exists with other settings (another control server made it): use it as it is.
    log.debug("opening the existing bucket", { bucket: name, error: err });
    const kv = await kvm.open(name);
    await kv.status();
    return kv;
  }
}

/** Creates or opens both buckets, retrying while JetStream is still electing leaders (up to `timeoutMs`). */
export async function openBuckets(nc: NatsConnection, ttl: number, log: Logger, timeoutMs = 60_000): Promise<Buckets> {
  const kvm = new Kvm(nc);
  const replicas = Math.min(3, clusterSize(nc));
  const deadline = Date.now() + timeoutMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      const leases = await ensure(kvm, LEASE_BUCKET, { ttl, replicas }, log);
      const actual = (await leases.status()).ttl;
      if (actual && actual !== ttl)
        log.warn("the lease bucket exists with another TTL; using it", { configured: ttl, actual });
      const bots = await ensure(kvm, BOTS_BUCKET, { replicas }, log);
      return { leases, ttl: actual || ttl, bots };
    } catch (err) {
      if (Date.now() + delay > deadline) throw err;
      log.debug("KV not ready yet, retrying", { error: err });
      await sleep(delay);
    }
  }
}
