/**
 * The live feed's Server-Sent Events clients: a bounded set of open responses, each resumed
 * from the sequence it last saw (memory first, the stream for older gaps) and then fed every new
 * event. A client that cannot keep up is disconnected; its browser reconnects and resumes.
 */
import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Logger } from "../../cluster/logger.js";
import { passes, type Entry, type History } from "./history.js";
import type { WebMetrics } from "./metrics.js";

export interface StreamFilter {
  node?: string | undefined;
  kind?: string | undefined;
}

interface Client {
  res: ServerResponse;
  filter: StreamFilter;
  /** The last stream sequence this client has been given (or skipped by its filter). */
  last: number;
  /** Live events held back while an older stretch is read from the stream. */
  held: Entry[] | null;
}

export interface HubOptions {
  maxClients: number;
  heartbeatMs: number;
  /** Bytes a client may have waiting in its socket before it counts as too slow. */
  maxBuffered: number;
  /** At most this many older events are replayed to one reconnecting client. */
  maxReplay: number;
  history: History;
  /** Reads `from..to` (inclusive) of the stream, for gaps older than the history. */
  readStream(from: number, to: number): Promise<Entry[]>;
  metrics: WebMetrics;
  log: Logger;
}

export class SseHub {
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: HubOptions) {
    // A comment line keeps proxies from closing idle streams and reveals dead sockets.
    this.timer = setInterval(() => {
      for (const c of this.clients) this.write(c, ": ping\n\n");
    }, o.heartbeatMs);
    this.timer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.o.maxClients;
  }

  /**
   * Takes over `res` (headers already set by the caller) as an event stream. With `since`, first
   * sends every event after it, then live ones, without gaps or repeats. Resolves once the client
   * is live; never rejects (a failed stream read is reported to the client as a `gap` event).
   */
  async open(res: ServerResponse, filter: StreamFilter, since: number | undefined): Promise<void> {
    const { history } = this.o;
    res.writeHead(200);
    res.write("retry: 2000\n\n");
    res.socket?.setNoDelay(true);
    const client: Client = { res, filter, last: since ?? history.lastSeq, held: null };
    this.clients.add(client);
    this.o.metrics.sseConnections++;
    res.on("close", () => this.clients.delete(client));
    if (since !== undefined && history.isFromAnotherStream(since)) {
      // Tell the page to start over; its position means nothing in this stream.
      this.write(client, `event: reset\ndata: {"last_seq":${history.lastSeq}}\n\n`);
      client.last = history.lastSeq;
      return;
    }
    if (since === undefined || since >= history.lastSeq) return;
    if (since >= history.coveredFrom - 1) {
      for (const e of history.after(since)) this.send(client, e, true);
      return;
    }
    // Older than memory: hold live events, read the missing stretch from the stream, then catch up.
    client.held = [];
    const upto = history.coveredFrom - 1;
    const from = Math.max(since + 1, upto - this.o.maxReplay + 1);
    if (from > since + 1) this.gap(client, from);
    try {
      for (const e of await this.o.readStream(from, upto)) this.send(client, e, true);
    } catch (err) {
      this.o.log.warn("could not read the stream for a reconnecting client", { error: err });
      this.gap(client, upto + 1);
    }
    client.last = Math.max(client.last, upto);
    for (const e of history.after(client.last)) this.send(client, e, true);
    const held = client.held;
    client.held = null;
    for (const e of held) this.send(client, e, false);
  }

  /** One new event to every live client. */
  broadcast(entry: Entry): void {
    const t0 = performance.now();
    for (const c of this.clients) {
      if (c.held) c.held.push(entry);
      else this.send(c, entry, false);
    }
    this.o.metrics.timeBroadcast((performance.now() - t0) / 1000);
  }

  /**
   * An event older than some already sent (the portal's own post, located after newer ones
   * arrived): written to every client once, without moving its resume position back.
   */
  broadcastLate(entry: Entry): void {
    for (const c of this.clients) {
      if (c.held) c.held.push(entry);
      else if (passes(entry.event, c.filter)) {
        this.o.metrics.framesWritten++;
        this.write(c, entry.frame);
      }
    }
  }

  /** Tells every page that event `id` was withdrawn (an `event: withdraw` message): it removes it. */
  broadcastWithdraw(id: string): void {
    const frame = `event: withdraw\ndata: ${JSON.stringify({ id })}\n\n`;
    for (const c of this.clients) this.write(c, frame);
  }

  /** Ends every stream (the browsers will retry). */
  closeAll(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private send(c: Client, e: Entry, replay: boolean): void {
    if (e.seq <= c.last) return;
    c.last = e.seq;
    if (!passes(e.event, c.filter)) return;
    if (replay) this.o.metrics.sseReplayed++;
    this.o.metrics.framesWritten++;
    this.write(c, e.frame);
  }

  /** Tells the page that events before `seq` could not be replayed. */
  private gap(c: Client, seq: number): void {
    this.write(c, `event: gap\ndata: {"resumed_at":${seq}}\n\n`);
  }

  private write(c: Client, text: string | Buffer): void {
    if (c.res.destroyed) return;
    c.res.write(text);
    if (c.res.writableLength > this.o.maxBuffered) {
      this.o.metrics.sseSlowDropped++;
      this.o.log.info("disconnecting a client that cannot keep up", { buffered: c.res.writableLength });
      this.clients.delete(c);
      c.res.destroy();
    }
  }
}
