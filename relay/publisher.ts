/**
 * The publisher: sends the outbox's events to JetStream in order, with their ids as
 * `Nats-Msg-Id`, keeping up to `window` publishes unacknowledged at once (a new event goes out
 * as soon as there is room), and forgets each event once its PubAck arrives. It publishes on
 * core NATS through cluster/stream-publisher.ts (one reply subscription and one timer for all
 * publishes, not a request each). After any failure
 * it lets what is in flight settle, pauses every send with one shared backoff (200 ms doubling
 * to 2 s) and starts again from the oldest unacknowledged event, so a server restart or a
 * leader election causes neither loss nor a storm of retries.
 *
 * A PubAck marked `duplicate` is checked against the message the stream holds at its sequence:
 * a copy of our own event (a retry) is fine; anything else took our id first (an id collision,
 * never silent): it is logged and audit-logged, and our event goes out again under an id
 * derived from the old one with the node's key.
 */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEvent, encodeEvent, stableEventId, subjectOf, type BustleEvent } from "../cluster/envelope.js";
import type { Logger } from "../cluster/logger.js";
import { STREAM_NAME } from "../cluster/names.js";
import { createStreamPublisher, type StreamAck, type StreamPublisher } from "../cluster/stream-publisher.js";
import type { Audit } from "./audit.js";
import type { Outbox } from "./outbox.js";
import { sleep } from "../cluster/wait-for.js";

export interface PublisherOptions {
  outbox: Outbox;
  log: Logger;
  /** Where id collisions are recorded. */
  audit: Audit;
  /** The node's event id key: an event whose id was taken is re-sent under a keyed new id. */
  idKey: Uint8Array;
  /** Unacknowledged publishes at once. Default 256. */
  window?: number;
  /** How long to wait for one PubAck. Default 5 s. */
  ackTimeoutMs?: number;
  /**
   * Called after several failed attempts in a row (e.g. to re-create a stream an admin
   * deleted). Its errors are logged; publishing goes on either way.
   */
  recover?: () => Promise<void>;
}

export interface Publisher {
  /**
   * Starts publishing over `nc`, the stream's replies coming under `inboxPrefix` (the
   * connection's); returns at once (the loop runs until stop).
   */
  start(nc: NatsConnection, inboxPrefix?: string): void;
  /** Stops sending; resolves when in-flight publishes have settled. Pending events stay in the outbox. */
  stop(): Promise<void>;
  /** Resolves true when the outbox is empty, false when `timeoutMs` passed first (graceful shutdown). */
  drain(timeoutMs: number): Promise<boolean>;
}

/** Derived ids tried after a collision before the event is given up (audit-logged). */
const MAX_REKEYS = 3;

/** A retry of the same event: everything equal but `ts` (a spool line re-read after a crash gets a new one). */
function sameEventBesidesTime(a: BustleEvent, b: BustleEvent): boolean {
  return (
    a.id === b.id &&
    a.node === b.node &&
    a.source === b.source &&
    a.kind === b.kind &&
    a.actor === b.actor &&
    a.text === b.text &&
    JSON.stringify(a.data ?? null) === JSON.stringify(b.data ?? null)
  );
}

