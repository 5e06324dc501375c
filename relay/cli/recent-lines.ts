/**
 * The feed's memory of the last lines it passed, with their offsets, so that when the log
 * shrinks it can tell where the new content starts. The relay cuts an unrecorded tail off the
 * log after a crash and writes those events again (the same bytes): lines that still match, or
 * come back the same at the same place, are not shown twice; whatever differs or is new is. A rotated (copytruncated) log is small and
 * unrelated to what was seen: it is read from its start.
 */
import { readSync } from "node:fs";
import { readTail } from "./tail.js";

/** A shrunken log this small with nothing recognisable in it is a fresh one: read it whole. */
export const FRESH_LOG_BYTES = 16 * 1024;
const KEEP = 64;

interface Seen {
  offset: number;
  line: Buffer;
}

function readExactly(fd: number, len: number, pos: number): Buffer | undefined {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const r = readSync(fd, buf, got, len - got, pos + got);
    if (r === 0) return undefined;
    got += r;
  }
  return buf;
}

export class RecentLines {
  private seen: Seen[] = [];
  /** Lines seen past the cut: when the same bytes come back at the same place they are repeats. */
  private pending: Seen[] = [];

  clear(): void {
    this.seen = [];
    this.pending = [];
  }

  /** True when this line (at `offset`) is one already shown before the log was cut back. */
  isRepeat(offset: number, line: Buffer): boolean {
    const p = this.pending[0];
    if (p && p.offset === offset && p.line.equals(line)) {
      this.pending.shift();
      return true;
    }
    this.pending = [];
    return false;
  }

  /** A line that started at `offset` (its newline follows it). */
  add(offset: number, line: Buffer): void {
    this.seen.push({ offset, line });
    if (this.seen.length > KEEP) this.seen.splice(0, this.seen.length - KEEP);
  }

  /** Remembers the lines just before `end` in `fd` (the tail the feed showed at start). */
  seed(fd: number, end: number): void {
    let lines: Buffer[];
    try {
      ({ lines } = readTail(fd, end, KEEP));
    } catch {
      // Cut back before we could look: nothing to recognise; the follower starts over from the cut.
      this.seen = [];
      return;
    }
    let offset = end;
    const found: Seen[] = [];
    for (let i = lines.length - 1; i >= 0; i--) {
      offset -= lines[i]!.length + 1;
      found.unshift({ offset, line: lines[i]! });
    }
    this.seen = found;
  }

  /** Where to read on after the log (open as `fd`) shrank to `size`; forgets what is past it. */
  resumePoint(fd: number, size: number): number {
    let at: number | undefined;
    let kept = 0;
    for (const s of this.seen) {
      if (s.offset > size) break;
      const end = s.offset + s.line.length + 1;
      const now = end <= size ? readExactly(fd, s.line.length + 1, s.offset) : undefined;
      if (now?.[s.line.length] !== 0x0a || !now.subarray(0, s.line.length).equals(s.line)) {
        at = s.offset;
        break;
      }
      at = end;
      kept++;
    }
    this.pending = this.seen.slice(kept);
    this.seen = this.seen.slice(0, kept);
    if (at !== undefined) return at;
    if (size <= FRESH_LOG_BYTES) return 0;
    // Nothing to recognise and too big to be fresh: go on from its last line boundary.
    const len = Math.min(size, 64 * 1024);
    const tail = readExactly(fd, len, size - len);
    const nl = tail ? tail.lastIndexOf(0x0a) : -1;
    return nl < 0 ? size : size - len + nl + 1;
  }
}
