/**
 * The publisher: sends the outbox's events to JetStream in order, with their ids as
 * `Nats-Msg-Id`, a bounded window of unacknowledged publishes, and forgets each event once
 * its PubAck arrives. After any failure it pauses every send with one shared backoff
 * (200 ms doubling to 2 s) and starts again from the oldest unacknowledged event, so a server
 * restart or a leader election causes neither loss nor a storm of retries.
 */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEvent, subjectOf, type BustleEvent } from "../cluster/envelope.js";
import type { Logger } from "../cluster/logger.js";
import type { Outbox } from "./outbox.js";

export interface PublisherOptions {
  outbox: Outbox;
  log: Logger;
  /** Unacknowledged publishes at once. Default 256. */
  window?: number;
  /** How long to wait for one PubAck. Default 5 s. */
  ackTimeoutMs?: number;
  /**
   * Called after several failed rounds in a row (e.g. to re-create a stream an admin deleted).
   * Its errors are logged; publishing goes on either way.
   */
  recover?: () => Promise<void>;
}

export interface Publisher {
  /** Starts publishing over `nc`; resolves at once (the loop runs until stop). */
  start(nc: NatsConnection): void;
  /** Stops sending; resolves when in-flight publishes have settled. Pending events stay in the outbox. */
  stop(): Promise<void>;
  /** Resolves when the outbox is empty or `timeoutMs` passed (graceful shutdown). */
  drain(timeoutMs: number): Promise<boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createPublisher(opts: PublisherOptions): Publisher {
  const { outbox, log } = opts;
  const windowSize = opts.window ?? 256;
  const timeout = opts.ackTimeoutMs ?? 5_000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeOnStop!: () => void;
  const stopped = new Promise<void>((r) => (wakeOnStop = r));

  async function run(js: JetStreamClient): Promise<void> {
    let backoff = 0;
    let failures = 0;
    while (running) {
      await Promise.race([outbox.whenNonEmpty(), stopped]);
      if (!running) break;
      const failed = await sendRound(js);
      if (failed) {
        if (++failures % 5 === 0 && opts.recover) await opts.recover().catch((err) => log.warn("recovery step failed", { error: err }));
        backoff = Math.min(backoff ? backoff * 2 : 200, 2_000);
        log.warn("publish failed; pausing before re-sending", { error: failed, pause_ms: backoff, pending: outbox.size });
        await sleep(backoff);
      } else {
        backoff = 0;
        failures = 0;
      }
    }
  }

  /**
   * One pass over the pending events, oldest first, keeping at most `windowSize` in flight.
   * Returns the first error (after letting everything in flight settle), or undefined.
   */
  async function sendRound(js: JetStreamClient): Promise<Error | undefined> {
    const inflight = new Set<Promise<void>>();
    let failure: Error | undefined;
    const acked: string[] = [];
    const flushAcks = () => {
      if (acked.length) outbox.ack(acked.splice(0));
    };
    for (const event of outbox.pending()) {
      if (!running || failure) break;
      while (inflight.size >= windowSize && !failure) await Promise.race(inflight);
      if (failure) break;
      const p: Promise<void> = publishOne(js, event)
        .then(() => {
          acked.push(event.id);
          if (acked.length >= 64) flushAcks();
        })
        .catch((err: Error) => {
          failure ??= err;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    flushAcks();
    return failure;
  }

  function publishOne(js: JetStreamClient, e: BustleEvent): Promise<void> {
    return js.publish(subjectOf(e), encodeEvent(e), { msgID: e.id, timeout }).then(() => undefined);
  }

  return {
    start(nc) {
      if (running) return;
      running = true;
      loop = run(jetstream(nc, { timeout })).catch((err) => log.error("publisher stopped by an error", { error: err }));
    },
    async stop() {
      running = false;
      wakeOnStop();
      await Promise.race([loop, sleep(timeout + 1_000)]);
    },
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (outbox.size && Date.now() < deadline) await sleep(50);
      return outbox.size === 0;
    },
  };
}
