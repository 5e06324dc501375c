/**
 * One user's spool: open it safely, notice truncation and rotation, read the complete lines
 * after the saved offset, turn them into events, hand them to the sink, and only then move the
 * offset (whose file is written once the sink has synced those events). The file stays open
 * between checks; a check re-validates it with one fstat of the open file, and also checks its
 * path (two lstats, relay/spool/safe-open.ts) when the directory entry may have changed (the
 * reader says so: a rename-type notification, a poke, a rescan), when the file shows nothing new
 * (the wake-up was about something else) or when it got shorter. It reads the whole new tail,
 * from 64 bytes before the offset (the rewrite check), in one read. Callers never run two
 * `check`s of the same spool at once (the reader serialises them), so events of one spool reach
 * the sink in file order, one submit after the other.
 */
import { join } from "node:path";
import type { Stats } from "node:fs";
import { makeEvent, stableEventId, type BustleEvent } from "../../cluster/envelope.js";
import type { Logger } from "../../cluster/logger.js";
import type { Audit, AuditOrigin } from "../audit.js";
import type { EventSink } from "../event-sink.js";
import { LineFramer, type FramedLine } from "./line-framer.js";
import { hashTail, ReadPosition, TAIL_BYTES, tailMatches, type SpoolPosition } from "./offsets-store.js";
import { parseSpoolLine } from "./parse-line.js";
import type { DropSummary, UserRateLimiter } from "./rate-limit.js";
import { renderSpoolRequest } from "./render.js";
import {
  openSpool,
  recheckSpool,
  SPOOL_NAME,
  stillAcceptable,
  type HeldIdentity,
  type RefusalReason,
} from "./safe-open.js";
import { SpoolFile } from "./spool-file.js";

const CHUNK_BYTES = 64 * 1024;
/** Bytes one check reads before giving other spools a turn (a busy writer must not starve them). */
const TURN_BYTES = 4 * 1024 * 1024;
/**
 * A line this long is not read to its end: the reader jumps to the last RUNAWAY_TAIL_BYTES of
 * the file instead (a sparse file can claim terabytes; the lines after it are near its end).
 */
export const RUNAWAY_LINE_BYTES = 64 * 1024 * 1024;
const RUNAWAY_TAIL_BYTES = 1024 * 1024;

/** What every spool shares: settings, the sink, the audit, the positions and their writer. */
/** Whether a user is silenced now (and until when, why), or undefined. */
export type SilencedCheck = (user: string) => { until: string | null; reason: string | null } | undefined;

export interface SpoolContext {
  node: string;
  idKey: Uint8Array;
  homesRoot: string;
  maxLineBytes: number;
  sink: EventSink;
  audit: Audit;
  log: Logger;
  limiter: UserRateLimiter;
  drops: DropSummary;
  positions: Map<string, SpoolPosition>;
  /** Persists `positions`; called after they changed. */
  saveOffsets(): void;
  /** Audit-logs and warns about a refused spool, once per (path, reason) until it is readable again. */
  refuse(user: string, path: string, reason: RefusalReason, detail: string): void;
  /** Forgets the refusals of `path` (it is readable, or gone). */
  clearRefusals(path: string): void;
  now(): Date;
  isSilenced: SilencedCheck;
  /** Which spools hold an open handle: a bounded set, the least recently used closed first. */
  handles: { used(spool: UserSpool): void; closed(spool: UserSpool): void };
}

/** A spool kept open between checks: re-checked (fstat, and lstats of its path when needed), not re-opened. */
interface Held extends HeldIdentity {
  file: SpoolFile;
}

/**
 * A value in hand, or a promise of it: the held spool's fstat and pread answer at once when they
 * run inline (spool-file.ts), and a check that awaited each of them anyway spent a suspension, a
 * microtask and their garbage per line.
 */
type Maybe<T> = T | Promise<T>;

/** Bytes read from the held file at `start` (one read serves the tail check and the new lines). */
interface Span {
  start: number;
  bytes: Buffer;
}

export class UserSpool {
  readonly path: string;
  /** The user's home (the spool's directory). */
  private readonly home: string;
  /** Framing state carried between checks (a line in progress); dropped when the position resets. */
  private framer: LineFramer | undefined;
  /** Set when a first-start position lands inside a line that is already too long. */
  private startSkipping = false;
  private held: Held | undefined;
  /** The read the tail check made, handed to `readNew` (its first bytes need no second read). */
  private ahead: Span | undefined;
  /** True while a check runs (an open handle is then never closed by someone else). */
  busy = false;
  /**
   * Set when the spool's directory entry may have changed (renamed, replaced, deleted, its home
   * moved or re-owned): the next check looks at the path, not only at the open file.
   */
  private pathMayHaveChanged = true;

