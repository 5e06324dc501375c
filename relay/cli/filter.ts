/**
 * The feed's filters. From the line alone: `--node ID` (its second field) and `--grep TEXT` (any
 * case). From the log index (bustle.log.idx, see relay/log-index.ts): `--kind`, `--not-kind` and
 * the user's mute list, because a log line holds neither kind nor actor nor source. A line the
 * index does not cover has no known kind: `--kind` drops it, `--not-kind` keeps it.
 */
import type { IndexEntry } from "../log-index.js";
import { muteMatcher, needsIndex } from "./mute-list.js";

export interface FilterOptions {
  node?: string | undefined;
  grep?: string | undefined;
  kind?: string[] | undefined;
  notKind?: string[] | undefined;
  /** Canonical mute names (none with --all). */
  mute?: readonly string[] | undefined;
}

/** Keeps a line, given its index record when there is one. */
export type FeedFilter = (line: Buffer, meta: IndexEntry | undefined) => boolean;

/** The node field of `<ts> <node> <text>`, or undefined for a line of another shape. */
export function nodeOf(line: Buffer): string | undefined {
  const a = line.indexOf(0x20);
  if (a < 0) return undefined;
  const b = line.indexOf(0x20, a + 1);
  return line.subarray(a + 1, b < 0 ? line.length : b).toString("utf8");
}

/** The line-only filter (--node, --grep), or undefined when every line is kept. */
export function makeFilter(opts: FilterOptions): ((line: Buffer) => boolean) | undefined {
  const node = opts.node?.toLowerCase();
  const grep = opts.grep?.toLowerCase();
  if (!node && !grep) return undefined;
  return (line) => {
    if (node && nodeOf(line) !== node) return false;
    if (grep && !line.toString("utf8").toLowerCase().includes(grep)) return false;
    return true;
  };
}

/** Every filter of the feed; `indexed` says whether it needs the log index. Undefined: keep all. */
export function makeFeedFilter(opts: FilterOptions): { keep: FeedFilter; indexed: boolean } | undefined {
  const byLine = makeFilter(opts);
  const kinds = opts.kind?.length ? new Set(opts.kind) : undefined;
  const notKinds = opts.notKind?.length ? new Set(opts.notKind) : undefined;
  const mute = opts.mute?.length ? opts.mute : undefined;
  if (!byLine && !kinds && !notKinds && !mute) return undefined;
  const muted = mute ? muteMatcher(mute) : undefined;
  return {
    indexed: kinds !== undefined || notKinds !== undefined || (mute !== undefined && needsIndex(mute)),
    keep: (line, meta) => {
      if (byLine && !byLine(line)) return false;
      if (kinds && !(meta && kinds.has(meta.kind))) return false;
      if (notKinds && meta && notKinds.has(meta.kind)) return false;
      if (muted?.(line.toString("utf8"), nodeOf(line), meta)) return false;
      return true;
    },
  };
}
