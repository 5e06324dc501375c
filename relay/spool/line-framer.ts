/**
 * Line framing for an append-only file: bytes go in as they are read, complete lines come out
 * with their byte offsets. Only bytes up to a `\n` ever form a line, so a line that is still
 * being written is held back until its end arrives. A line longer than `maxLineBytes` is never
 * buffered whole: once it passes the limit the framer only looks for its end and reports it as
 * refused.
 */

/** One framed line: `start` is the offset of its first byte, `end` the offset after its `\n`. */
export type FramedLine =
  | { kind: "line"; start: number; end: number; bytes: Buffer }
  | { kind: "too-long"; start: number; end: number };

const NEWLINE = 0x0a;

export class LineFramer {
  /** Offset of the first byte not yet part of a complete line (the line in progress). */
  private lineStart: number;
  /** Offset of the next byte expected by `push`. */
  private scanPos: number;
  /** Bytes of the line in progress (never more than maxLineBytes). */
  private carry: Buffer = Buffer.alloc(0);
  /** True while skipping a line that is already over the limit. */
  private skipping = false;

  /** `skipping`: the bytes at `offset` belong to a line already known to be too long. */
  constructor(
    private readonly maxLineBytes: number,
    offset: number,
    skipping = false,
  ) {
    this.lineStart = offset;
    this.scanPos = offset;
    this.skipping = skipping;
  }

  /** Bytes of the too-long line being skipped so far (0 when not skipping). */
  get skipped(): number {
    return this.skipping ? this.scanPos - this.lineStart : 0;
  }

  /**
   * Gives up reading a runaway line (a sparse file can claim terabytes): the bytes up to `to`
   * are treated as read; the line still ends at the next newline after `to`.
   */
  skipAhead(to: number): void {
    if (this.skipping && to > this.scanPos) this.scanPos = to;
  }

  /** Where the next read must start. */
  get position(): number {
    return this.scanPos;
  }

  /** The offset after the last complete line: safe to persist, a restart resumes there. */
  get committed(): number {
    return this.lineStart;
  }

  /** Feeds `chunk`, read at `at` (which must equal `position`), and returns the lines it completes. */
  push(chunk: Buffer, at: number): FramedLine[] {
    if (at !== this.scanPos) throw new RangeError(`framer expected offset ${this.scanPos}, got ${at}`);
    const out: FramedLine[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl < 0) break;
      const end = at + nl + 1;
      const pieceLen = this.carry.length + (nl - from);
      if (this.skipping || pieceLen > this.maxLineBytes) {
        out.push({ kind: "too-long", start: this.lineStart, end });
      } else {
        const bytes = this.carry.length
          ? Buffer.concat([this.carry, chunk.subarray(from, nl)])
          : Buffer.from(chunk.subarray(from, nl));
        out.push({ kind: "line", start: this.lineStart, end, bytes });
      }
      this.carry = Buffer.alloc(0);
      this.skipping = false;
      this.lineStart = end;
      from = nl + 1;
    }
    const rest = chunk.subarray(from);
    if (!this.skipping && rest.length) {
      if (this.carry.length + rest.length > this.maxLineBytes) {
        // Over the limit without an end in sight: stop keeping its bytes.
        this.skipping = true;
        this.carry = Buffer.alloc(0);
      } else {
        this.carry = Buffer.concat([this.carry, rest]);
      }
    }
    this.scanPos = at + chunk.length;
    return out;
  }
}
