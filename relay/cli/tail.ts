/**
 * The last N lines of a log, read backwards from its end in chunks: showing the tail of a
 * 200 MB bustle.log costs one or two reads, not the whole file. Lines are raw bytes, so a plain
 * feed can print them exactly as they are in the log.
 */
import { readSync } from "node:fs";

/** Longer lines are skipped (bustle.log lines are a few hundred bytes; this bounds memory). */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Keeps a line (raw bytes, without its newline) or drops it. */
export type LineFilter = (line: Buffer) => boolean;

export interface TailResult {
  /** The last `n` complete lines that passed the filter, oldest first. */
  lines: Buffer[];
  /** File offset just after the last complete line: where following starts. */
  end: number;
}

function readAt(fd: number, buf: Buffer, len: number, pos: number): void {
  let got = 0;
  while (got < len) {
    const r = readSync(fd, buf, got, len - got, pos + got);
    if (r === 0) throw new Error(`log shrank while being read (at ${pos + got})`);
    got += r;
  }
}

/**
 * Reads the last `n` complete lines of the open file `fd`, whose size is `size`, keeping only
 * lines `keep` accepts. A trailing line without its newline yet is left for the follower. With a
 * filter that rarely matches this may read far back; without one it reads about n lines' worth.
 */
export function readTail(fd: number, size: number, n: number, keep?: LineFilter, chunkSize = 64 * 1024): TailResult {
  const found: Buffer[] = []; // newest first
  let end = -1;
  let frags: Buffer[] = []; // pieces of the line being assembled, later pieces first
  let fragBytes = 0;
  let tooLong = false;
  let pos = size;
  let full = false;
  const buf = Buffer.allocUnsafe(chunkSize);
  while (pos > 0 && !full) {
    const len = Math.min(chunkSize, pos);
    pos -= len;
    readAt(fd, buf, len, pos);
    const chunk = buf.subarray(0, len);
    let segEnd = len;
    if (end < 0) {
      const nl = chunk.lastIndexOf(0x0a);
      if (nl < 0) continue; // still inside the unfinished last line
      end = pos + nl + 1;
      segEnd = nl;
      if (n === 0) break;
    }
    for (;;) {
      const nl = segEnd > 0 ? chunk.lastIndexOf(0x0a, segEnd - 1) : -1;
      if (nl < 0) {
        fragBytes += segEnd;
        if (fragBytes > MAX_LINE_BYTES) tooLong = true;
        if (!tooLong) frags.push(Buffer.from(chunk.subarray(0, segEnd)));
        break;
      }
      const skip = tooLong || fragBytes + segEnd - nl - 1 > MAX_LINE_BYTES;
      const line = skip ? undefined : Buffer.concat([chunk.subarray(nl + 1, segEnd), ...frags.reverse()]);
      frags = [];
      fragBytes = 0;
      tooLong = false;
      segEnd = nl;
      if (line && (!keep || keep(line))) {
        found.push(line);
        if (found.length >= n) {
          full = true;
          break;
        }
      }
    }
  }
  // Reached the start of the file: what is left is the file's first line.
  if (!full && pos === 0 && end >= 0 && n > 0 && !tooLong) {
    const first = Buffer.concat(frags.reverse());
    if (!keep || keep(first)) found.push(first);
  }
  return { lines: found.reverse(), end: Math.max(end, 0) };
}
