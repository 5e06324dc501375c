/**
 * Applies the feed's filters with the log index alongside: the backlog reads the index
 * backwards in step with the log, the live feed reads it forwards as lines arrive. The index is
 * written before its lines, so a line the follower hands on already has its record. When the
 * log is truncated or replaced the forward cursor starts again at the next line.
 */
import { closeSync } from "node:fs";
import { BackwardIndexCursor, ForwardIndexCursor, openIndexFd } from "../log-index.js";
import type { FeedFilter } from "./filter.js";
import type { LineFilter } from "./tail.js";

export class IndexedFilter {
  private forward: ForwardIndexCursor | undefined;
  private backFd: number | undefined;

  constructor(
    private readonly logPath: string,
    private readonly filter: { keep: FeedFilter; indexed: boolean },
  ) {}

  /** A filter for the backlog (lines asked newest first). */
  backlog(): LineFilter {
    if (this.filter.indexed) this.backFd ??= openIndexFd(this.logPath);
    const back = this.backFd !== undefined ? new BackwardIndexCursor(this.backFd) : undefined;
    return (line, offset) => this.filter.keep(line, back?.at(offset, line.length));
  }

  /** Whether to show a live line starting at `offset`. */
  live(line: Buffer, offset: number): boolean {
    if (!this.filter.indexed) return this.filter.keep(line, undefined);
    if (!this.forward) {
      const fd = openIndexFd(this.logPath);
      if (fd !== undefined) this.forward = new ForwardIndexCursor(fd, offset);
    }
    return this.filter.keep(line, this.forward?.at(offset, line.length));
  }

  /** The log was truncated or replaced: offsets start over. */
  reset(): void {
    this.forward?.close();
    this.forward = undefined;
  }

  close(): void {
    this.reset();
    if (this.backFd !== undefined) closeSync(this.backFd);
    this.backFd = undefined;
  }
}
