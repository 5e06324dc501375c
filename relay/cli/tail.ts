/**
 * The last N lines of a log, read backwards from its end in chunks: showing the tail of a
 * 200 MB bustle.log costs one or two reads, not the whole file. Lines are raw bytes, so a plain
 * feed can print them exactly as they are in the log.
 */
import { eachLineBackwards, MAX_LINE_BYTES } from "../backward-lines.js";

export { MAX_LINE_BYTES };

/** Keeps a line (raw bytes, without its newline, starting at `offset` in the file) or drops it. */
export type LineFilter = (line: Buffer, offset: number) => boolean;

export interface TailResult {
  /** The last `n` complete lines that passed the filter, oldest first. */
  lines: Buffer[];
  /** File offset just after the last complete line: where following starts. */
  end: number;
}

/**
 * Reads the last `n` complete lines of the open file `fd`, whose size is `size`, keeping only
 * lines `keep` accepts. A trailing line without its newline yet is left for the follower. With a
 * filter that rarely matches this may read far back; without one it reads about n lines' worth.
 */
export function readTail(fd: number, size: number, n: number, keep?: LineFilter, chunkSize = 64 * 1024): TailResult {
  const found: Buffer[] = []; // newest first
  const { end } = eachLineBackwards(
    fd,
    size,
    (line, offset) => {
      if (n === 0) return false;
      if (!keep || keep(line, offset)) found.push(line);
      return found.length < n;
    },
    chunkSize,
  );
  return { lines: found.reverse(), end };
}
