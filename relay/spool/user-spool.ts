/**
 * One user's spool: open it safely, notice truncation and rotation, read the complete lines
 * after the saved offset, turn them into events, hand them to the sink, and only then move the
 * offset (whose file is written once the sink has synced those events). Callers never run two `check`s of the same spool at once (the reader serialises
 * them), so events of one spool reach the sink in file order, one submit after the other.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { FileHandle } from "node:fs/promises";
import { makeEvent, stableEventId, type BustleEvent } from "../../cluster/envelope.js";
import type { Logger } from "../../cluster/logger.js";
import type { Audit, AuditOrigin } from "../audit.js";
import type { EventSink } from "../event-sink.js";
import { LineFramer, type FramedLine } from "./line-framer.js";
import type { SpoolPosition } from "./offsets-store.js";
import { parseSpoolLine } from "./parse-line.js";
import type { DropSummary, UserRateLimiter } from "./rate-limit.js";
import { renderSpoolRequest } from "./render.js";
import { openSpool, SPOOL_NAME, type RefusalReason } from "./safe-open.js";

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
}

export class UserSpool {
  readonly path: string;
  /** Framing state carried between checks (a line in progress); dropped when the position resets. */
  private framer: LineFramer | undefined;
  /** Set when a first-start position lands inside a line that is already too long. */
  private startSkipping = false;

  constructor(private readonly ctx: SpoolContext, readonly user: string) {
    this.path = join(ctx.homesRoot, user, SPOOL_NAME);
  }

  /**
   * Reads whatever complete lines are new. `fromEnd`: a spool this reader has no position for
   * starts at its end (the first start on a state dir) instead of its beginning. Resolves once
   * every event read is accepted by the sink; rejects only when the sink did (the position then
   * stays where it was and the next check re-reads the same lines with the same ids).
   * Resolves to true when it stopped with more to read (its turn was used up).
   */
  async check(fromEnd: boolean): Promise<boolean> {
    const home = join(this.ctx.homesRoot, this.user);
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
    this.ctx.clearRefusals(this.path);
    const { fh, stat } = opened;
    try {
      const pos = await this.position(fh, { dev: stat.dev, ino: stat.ino }, stat.size, fromEnd);
      if (!this.framer) this.framer = new LineFramer(this.ctx.maxLineBytes, pos.offset, this.startSkipping);
      this.startSkipping = false;
      return await this.readNew(fh, pos);
    } catch (err) {
      this.framer = undefined;
      throw err;
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /** The position to read from, starting a new generation on rotation or truncation. */
  private async position(fh: FileHandle, id: FileIdentity, size: number, fromEnd: boolean): Promise<SpoolPosition> {
    const { positions, log, audit } = this.ctx;
    const known = positions.get(this.user);
    let next: SpoolPosition | undefined;
    const restart = (what: string, details: Record<string, unknown> = {}) => {
      next = { ...id, generation: known!.generation + 1, offset: 0, tail: EMPTY_TAIL };
      audit.note(what, { actor: this.user, origin: this.path, generation: next.generation, ...details });
    };
    if (!known) {
      let offset = 0;
      if (fromEnd) {
        const end = await lastLineEnd(fh, size, this.ctx.maxLineBytes + 1);
        // No newline near the end: the line in progress is already too long; skip its rest.
        this.startSkipping = end === undefined;
        offset = end ?? size;
      }
      next = { ...id, generation: 0, offset, tail: await tailHash(fh, offset) };
      log.info("new spool", { user: this.user, from: fromEnd ? "end" : "start", offset });
    } else if (!sameFile(known, id)) {
      restart("spool-rotated");
    } else if (size < Math.max(known.offset, this.framer?.position ?? 0)) {
      restart("spool-truncated", { size, offset: known.offset });
    } else if (known.tail !== "" && (await tailHash(fh, known.offset)) !== known.tail) {
      // Same inode and long enough, yet the bytes before the offset changed: the file was
      // replaced or refilled behind our back (inode reuse, truncate-and-refill).
      restart("spool-rewritten", { offset: known.offset });
    }
    if (!next) return known!;
    this.framer = undefined;
    positions.set(this.user, next);
    this.ctx.saveOffsets();
    return next;
  }

  /** Reads, submits and advances until the end of the file or of this turn (then: true). */
  private async readNew(fh: FileHandle, pos: SpoolPosition): Promise<boolean> {
    const framer = this.framer!;
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const turnEnd = framer.position + TURN_BYTES;
    for (;;) {
      const at = framer.position;
      if (at >= turnEnd) return true;
      const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, at);
      if (bytesRead === 0) return false;
      const known = framer.skipped > RUNAWAY_LINE_BYTES;
      const lines = framer.push(buf.subarray(0, bytesRead), at);
      if (framer.skipped > RUNAWAY_LINE_BYTES) {
        const { size } = await fh.stat();
        if (!known) this.ctx.audit.rejected("line-runaway", { origin: `${this.path}#${pos.generation}@${framer.committed}`, actor: this.user }, { skipped_to: size - RUNAWAY_TAIL_BYTES });
        if (!known) this.ctx.log.warn("spool line runs away; skipping to the end of the file", { user: this.user, bytes: size - framer.committed });
        framer.skipAhead(size - RUNAWAY_TAIL_BYTES);
      }
      const events: Array<{ event: BustleEvent; origin: AuditOrigin }> = [];
      for (const line of lines) {
        const made = this.lineToEvent(line, pos.generation);
        if (made) events.push(made);
      }
      if (events.length) {
        await this.ctx.sink.submit(events.map((e) => e.event));
        for (const e of events) this.ctx.audit.event(e.event, e.origin);
      }
      if (framer.committed !== pos.offset) {
        pos = { ...pos, offset: framer.committed, tail: await tailHash(fh, framer.committed) };
        this.ctx.positions.set(this.user, pos);
        this.ctx.saveOffsets();
      }
    }
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
      if (r.sanitised) audit.note("text-sanitised", { ...origin, id: event.id, invalid_utf8: parsed.request.invalidUtf8 });
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

const TAIL_BYTES = 64;
const hashOf = (b: Uint8Array): string => createHash("sha256").update(b).digest("base64url").slice(0, 22);
const EMPTY_TAIL = hashOf(new Uint8Array(0));

/** A hash of the bytes [offset - 64, offset): what a saved position checks the file against. */
async function tailHash(fh: FileHandle, offset: number): Promise<string> {
  const start = Math.max(0, offset - TAIL_BYTES);
  const buf = Buffer.alloc(offset - start);
  const { bytesRead } = buf.length ? await fh.read(buf, 0, buf.length, start) : { bytesRead: 0 };
  return hashOf(buf.subarray(0, bytesRead));
}

/**
 * Where "from the end" starts: the offset after the last `\n` before `size`, or 0 when the file
 * has none. Looks back at most `within` bytes; undefined when no newline is that close.
 */
export async function lastLineEnd(fh: FileHandle, size: number, within: number): Promise<number | undefined> {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const floor = Math.max(0, size - within);
  let end = size;
  while (end > floor) {
    const start = Math.max(floor, end - CHUNK_BYTES);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return floor === 0 ? 0 : undefined;
}
