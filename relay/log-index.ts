/**
 * The log index: `bustle.log.idx`, one text record per bustle.log line, written by the log writer
 * just before the lines themselves:
 *
 *   <offset> <length> <id> <source> <kind> <actor or ->\n
 *
 * bustle.log holds only `<ts> <node> <text>`, so the index is where readers find what a line
 * does not say: its event id (withdrawal finds the bytes to blank), kind, source and actor (the
 * feed's `--kind` and mute filters). Records are in log order. Because each is written before
 * its line, a reader that sees a line finds its record; a record whose line never made it (a
 * crash) is cut when the writer starts again. Lines with no record (written before the index
 * existed, gap markers) are simply unindexed. The index is world-readable like the log: it says
 * nothing the stream does not (anonymous events have actor `-`).
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { eachLineBackwards } from "./backward-lines.js";
import { appendAllSync } from "./durable-file.js";

export const indexPathOf = (logPath: string): string => `${logPath}.idx`;

/** What the index knows about one event's line beyond its text. */
export interface IndexMeta {
  id: string;
  source: string;
  kind: string;
  actor: string | null;
}

/** One record: the line at `offset` in bustle.log, `length` bytes without its newline. */
export interface IndexEntry extends IndexMeta {
  offset: number;
  length: number;
}

/** Parses one record; undefined for anything malformed (a reader never trusts the file blindly). */
export function parseIndexRecord(line: Buffer | string): IndexEntry | undefined {
  const s = typeof line === "string" ? line : line.toString("utf8");
  const m = /^(\d{1,15}) (\d{1,9}) (\S+) (\S+) (\S+) (.+)$/.exec(s);
  if (!m) return undefined;
  return {
    offset: Number(m[1]),
    length: Number(m[2]),
    id: m[3]!,
    source: m[4]!,
    kind: m[5]!,
    actor: m[6] === "-" ? null : m[6]!,
  };
}

function formatRecord(offset: number, length: number, m: IndexMeta): string {
  return `${offset} ${length} ${m.id} ${m.source} ${m.kind} ${m.actor ?? "-"}\n`;
}

/** The writer's side. The log writer owns it and closes it with the log. */
export interface LogIndexWriter {
  /**
   * Records `lines` (each ending in "\n"), about to be appended to the log at `start`; metas[i]
   * undefined = unindexed. All of them or none: a failed or short write is cut back to the
   * last whole record (at once, or before the next append if that cut fails too) and thrown,
   * for the caller to retry as it retries the log's own appends. `oneByte`: the caller knows every
   * character of `lines` is one byte in UTF-8 (ASCII), so their lengths are their byte lengths.
   */
  append(start: number, lines: readonly string[], metas: ReadonlyArray<IndexMeta | undefined>, oneByte?: boolean): void;
  /** The index's size: a mark to `cutTo` when the lines recorded after it are not written after all. */
  readonly size: number;
  cutTo(size: number): void;
  close(): Promise<void>;
}

/**
 * Opens the index beside `logPath` for a log now `logSize` bytes long. `fresh` (the log was
 * replaced) starts it over; otherwise records past the log's end (a crash between index and
 * log) are cut, so offsets written again are recorded once.
 */
export async function openLogIndexWriter(logPath: string, logSize: number, fresh: boolean): Promise<LogIndexWriter> {
  const path = indexPathOf(logPath);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  let keep = 0;
  try {
    if (!fresh) {
      eachLineBackwards(fd, fstatSync(fd).size, (line, offset) => {
        const e = parseIndexRecord(line);
        if (e && e.offset + e.length + 1 <= logSize) {
          keep = offset + line.length + 1;
          return false;
        }
        return true;
      });
    }
    if (fstatSync(fd).size !== keep) ftruncateSync(fd, keep);
  } finally {
    closeSync(fd);
  }
  const fh: FileHandle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  await fh.chmod(0o644);
  let size = keep;
  /** True after a failed append whose cut failed too: bytes past `size` may be a partial record. */
  let torn = false;
  const cutTo = (to: number) => {
    ftruncateSync(fh.fd, to);
    size = to;
    torn = false;
  };
  return {
    append(start, lines, metas, oneByte = false) {
      let at = start;
      let text = "";
      for (let i = 0; i < lines.length; i++) {
        const bytes = oneByte ? lines[i]!.length : Buffer.byteLength(lines[i]!);
        const m = metas[i];
        if (m) text += formatRecord(at, bytes - 1, m);
        at += bytes;
      }
      if (!text) return;
      if (torn) cutTo(size);
      try {
        size += appendAllSync(fh, text, path); // synchronous: cheaper than a thread-pool round trip per batch
      } catch (err) {
        torn = true; // readers skip a torn last record; it is cut before anything follows it
        try {
          cutTo(size);
        } catch {
          // cut before the next append
        }
        throw err;
      }
    },
    get size() {
      return size;
    },
    cutTo,
    close: () => fh.close(),
  };
}