  constructor(
    private readonly ctx: SpoolContext,
    readonly user: string,
  ) {
    this.home = join(ctx.homesRoot, user);
    this.path = join(this.home, SPOOL_NAME);
  }

  /**
   * Reads whatever complete lines are new. `fromEnd`: a spool this reader has no position for
   * starts at its end (the first start on a state dir) instead of its beginning. Resolves once
   * every event read is accepted by the sink; rejects only when the sink did (the position then
   * stays where it was and the next check re-reads the same lines with the same ids).
   * Resolves to true when it stopped with more to read (its turn was used up).
   */
  async check(fromEnd: boolean): Promise<boolean> {
    this.busy = true;
    try {
      return await this.checkHeld(fromEnd);
    } finally {
      this.busy = false;
    }
  }

  /** Says the spool's path may name another file now: the next check looks at the path too. */
  pathChanged(): void {
    this.pathMayHaveChanged = true;
  }

  /** Closes the open handle, if any (the next check opens the spool afresh). */
  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    this.ahead = undefined;
    if (!held) return;
    this.ctx.handles.closed(this);
    await held.file.close().catch(() => {});
  }

  /**
   * The held file's fresh stats if it is still acceptable (and, when that is in doubt, still
   * what the path names), else undefined. Only the path can be swapped under the open file
   * (the file's owner and mode are in its fstat), so the path is looked at only when it may
   * have changed, when the file shows nothing new or got shorter.
   */
  private recheck(held: Held, home: string): Maybe<Stats | undefined> {
    const checkPath = this.pathMayHaveChanged;
    this.pathMayHaveChanged = false; // a notification during this check sets it for the next one
    let stat: Maybe<Stats>;
    try {
      stat = held.file.stat();
    } catch {
      return undefined;
    }
    if (stat instanceof Promise)
      return stat.then(
        (st) => this.judge(held, home, st, checkPath),
        () => undefined,
      );
    return this.judge(held, home, stat, checkPath);
  }

  /** `recheck`'s verdict on the held file's fresh `stat`. */
  private judge(held: Held, home: string, stat: Stats, checkPath: boolean): Maybe<Stats | undefined> {
    if (!stillAcceptable(stat, held)) return undefined;
    const read = Math.max(this.ctx.positions.get(this.user)?.offset ?? 0, this.framer?.position ?? 0);
    if (!checkPath && stat.size > read) return stat;
    return recheckSpool(home, held).then((again) => (again.kind === "same" ? again.stat : undefined));
  }

  private async checkHeld(fromEnd: boolean): Promise<boolean> {
    const home = this.home;
    let stat: Stats | undefined;
    if (this.held) {
      const again = this.recheck(this.held, home);
      stat = again instanceof Promise ? await again : again;
      if (!stat) await this.release(); // swapped, moved, refused or gone: the fresh open says which
    }
    if (!this.held || !stat) {
      this.pathMayHaveChanged = false; // the open looks at the path
      const opened = await openSpool(home);
      if (opened.kind === "absent") {
        this.ctx.clearRefusals(this.path);
        this.framer = undefined;
        return false;
      }
      if (opened.kind === "refused") {
        this.ctx.refuse(this.user, this.path, opened.reason, opened.detail);
        this.framer = undefined;
        return false;
      }
      this.held = {
        file: new SpoolFile(opened.fh, opened.stat.dev),
        dev: opened.stat.dev,
        ino: opened.stat.ino,
        homeUid: opened.homeUid,
      };
      stat = opened.stat;
    }
    this.ctx.clearRefusals(this.path);
    this.ctx.handles.used(this);
    const file = this.held.file;
    try {
      const at = this.position(file, { dev: stat.dev, ino: stat.ino }, stat.size, fromEnd);
      const pos = at instanceof Promise ? await at : at;
      if (!this.framer) this.framer = new LineFramer(this.ctx.maxLineBytes, pos.offset, this.startSkipping);
      this.startSkipping = false;
      return await this.readNew(file, pos, stat.size);
    } catch (err) {
      this.framer = undefined;
      await this.release();
      throw err;
    } finally {
      this.ahead = undefined;
    }
  }

  /**
   * The position to read from, starting a new generation on rotation or truncation. In hand
   * (not a promise) for a known spool whose reads run inline: the common case, every line.
   */
  private position(file: SpoolFile, id: FileIdentity, size: number, fromEnd: boolean): Maybe<SpoolPosition> {
    const { positions } = this.ctx;
    const known = positions.get(this.user);
    if (!known) return this.firstPosition(file, id, size, fromEnd);
    if (!sameFile(known, id)) return this.restart(known, id, "spool-rotated");
    if (size < Math.max(known.offset, this.framer?.position ?? 0))
      return this.restart(known, id, "spool-truncated", { size, offset: known.offset });
    if (!(known instanceof ReadPosition) && known.tail === "") return known;
    // Same inode and long enough, yet the bytes before the offset may have changed: the file was
    // replaced or refilled behind our back (inode reuse, truncate-and-refill). One read serves
    // this check and the first new bytes after it.
    const start = Math.max(0, known.offset - TAIL_BYTES);
    const ahead = readSpan(file, start, Math.min(size, start + CHUNK_BYTES));
    return ahead instanceof Promise
      ? ahead.then((span) => this.checkTail(known, id, start, span))
      : this.checkTail(known, id, start, ahead);
  }

  /** `known` if the bytes before its offset are still those of `ahead` (kept for readNew), else a restart. */
  private checkTail(known: SpoolPosition, id: FileIdentity, start: number, ahead: Span): SpoolPosition {
    // Shorter than the offset by now: truncated since the size was taken.
    if (ahead.bytes.length < known.offset - start)
      return this.restart(known, id, "spool-truncated", { size: start + ahead.bytes.length, offset: known.offset });
    if (!tailMatches(known, ahead.bytes.subarray(0, known.offset - start)))
      return this.restart(known, id, "spool-rewritten", { offset: known.offset });
    this.ahead = ahead;
    return known;
  }

  /** A new generation from the file's beginning (rotated, truncated or rewritten): audited, saved. */
  private restart(known: SpoolPosition, id: FileIdentity, what: string, details: Record<string, unknown> = {}) {
    const next = { ...id, generation: known.generation + 1, offset: 0, tail: EMPTY_TAIL };
    this.ctx.audit.note(what, { actor: this.user, origin: this.path, generation: next.generation, ...details });
    return this.moveTo(next);
  }

  /** A spool this reader has no position for: from its start, or its end on a first start. */
  private async firstPosition(file: SpoolFile, id: FileIdentity, size: number, fromEnd: boolean) {
    let offset = 0;
    if (fromEnd) {
      const end = await lastLineEnd(file, size, this.ctx.maxLineBytes + 1);
      // No newline near the end: the line in progress is already too long; skip its rest.
      this.startSkipping = end === undefined;
      offset = end ?? size;
    }
    const next = { ...id, generation: 0, offset, tail: await tailHash(file, offset) };
    this.ctx.log.info("new spool", { user: this.user, from: fromEnd ? "end" : "start", offset });
    return this.moveTo(next);
  }

  private moveTo(next: SpoolPosition): SpoolPosition {
    this.framer = undefined;
    this.ctx.positions.set(this.user, next);
    this.ctx.saveOffsets();
    return next;
  }

  /**
   * Reads, submits and advances up to `size` (the length the check saw; an append after it
   * wakes another check) or the end of this turn (then: true).
   */
  private async readNew(file: SpoolFile, pos: SpoolPosition, size: number): Promise<boolean> {
    const framer = this.framer!;
    const turnEnd = framer.position + TURN_BYTES;
    let span = this.ahead;
    this.ahead = undefined;
    for (;;) {
      const at = framer.position;
      if (at >= turnEnd) return true;
      if (at >= size) return false;
      if (!span || at < span.start || at >= span.start + span.bytes.length) {
        const read = readSpan(file, at, Math.min(size, at + CHUNK_BYTES));
        span = read instanceof Promise ? await read : read;
        if (span.bytes.length === 0) return false; // shorter than it was a moment ago: the next check sees why
      }
      const chunk = span.bytes.subarray(at - span.start);
      const known = framer.skipped > RUNAWAY_LINE_BYTES;
      const lines = framer.push(chunk, at);
      if (framer.skipped > RUNAWAY_LINE_BYTES) {
        ({ size } = await file.stat());
        if (!known)
          this.ctx.audit.rejected(
            "line-runaway",
            { origin: `${this.path}#${pos.generation}@${framer.committed}`, actor: this.user },
            { skipped_to: size - RUNAWAY_TAIL_BYTES },
          );
        if (!known)
          this.ctx.log.warn("spool line runs away; skipping to the end of the file", {
            user: this.user,
            bytes: size - framer.committed,
          });
        framer.skipAhead(size - RUNAWAY_TAIL_BYTES);
      }
      const events: BustleEvent[] = [];
      const origins: AuditOrigin[] = [];
      for (const line of lines) {
        const made = this.lineToEvent(line, pos.generation);
        if (made) {
          events.push(made.event);
          origins.push(made.origin);
        }
      }
      if (events.length) {
        await this.ctx.sink.submit(events);
        for (let i = 0; i < events.length; i++) this.ctx.audit.event(events[i]!, origins[i]!);
      }
      if (framer.committed !== pos.offset) {
        const got = this.bytesBefore(file, span, framer.committed);
        const before = got instanceof Promise ? await got : got;
        pos = new ReadPosition(pos.dev, pos.ino, pos.generation, framer.committed, before);
        this.ctx.positions.set(this.user, pos);
        this.ctx.saveOffsets();
      }
    }
  }

  /**
   * The (up to TAIL_BYTES) bytes before `offset`, a copy of the bytes in hand when they cover it
   * (the span's buffer is not kept alive by a position), else read.
   */
  private bytesBefore(file: SpoolFile, span: Span, offset: number): Promise<Buffer> | Buffer {
    const start = Math.max(0, offset - TAIL_BYTES);
    if (start >= span.start && offset <= span.start + span.bytes.length)
      return Buffer.from(span.bytes.subarray(start - span.start, offset - span.start));
    return readBefore(file, offset);
  }

  /** One framed line → an event, or undefined (refused and audited). Never throws. */
  private lineToEvent(line: FramedLine, generation: number): { event: BustleEvent; origin: AuditOrigin } | undefined {
    const { audit, log, limiter, drops } = this.ctx;
    const origin: AuditOrigin = { origin: `${this.path}#${generation}@${line.start}`, actor: this.user };
    // Every line costs a token, refused ones too: a flood of bad lines is bounded like any other.
    if (!limiter.take(this.user)) {
      drops.dropped(this.user, `${this.path}#${generation}`, line.start);
      return undefined;
    }
    const silenced = this.ctx.isSilenced(this.user);
    if (silenced) {
      audit.rejected("silenced", origin, { until: silenced.until, why: silenced.reason });
      return undefined;
    }
    if (line.kind === "too-long") {
      audit.rejected("line-too-long", origin, { bytes: line.end - line.start - 1, max: this.ctx.maxLineBytes });
      log.warn("spool line too long; refused", { user: this.user, bytes: line.end - line.start - 1 });
      return undefined;
    }
    const parsed = parseSpoolLine(line.bytes);
    if (!parsed.ok) {
      audit.rejected(parsed.reason, origin, { detail: parsed.detail });
      return undefined;
    }
    const rendered = renderSpoolRequest(this.user, parsed.request);
    if (!rendered.ok) {
      audit.rejected(rendered.reason, origin);
      return undefined;
    }
    const r = rendered.rendered;
    try {
      const event = makeEvent({
        id: stableEventId(this.ctx.idKey, this.ctx.node, this.user, generation, line.start),
        ts: this.ctx.now(),
        node: this.ctx.node,
        source: "spool",
        kind: r.kind,
        actor: r.actor,
        text: r.text,
      });
      if (r.sanitised)
        audit.note("text-sanitised", { ...origin, id: event.id, invalid_utf8: parsed.request.invalidUtf8 });
      return { event, origin };
    } catch (err) {
      audit.rejected("invalid-event", origin, { detail: (err as Error).message });
      return undefined;
    }
  }
}

