/**
 * "While you were away": what bustle.log holds since a moment, read backwards from its end and
 * stopping at the first older line, so a digest of the last hour of a 1 GB log reads the last
 * hour only. Kinds and actors come from the log index (relay/log-index.ts); the user's mutes
 * apply, so the digest never shows what the feed would hide.
 */
import { BackwardIndexCursor } from "../log-index.js";
import { eachLineBackwards } from "../backward-lines.js";
import { WITHDRAW_KIND, WITHDRAW_SOURCE } from "../../cluster/withdraw.js";
import type { FeedFilter } from "./filter.js";

export const SHOWN_SHOUTS = 3;

export interface DigestSummary {
  events: number;
  /** Events per kind (`other` for lines the index does not cover). */
  kinds: Map<string, number>;
  /** Users seen, with how many events each. */
  users: Map<string, number>;
  nodes: Set<string>;
  /** The last few shouts, oldest first. */
  shouts: Array<{ ts: string; node: string; text: string }>;
}

/** Summarises the lines of `fd` (size `size`) stamped at or after `since` (ISO); `indexFd` may be undefined. */
export function summarise(
  fd: number,
  size: number,
  since: string,
  indexFd: number | undefined,
  keep?: FeedFilter,
): DigestSummary {
  const s: DigestSummary = { events: 0, kinds: new Map(), users: new Map(), nodes: new Set(), shouts: [] };
  const index = indexFd !== undefined ? new BackwardIndexCursor(indexFd) : undefined;
  eachLineBackwards(fd, size, (line, offset) => {
    const text = line.toString("utf8");
    const a = text.indexOf(" ");
    const b = text.indexOf(" ", a + 1);
    if (a < 0 || b < 0) return true;
    const ts = text.slice(0, a);
    if (ts < since) return false; // ISO timestamps compare as strings
    const node = text.slice(a + 1, b);
    const body = text.slice(b + 1);
    if (body.startsWith("-- ")) return true; // gap notes and withdrawn lines are not events
    const meta = index?.at(offset, line.length);
    if (meta?.kind === WITHDRAW_KIND && meta.source === WITHDRAW_SOURCE) return true; // bookkeeping, not news
    if (keep && !keep(line, meta)) return true;
    const kind = meta?.kind ?? "other";
    s.events++;
    s.kinds.set(kind, (s.kinds.get(kind) ?? 0) + 1);
    s.nodes.add(node);
    const user = meta ? meta.actor : /^~([A-Za-z0-9_.-]{1,64})[ ']/.exec(body)?.[1];
    if (user && (!meta || meta.source === "spool" || meta.source === "fs"))
      s.users.set(user, (s.users.get(user) ?? 0) + 1);
    if (kind === "shout" && s.shouts.length < SHOWN_SHOUTS) s.shouts.unshift({ ts, node, text: body });
    return true;
  });
  return s;
}
