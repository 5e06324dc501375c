/**
 * Withdrawal: an admin takes an event back everywhere. The withdrawal is itself an event, on the
 * withdrawing node's own subjects, so the bus's permissions decide who may send one:
 *
 *   subject  bustle.ev.<node>.admin.withdraw
 *   envelope {"node":<node>,"source":"admin","kind":"withdraw","actor":<admin's login>,
 *             "text":"-- an event of <target node> was withdrawn by <node>'s admin[: reason] --",
 *             "data":{"target":<event id>,"reason":<text|null>}}
 *
 * Every consumer honours it only when the target event's node is the withdrawing node, or when it
 * comes from the federation admin (node `admin`, a reserved id): a member can withdraw its own
 * events and nobody else's. Its text starts with `-- ` like the log's other notes.
 */
import { makeEvent, type BustleEvent } from "./envelope.js";
import { safeText } from "./text.js";

export const WITHDRAW_SOURCE = "admin";
export const WITHDRAW_KIND = "withdraw";
/** The federation admin's node id in withdrawals (reserved: no member may take it). */
export const FEDERATION_ADMIN_NODE = "admin";
export const MARKER = "-- withdrawn ";

export interface Withdrawal {
  /** The withdrawing node. */
  node: string;
  target: string;
  reason: string | null;
  by: string | null;
}

/** The withdrawal an event carries, or undefined when it is not a well-formed one. */
export function withdrawalOf(e: BustleEvent): Withdrawal | undefined {
  if (e.kind !== WITHDRAW_KIND || e.source !== WITHDRAW_SOURCE) return undefined;
  const target = e.data?.target;
  if (typeof target !== "string" || !/^[A-Za-z0-9_-]{8,64}$/.test(target)) return undefined;
  const reason = typeof e.data?.reason === "string" ? e.data.reason : null;
  return { node: e.node, target, reason, by: e.actor };
}

/** Whether a withdrawal from `w.node` may take back an event of `targetNode`. */
export const mayWithdraw = (w: Withdrawal, targetNode: string): boolean =>
  w.node === targetNode || w.node === FEDERATION_ADMIN_NODE;

/** `targetNode` undefined: the sender does not know it (the federation admin without a log); consumers check it. */
export function makeWithdrawal(o: {
  node: string;
  targetNode?: string | undefined;
  target: string;
  reason?: string | undefined;
  by: string | null;
}): BustleEvent {
  const reason = o.reason ? safeText(o.reason, 200) : null;
  const who = o.node === FEDERATION_ADMIN_NODE ? "the federation's admin" : `${o.node}'s admin`;
  return makeEvent({
    node: o.node,
    source: WITHDRAW_SOURCE,
    kind: WITHDRAW_KIND,
    actor: o.by,
    text: `-- an event${o.targetNode ? ` of ${o.targetNode}` : ""} was withdrawn by ${who}${reason ? `: ${reason}` : ""} --`,
    data: { target: o.target, reason },
  });
}

/**
 * The bytes that replace a withdrawn line's text (`bytes` long, so the log keeps its size and
 * every reader's offsets): `-- withdrawn -----…`, or dashes only when the text is shorter.
 */
export function blankText(bytes: number): string {
  return bytes >= MARKER.length + 2 ? MARKER + "-".repeat(bytes - MARKER.length) : "-".repeat(bytes);
}
