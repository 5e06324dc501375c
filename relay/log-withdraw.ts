/**
 * Withdrawals in bustle.log: the writer hands each withdrawal event here after the batch that
 * holds it is written; the target's line (found through the log index) has its text overwritten
 * in place by a marker of exactly the same byte length. Every node does the same to the same
 * bytes, so the logs stay byte-identical, and readers' offsets stay valid. Each outcome is
 * audit-logged (who withdrew what, when and why — or why it was refused).
 *
 * The marker is written like the log's own lines: a short or failed write is a disk fault,
 * thrown for the writer to retry (writing the same bytes again completes it); nothing is said
 * withdrawn until every byte is. Any other failure is logged and audited, never thrown.
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { blankText, mayWithdraw, type Withdrawal } from "../cluster/withdraw.js";
import type { Logger } from "../cluster/logger.js";
import type { Audit } from "./audit.js";
import { isDiskError } from "./disk-fault.js";
import { overwriteAllSync } from "./durable-file.js";
import { findIndexedEvent, indexPathOf } from "./log-index.js";

/** Applies `w` to the log at `logPath`; throws only a disk fault (retry it: it is idempotent). */
export function applyWithdrawal(logPath: string, w: Withdrawal, audit: Audit, log: Logger): void {
  try {
    blank(logPath, w, audit, log);
  } catch (err) {
    if (isDiskError(err)) throw err;
    log.error("cannot apply a withdrawal; its target stays in bustle.log", { target: w.target, error: err });
    audit.note("withdrawal not applied", {
      target: w.target,
      by_node: w.node,
      by: w.by,
      why: w.reason,
      error: (err as Error).message,
    });
  }
}

function blank(logPath: string, w: Withdrawal, audit: Audit, log: Logger): void {
  const facts = { target: w.target, by_node: w.node, by: w.by, why: w.reason };
  let idx: number;
  try {
    idx = openSync(indexPathOf(logPath), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    audit.note("withdrawal of an event this log does not index", facts);
    return;
  }
  let entry;
  try {
    entry = findIndexedEvent(idx, w.target);
  } finally {
    closeSync(idx);
  }
  if (!entry) {
    audit.note("withdrawal of an event this log does not index", facts);
    return;
  }
  // Not O_APPEND: positioned writes must land where the line is.
  const fd = openSync(logPath, constants.O_RDWR | constants.O_NOFOLLOW);
  try {
    const line = Buffer.alloc(entry.length + 1);
    if (readSync(fd, line, 0, line.length, entry.offset) !== line.length || line[entry.length] !== 0x0a) {
      audit.note("withdrawal target's line is not where the index says; left alone", facts);
      return;
    }
    const a = line.indexOf(0x20);
    const b = a < 0 ? -1 : line.indexOf(0x20, a + 1);
    if (b < 0 || b >= entry.length) return;
    const node = line.subarray(a + 1, b).toString("utf8");
    if (!mayWithdraw(w, node)) {
      audit.rejected(
        "withdrawal-not-allowed",
        { origin: `bustle.ev.${w.node}`, actor: w.by },
        { target: w.target, target_node: node, why: w.reason },
      );
      log.warn("refused a withdrawal of another node's event", {
        by_node: w.node,
        target_node: node,
        target: w.target,
      });
      return;
    }
    const marker = Buffer.from(blankText(entry.length - b - 1), "utf8");
    overwriteAllSync(fd, marker, entry.offset + b + 1, logPath);
    audit.note("withdrawn", {
      ...facts,
      target_node: node,
      kind: entry.kind,
      actor: entry.actor,
      offset: entry.offset,
      bytes: entry.length,
    });
  } finally {
    closeSync(fd);
  }
}