export function createPublisher(opts: PublisherOptions): Publisher {
  const { outbox, log } = opts;
  const windowSize = opts.window ?? 256;
  const timeout = opts.ackTimeoutMs ?? 5_000;
  let running = false;
  let loop: Promise<void> | undefined;
  let streamPublisher: StreamPublisher | undefined;
  /**
   * Wakes the loop while it waits for new events (a submit, a failure or stop). One resolver,
   * not a Promise.race with long-lived promises: every race would leave a reaction on them,
   * one per idle wake-up, for as long as the relay runs.
   */
  let wakeIdle: (() => void) | undefined;
  /** Wakes the loop while it waits for a publish in flight to settle (a full window, or the end of a pass). */
  let wakeSettled: (() => void) | undefined;
  const untilSettled = () => new Promise<void>((r) => (wakeSettled = r));

  async function run(sp: StreamPublisher, js: JetStreamClient): Promise<void> {
    let backoff = 0;
    let failures = 0;
    while (running) {
      const failed = await publishUntilFailure(sp, js);
      if (!running) break;
      if (++failures % 5 === 0 && opts.recover)
        await opts.recover().catch((err) => log.warn("recovery step failed", { error: err }));
      backoff = Math.min(backoff ? backoff * 2 : 200, 2_000);
      log.warn("publish failed; pausing before re-sending", { error: failed, pause_ms: backoff, pending: outbox.size });
      await sleep(backoff);
    }
  }

  /**
   * Publishes pending events oldest first, and new ones as they are submitted, until a publish
   * fails (returns its error, once everything in flight has settled) or the publisher stops.
   */
  async function publishUntilFailure(sp: StreamPublisher, js: JetStreamClient): Promise<Error | undefined> {
    let inflight = 0;
    // Ids published and not yet forgotten by the outbox: never sent twice in one pass.
    const sent = new Set<string>();
    let acked: string[] = [];
    let failure: Error | undefined;
    let ackFlush: NodeJS.Immediate | undefined;
    const flushAcks = () => {
      ackFlush = undefined;
      if (!acked.length) return;
      outbox.ack(acked);
      for (const id of acked) sent.delete(id);
      acked = [];
    };
    const settled = () => {
      inflight--;
      const wake = wakeSettled;
      wakeSettled = undefined;
      wake?.();
    };
    const onFailed = (err: Error) => {
      failure ??= err;
      wakeIdle?.();
      settled();
    };

    let view = outbox.live();
    while (running && !failure) {
      const next = view.next();
      if (next.done) {
        flushAcks();
        if (running && !failure) {
          await new Promise<void>((r) => {
            wakeIdle = r;
            void outbox.whenAdded().then(r);
          });
        }
        wakeIdle = undefined;
        view = outbox.live();
        continue;
      }
      const event = next.value;
      if (sent.has(event.id)) continue;
      while (inflight >= windowSize && !failure) await untilSettled();
      if (failure || !running) break;
      sent.add(event.id);
      inflight++;
      publishOne(sp, js, event).then(() => {
        acked.push(event.id);
        ackFlush ??= setImmediate(flushAcks);
        settled();
      }, onFailed);
    }
    while (inflight > 0) await untilSettled();
    if (ackFlush) clearImmediate(ackFlush);
    flushAcks();
    return failure;
  }

  /** Publishes `e`; resolves once the stream holds it (a duplicate ack is looked at first). */
  function publishOne(sp: StreamPublisher, js: JetStreamClient, e: BustleEvent): Promise<void> {
    return sp
      .publish(subjectOf(e), encodeEvent(e), e.id)
      .then((ack) => (ack.duplicate ? onDuplicate(sp, js, e, ack) : undefined));
  }

  /**
   * After a duplicate ack: if the stream's message under `e`'s id is not a copy of `e` (a retry),
   * the id was taken; `e` goes out again under derived ids (a few times at most).
   */
  async function onDuplicate(
    sp: StreamPublisher,
    js: JetStreamClient,
    e: BustleEvent,
    first: StreamAck,
  ): Promise<void> {
    let event = e;
    let ack = first;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        ack = await sp.publish(subjectOf(event), encodeEvent(event), event.id);
        if (!ack.duplicate) return;
      }
      const holder = await storedAt(js, ack);
      if (holder === "ours") return;
      const again =
        attempt < MAX_REKEYS ? { ...event, id: stableEventId(opts.idKey, "collision", event.id) } : undefined;
      const details = {
        id: event.id,
        stored_seq: ack.seq,
        stored_subject: holder.subject,
        stored_node: holder.node,
        resent_as: again?.id ?? null,
      };
      log.error("event id collision: another message holds this event's id; re-sending under a new id", details);
      opts.audit.note("id-collision", { ...details, actor: e.actor, kind: e.kind, source: e.source });
      if (!again) return;
      event = again;
    }

    /** Whose message the stream holds at the duplicate's sequence. */
    async function storedAt(
      js: JetStreamClient,
      ack: StreamAck,
    ): Promise<"ours" | { subject: string | null; node: string | null }> {
      const jsm = await js.jetstreamManager(false);
      const stored = await jsm.streams.getMessage(STREAM_NAME, { seq: ack.seq }).catch(() => null);
      // Aged out (or deleted) since: nothing to compare with, and nothing of ours was displaced.
      if (!stored) return "ours";
      let other: BustleEvent | undefined;
      try {
        other = decodeEvent(stored.data);
      } catch {
        other = undefined;
      }
      if (other && stored.subject === subjectOf(event) && sameEventBesidesTime(other, event)) return "ours";
      return { subject: stored.subject, node: other?.node ?? null };
    }
  }

  return {
    start(nc, inboxPrefix) {
      if (running) return;
      running = true;
      const sp = createStreamPublisher(nc, { inboxPrefix, timeoutMs: timeout });
      streamPublisher = sp;
      loop = run(sp, jetstream(nc, { timeout })).catch((err) =>
        log.error("publisher stopped by an error", { error: err }),
      );
    },
    async stop() {
      running = false;
      wakeIdle?.();
      await Promise.race([loop, sleep(timeout + 1_000)]);
      streamPublisher?.close();
    },
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (outbox.size && Date.now() < deadline) await sleep(50);
      return outbox.size === 0;
    },
  };
}
