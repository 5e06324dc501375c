/**
 * The bots config in KV: bucket `bustle-config` (history 64: the last 64 revisions can be listed
 * and rolled back to), key `bots`. Only the admin creates the bucket and writes the key; control
 * servers and the CLI read it. Every write names the revision it follows, so two admins applying
 * at once cannot overwrite each other unseen: the second is told and nothing of it is stored.
 */
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { BustleError } from "../../cluster/errors.js";
import { BOTS_CONFIG_KEY, CONFIG_BUCKET } from "../../cluster/names.js";
import { clusterSize } from "../../cluster/stream.js";
import { readDocument, type BotsDocument, type Revision } from "./document.js";

export const CONFIG_HISTORY = 64;

/** The stored config changed meanwhile, or a revision asked for is not there. */
export class BotsConfigError extends BustleError {}

export const isNotFound = (err: unknown): boolean =>
  (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) ||
  /stream not found/i.test(String((err as Error)?.message));

/** The bucket to read, or undefined while nobody has applied a bots config yet. */
export async function openConfig(nc: NatsConnection): Promise<KV | undefined> {
  const kv = await new Kvm(nc).open(CONFIG_BUCKET);
  try {
    await kv.status();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return kv;
}

/** The bucket to write: opened, or created (admin only) with its history and the cluster's replicas. */
export async function openConfigForWrite(nc: NatsConnection): Promise<KV> {
  return (
    (await openConfig(nc)) ??
    new Kvm(nc).create(CONFIG_BUCKET, { history: CONFIG_HISTORY, replicas: Math.min(3, clusterSize(nc)) })
  );
}

export function toRevision(e: KvEntry): Revision {
  const deleted = e.operation !== "PUT";
  return {
    revision: e.revision,
    created: e.created,
    doc: deleted ? undefined : readDocument(e.value),
    ...(deleted ? { deleted } : {}),
  };
}

/** The latest revision (deleted ones included), or undefined when the key was never written. */
export async function latest(kv: KV): Promise<Revision | undefined> {
  const e = await kv.get(BOTS_CONFIG_KEY);
  return e ? toRevision(e) : undefined;
}

/** Every revision the bucket still keeps, oldest first (read from the stream leader, not a replica). */
export async function revisions(kv: KV): Promise<Revision[]> {
  const { first_seq: first, last_seq: last } = (await kv.status()).streamInfo.state;
  const out: Revision[] = [];
  for (let seq = Math.max(1, first); seq <= last && last > 0; seq++) {
    const e = await kv.get(BOTS_CONFIG_KEY, { revision: seq }).catch(() => null);
    if (e) out.push(toRevision(e));
  }
  return out;
}

/**
 * Stores `doc` as the revision after `after` (undefined: the key must not exist yet); resolves
 * with the new revision. Rejects with BotsConfigError when someone stored another one meanwhile.
 */
export async function store(kv: KV, doc: BotsDocument, after: Revision | undefined): Promise<number> {
  const data = JSON.stringify(doc);
  try {
    return after ? await kv.update(BOTS_CONFIG_KEY, data, after.revision) : await kv.create(BOTS_CONFIG_KEY, data);
  } catch (err) {
    if (
      err instanceof JetStreamApiError &&
      (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
        err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
    ) {
      throw new BotsConfigError(
        "the federation's bots config changed while this one was being stored (another admin applied one?); nothing was stored: see `bustle-control history` and apply again",
        { cause: err },
      );
    }
    throw err;
  }
}
