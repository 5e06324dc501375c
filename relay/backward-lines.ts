/**
 * Reading a line-oriented file backwards from its end in chunks, with each line's offset: the
 * feed's tail, `bustle digest` and the log index all stop after a few lines of a 1 GB file
 * instead of reading it whole. Lines are raw bytes (without their newline).
 */
import { readSync } from "node:fs";

/** Longer lines are skipped (bustle.log lines are a few hundred bytes; this bounds memory). */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Receives a complete line and its offset; returns false to stop reading. */
export type BackwardVisitor = (line: Buffer, offset: number) => boolean;

function readAt(fd: number, buf: Buffer, len: number, pos: number): void {
  let got = 0;
  while (got < len) {
    const r = readSync(fd, buf, got, len - got, pos + got);
    if (r === 0) throw new Error(`file shrank while being read (at ${pos + got})`);
    got += r;
  }
}

/**
 * Visits the complete lines of the open file `fd` (of `size` bytes), last first, until `visit`
 * returns false or the start is reached. A trailing line without its newline is not visited.
 * Returns `end`, the offset just after the last complete line (0 when there is none).
 */
export function eachLineBackwards(
  fd: number,
  size: number,
  visit: BackwardVisitor,
  chunkSize = 64 * 1024,
): { end: number } {
  let end = -1;
  let frags: Buffer[] = []; // pieces of the line being assembled, later pieces first
  let fragBytes = 0;
  let tooLong = false;
  let pos = size;
  let stopped = false;
  const buf = Buffer.allocUnsafe(chunkSize);
  while (pos > 0 && !stopped) {
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
      if (line && !visit(line, pos + nl + 1)) {
        stopped = true;
        break;
      }
    }
  }
  // Reached the start of the file: what is left is the file's first line.
  if (!stopped && pos === 0 && end >= 0 && !tooLong) visit(Buffer.concat(frags.reverse()), 0);
  return { end: Math.max(end, 0) };
}