/** Opens the index of `logPath` for reading; undefined when there is none (or it is unreadable). */
export function openIndexFd(logPath: string): number | undefined {
  try {
    const fd = openSync(indexPathOf(logPath), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (fstatSync(fd).isFile()) return fd;
    closeSync(fd);
  } catch {
    // no index: every line is unindexed
  }
  return undefined;
}

/**
 * Answers "which record belongs to the log line at OFFSET?" for offsets asked in descending
 * order (a backwards read of the log), reading the index backwards alongside, a few hundred
 * records at a time.
 */
export class BackwardIndexCursor {
  private upTo: number;
  private queue: IndexEntry[] = [];

  constructor(private readonly fd: number) {
    this.upTo = fstatSync(fd).size;
  }

  /** The record of the line at `offset` whose length is `length`, if the index has it. */
  at(offset: number, length: number): IndexEntry | undefined {
    for (;;) {
      if (this.queue.length === 0 && !this.refill()) return undefined;
      const e = this.queue[0]!;
      if (e.offset > offset) {
        this.queue.shift();
        continue;
      }
      if (e.offset < offset) return undefined; // this line has no record
      this.queue.shift();
      return e.length === length ? e : undefined;
    }
  }

  private refill(): boolean {
    if (this.upTo <= 0) return false;
    let first = this.upTo;
    const { end } = eachLineBackwards(this.fd, this.upTo, (line, offset) => {
      const e = parseIndexRecord(line);
      if (e) this.queue.push(e);
      first = offset;
      return this.queue.length < 512;
    });
    // A torn last record (no newline yet) is skipped; nothing more to read when none was found.
    if (end === 0 || first === this.upTo) {
      this.upTo = 0;
      return this.queue.length > 0;
    }
    this.upTo = first;
    return true;
  }
}

/** The records of lines at or after a log offset, read forwards as the log grows (the live feed). */
export class ForwardIndexCursor {
  private pos = 0;
  private partial = "";
  private queue: IndexEntry[] = [];
  private readonly buf = Buffer.allocUnsafe(64 * 1024);

  /** Positions the cursor at the first record for a line at or after `logOffset`. */
  constructor(
    private readonly fd: number,
    logOffset: number,
  ) {
    eachLineBackwards(fd, fstatSync(fd).size, (line, offset) => {
      const e = parseIndexRecord(line);
      if (e && e.offset < logOffset) {
        this.pos = offset + line.length + 1;
        return false;
      }
      return true;
    });
  }

  /** The record of the line at `offset` (asked in ascending order), if the index has it. */
  at(offset: number, length: number): IndexEntry | undefined {
    for (;;) {
      while (this.queue.length && this.queue[0]!.offset < offset) this.queue.shift();
      const e = this.queue[0];
      if (e) {
        if (e.offset > offset) return undefined;
        this.queue.shift();
        return e.length === length ? e : undefined;
      }
      if (!this.readMore()) return undefined;
    }
  }

  private readMore(): boolean {
    const got = readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
    if (got === 0) return false;
    this.pos += got;
    const lines = (this.partial + this.buf.subarray(0, got).toString("utf8")).split("\n");
    this.partial = lines.pop()!;
    for (const l of lines) {
      const e = parseIndexRecord(l);
      if (e) this.queue.push(e);
    }
    return true;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The record of event `id`, searched from the newest backwards (withdrawals are of recent events). */
export function findIndexedEvent(fd: number, id: string): IndexEntry | undefined {
  let found: IndexEntry | undefined;
  const needle = ` ${id} `;
  eachLineBackwards(fd, fstatSync(fd).size, (line) => {
    if (!line.includes(needle)) return true;
    const e = parseIndexRecord(line);
    if (e?.id === id) found = e;
    return found === undefined;
  });
  return found;
}