interface FileIdentity {
  dev: number;
  ino: number;
}

// Birth times would be a better identity, but where statx is unavailable Node reports the
// ctime instead, which changes on every append; the tail hash does not depend on that.
const sameFile = (a: FileIdentity, b: FileIdentity): boolean => a.dev === b.dev && a.ino === b.ino;

const EMPTY_TAIL = hashTail(new Uint8Array(0));

/** Reads [start, end) of the file (fewer bytes if it is shorter now); in hand when the read runs inline. */
function readSpan(file: SpoolFile, start: number, end: number): Maybe<Span> {
  const bytes = Buffer.allocUnsafe(Math.max(0, end - start));
  const got = file.read(bytes, start);
  return typeof got === "number"
    ? { start, bytes: bytes.subarray(0, got) }
    : got.then((n) => ({ start, bytes: bytes.subarray(0, n) }));
}

/** The bytes [offset - 64, offset) (fewer if the file is shorter now). */
async function readBefore(file: SpoolFile, offset: number): Promise<Buffer> {
  const start = Math.max(0, offset - TAIL_BYTES);
  const buf = Buffer.alloc(offset - start);
  return buf.subarray(0, await file.read(buf, start));
}

/** A hash of the bytes [offset - 64, offset): what a saved position checks the file against. */
async function tailHash(file: SpoolFile, offset: number): Promise<string> {
  return hashTail(await readBefore(file, offset));
}

/**
 * Where "from the end" starts: the offset after the last `\n` before `size`, or 0 when the file
 * has none. Looks back at most `within` bytes; undefined when no newline is that close.
 */
export async function lastLineEnd(file: SpoolFile, size: number, within: number): Promise<number | undefined> {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const floor = Math.max(0, size - within);
  let end = size;
  while (end > floor) {
    const start = Math.max(floor, end - CHUNK_BYTES);
    const bytesRead = await file.read(buf.subarray(0, end - start), start);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return floor === 0 ? 0 : undefined;
}
