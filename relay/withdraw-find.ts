/**
 * Finding the event an admin means to withdraw in this node's own log: by id (through the log
 * index), or by a piece of its text within a recent span, refusing when several match.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { eachLineBackwards } from "./backward-lines.js";
import { BackwardIndexCursor, findIndexedEvent, indexPathOf } from "./log-index.js";
import { MARKER, WITHDRAW_KIND } from "../cluster/withdraw.js";

export interface Found {
  id: string;
  node: string;
  /** The log line as it is now. */
  line: string;
}

function open(path: string): number | undefined {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
}

const fields = (line: string) => {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  return { ts: line.slice(0, a), node: line.slice(a + 1, b), text: line.slice(b + 1) };
};

/** The event `id` in the log, or undefined. */
export function findById(logPath: string, id: string): Found | undefined {
  const idx = open(indexPathOf(logPath));
  const log = open(logPath);
  try {
    if (idx === undefined || log === undefined) return undefined;
    const e = findIndexedEvent(idx, id);
    if (!e) return undefined;
    const buf = Buffer.alloc(e.length);
    readSync(log, buf, 0, e.length, e.offset);
    const line = buf.toString("utf8");
    return { id, node: fields(line).node, line };
  } finally {
    if (idx !== undefined) closeSync(idx);
    if (log !== undefined) closeSync(log);
  }
}

/** Events of `node` stamped at or after `since` whose text contains `text` (any case), newest first. */
export function findByText(logPath: string, node: string, text: string, since: string): Found[] {
  const idx = open(indexPathOf(logPath));
  const log = open(logPath);
  const found: Found[] = [];
  try {
    if (idx === undefined || log === undefined) return found;
    const cursor = new BackwardIndexCursor(idx);
    const needle = text.toLowerCase();
    eachLineBackwards(log, fstatSync(log).size, (raw, offset) => {
      const line = raw.toString("utf8");
      const f = fields(line);
      if (f.ts < since) return false;
      const meta = cursor.at(offset, raw.length);
      if (
        meta &&
        meta.kind !== WITHDRAW_KIND &&
        f.node === node &&
        !f.text.startsWith(MARKER) &&
        f.text.toLowerCase().includes(needle)
      ) {
        found.push({ id: meta.id, node: f.node, line });
      }
      return true;
    });
    return found;
  } finally {
    if (idx !== undefined) closeSync(idx);
    if (log !== undefined) closeSync(log);
  }
}
