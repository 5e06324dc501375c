/**
 * The portal's withdrawals (cluster/withdraw.ts): events taken back by their node's admin (or
 * the federation's) leave the history, the API, the Atom feed and open pages, and are never
 * served again from a later read of the stream. A withdrawal counts only against an event of the
 * withdrawing node (or from the federation admin); the check is made against the event itself.
 */
import type { BustleEvent } from "../../cluster/envelope.js";
import { mayWithdraw, withdrawalOf, type Withdrawal } from "../../cluster/withdraw.js";
import type { Entry, History } from "./history.js";

/** How many withdrawals are remembered (they are rare; the oldest are forgotten first). */
const KEEP = 10_000;

export class Withdrawals {
  private readonly byTarget = new Map<string, Withdrawal>();

  /** True when this event has been withdrawn (by someone allowed to). */
  hides(e: BustleEvent): boolean {
    const w = this.byTarget.get(e.id);
    return w !== undefined && mayWithdraw(w, e.node);
  }

  /**
   * Notes a withdrawal event and takes its target out of `history`; returns the target's id when
   * an allowed withdrawal removed it (to tell open pages), else undefined.
   */
  observe(e: BustleEvent, history: History): string | undefined {
    const w = withdrawalOf(e);
    if (!w) return undefined;
    this.byTarget.set(w.target, w);
    if (this.byTarget.size > KEEP) this.byTarget.delete(this.byTarget.keys().next().value!);
    const target = history.find(w.target);
    if (!target || !mayWithdraw(w, target.event.node)) return undefined;
    history.remove(w.target);
    return w.target;
  }

  /** Entries read from the stream, without the withdrawn ones. */
  filter(entries: Entry[]): Entry[] {
    return entries.filter((x) => !this.hides(x.event));
  }
}
