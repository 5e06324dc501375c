/**
 * The portal's memory: the last N events it received, in stream order, each with its stream
 * sequence and its Server-Sent Events frame (serialised once, written to every client).
 */
import { shownEvent, type BustleEvent } from "../../cluster/envelope.js";

export interface Entry {
  seq: number;
  event: BustleEvent;
  /**
   * `{...event, text, seq}` as JSON: what the API and the event stream send, with `text` as it
   * is shown everywhere (a bot's event carries its origin), so no page or API reader can show it
   * as a local user's line.
   */
  json: string;
  /** The complete SSE frame (`id: <seq>` and one `data:` line), encoded once for every client. */
  frame: Buffer;
}

export interface Query {
  limit: number;
  node?: string | undefined;
  kind?: string | undefined;
  /** Only events with a smaller sequence (paging back). */
  before?: number | undefined;
  /** Only events with a larger sequence. */
  since?: number | undefined;
}

export function makeEntry(seq: number, event: BustleEvent): Entry {
  const json = JSON.stringify({ ...shownEvent(event), seq });
  return { seq, event, json, frame: Buffer.from(`id: ${seq}\ndata: ${json}\n\n`, "utf8") };
}

/** True when an entry passes the node/kind filters of a query or a stream. */
export const passes = (e: BustleEvent, f: { node?: string | undefined; kind?: string | undefined }): boolean =>
  (f.node === undefined || e.node === f.node) && (f.kind === undefined || e.kind === f.kind);

export class History {
  private readonly ring: Entry[] = [];
  /**
   * From which stream sequence on this history holds every event the bot was given: a reconnect
   * after `since >= coveredFrom - 1` can be answered from memory alone.
   */
  coveredFrom = 1;
  /** Whether coveredFrom is known (a backfill set it); else the first event added sets it. */
  private anchored = false;

  constructor(readonly capacity: number) {}

  /** The stream's last sequence when the backfill read it (undefined when there was none). */
  streamSeqAtStart: number | undefined;

  /**
   * True when a client claims to have seen a sequence the stream never reached: the stream was
   * recreated (sequences start again), so the client must forget its position.
   */
  isFromAnotherStream(since: number): boolean {
    return this.streamSeqAtStart !== undefined && since > Math.max(this.lastSeq, this.streamSeqAtStart);
  }

  get lastSeq(): number {
    return this.ring.at(-1)?.seq ?? this.coveredFrom - 1;
  }

  get size(): number {
    return this.ring.length;
  }

  /** Appends an entry; out-of-order or repeated sequences (a backfill meeting live delivery) are ignored. */
  add(entry: Entry): boolean {
    if (!this.anchored) {
      this.anchored = true;
      this.coveredFrom = entry.seq;
    }
    if (entry.seq <= this.lastSeq) return false;
    this.ring.push(entry);
    if (this.ring.length > this.capacity) {
      const gone = this.ring.shift()!;
      this.coveredFrom = gone.seq + 1;
    }
    return true;
  }

  /**
   * Puts a late entry (one the portal published itself, found after newer ones arrived) in its
   * place. Returns false when it is already there or older than what is kept.
   */
  insert(entry: Entry): boolean {
    if (entry.seq > this.lastSeq) return this.add(entry);
    if (entry.seq < this.coveredFrom) return false;
    const i = this.indexAfter(entry.seq - 1);
    if (this.ring[i]?.seq === entry.seq) return false;
    this.ring.splice(i, 0, entry);
    if (this.ring.length > this.capacity) this.coveredFrom = this.ring.shift()!.seq + 1;
    return true;
  }

  /** Marks where a backfill started, before adding what it read. */
  startAt(seq: number): void {
    if (this.ring.length > 0) return;
    this.coveredFrom = Math.max(1, seq);
    this.anchored = true;
  }

  /** Entries with seq > since, oldest first. */
  after(since: number): Entry[] {
    return this.ring.slice(this.indexAfter(since));
  }

  /** Index of the first entry with seq > since. */
  private indexAfter(since: number): number {
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ring[mid]!.seq <= since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entry of event `id`, if it is kept. */
  find(id: string): Entry | undefined {
    for (let i = this.ring.length - 1; i >= 0; i--) if (this.ring[i]!.event.id === id) return this.ring[i];
    return undefined;
  }

  /** Drops the entry of event `id` (a withdrawal); false when it is not kept. */
  remove(id: string): boolean {
    const i = this.ring.findIndex((e) => e.event.id === id);
    if (i < 0) return false;
    this.ring.splice(i, 1);
    return true;
  }

  /** Newest first, filtered, at most `limit`. */
  query(q: Query): Entry[] {
    const out: Entry[] = [];
    for (let i = this.ring.length - 1; i >= 0 && out.length < q.limit; i--) {
      const e = this.ring[i]!;
      if (q.since !== undefined && e.seq <= q.since) break;
      if (q.before !== undefined && e.seq >= q.before) continue;
      if (passes(e.event, q)) out.push(e);
    }
    return out;
  }
}
