/**
 * Withdrawn events a bot must never be handed, even when it replays the stream from an old
 * position: before its feed starts, the host reads every withdrawal in the stream (a filtered
 * consumer on `bustle.ev.*.admin.withdraw`: they are rare), and it adds the ones that arrive
 * while it runs. An event is skipped when an allowed withdrawal (cluster/withdraw.ts) names it.
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEvent, type BustleEvent } from "../../cluster/envelope.js";
import { EVENT_SUBJECT_PREFIX, STREAM_NAME } from "../../cluster/names.js";
import { mayWithdraw, WITHDRAW_KIND, WITHDRAW_SOURCE, withdrawalOf, type Withdrawal } from "../../cluster/withdraw.js";

export const WITHDRAWALS_SUBJECT = `${EVENT_SUBJECT_PREFIX}.*.${WITHDRAW_SOURCE}.${WITHDRAW_KIND}`;

export class WithdrawnSet {
  private readonly byTarget = new Map<string, Withdrawal>();

  /** Notes `e` if it is a withdrawal. */
  note(e: BustleEvent): void {
    const w = withdrawalOf(e);
    if (w) this.byTarget.set(w.target, w);
  }

  /** True when `e` was withdrawn by its node's admin or the federation's. */
  hides(e: BustleEvent): boolean {
    const w = this.byTarget.get(e.id);
    return w !== undefined && mayWithdraw(w, e.node);
  }

  get size(): number {
    return this.byTarget.size;
  }
}

/** Every withdrawal now in the stream. */
export async function loadWithdrawn(nc: NatsConnection, set = new WithdrawnSet()): Promise<WithdrawnSet> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(STREAM_NAME, {
    filter_subjects: WITHDRAWALS_SUBJECT,
    deliver_policy: DeliverPolicy.All,
  });
  for (;;) {
    const { num_pending } = await consumer.info();
    if (num_pending === 0) break;
    const batch = await consumer.fetch({ max_messages: Math.min(num_pending, 1000), expires: 2_000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      try {
        set.note(decodeEvent(m.data));
      } catch {
        // not an envelope: the log writers skip it too
      }
    }
    if (got === 0) break;
  }
  return set;
}
