/**
 * The `web` bot: keeps the recent events in memory (filled from the stream at start-up, then
 * from its deliveries), serves them to the live page and the API, fans new ones out to every
 * open event stream, and publishes what authorised clients post.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { subjectOf, type BustleEvent } from "../../cluster/envelope.js";
import { BustleError } from "../../cluster/errors.js";
import { eventSubject } from "../../cluster/names.js";
import type { Bot, BotContext, BotOutput, CommonBotConfig, DeliveryMeta } from "../bot.js";
import { subjectMatches } from "../context.js";
import { parseListen, type WebConfig } from "./config.js";
import { History, makeEntry, type Entry } from "./history.js";
import { WebMetrics } from "./metrics.js";
import { publishHandler } from "./publish.js";
import { createWebServer } from "./server.js";
import { SseHub } from "./sse.js";
import { StreamReader } from "./stream-reader.js";
import { TokenTable } from "./tokens.js";
import { Withdrawals } from "./withdrawals.js";

/** The portal could not bind its address (in use, not allowed, no such interface). */
export class ListenError extends BustleError {}

export class WebBot implements Bot {
  readonly metrics = new WebMetrics();
  private readonly history: History;
  private readonly withdrawals = new Withdrawals();
  private readonly reader: StreamReader;
  private hub: SseHub | undefined;
  private server: Server | undefined;
  /** Deliveries that arrive while the history is still being read from the stream. */
  private early: Entry[] | null = [];
  private stopped = false;
  private failure: Error | undefined;
  private settle!: (err: Error | undefined) => void;
  private readonly done = new Promise<Error | undefined>((r) => (this.settle = r));

  constructor(private readonly ctx: BotContext<WebConfig>) {
    this.history = new History(ctx.config.history);
    this.reader = new StreamReader(ctx.bus, (e) => portalShows(ctx.common, e), ctx.log);
  }

  async start(): Promise<void> {
    const { config, log } = this.ctx;
    const tokens = TokenTable.load(config.tokens, `bots.${this.ctx.id}.web`);
    await this.backfill();
    this.hub = new SseHub({
      maxClients: config.max_clients,
      heartbeatMs: config.heartbeat,
      // 1,000 clients × this is the worst case the portal holds for slow readers.
      maxBuffered: 256 * 1024,
      // A reconnecting page may be sent this many events it missed (from memory or the stream).
      maxReplay: Math.max(config.history, 1000),
      history: this.history,
      readStream: async (from, to) => this.withdrawals.filter(await this.reader.read(from, to)),
      metrics: this.metrics,
      log,
    });
    const server = createWebServer({
      bot: this.ctx.id,
      title: config.title,
      requestTimeoutMs: config.request_timeout,
      history: this.history,
      hub: this.hub,
      metrics: this.metrics,
      publish: publishHandler({
        tokens,
        maxBody: config.max_body,
        publish: (out) => this.publishOwn(out),
        metrics: this.metrics,
        log,
      }),
      busOk: () => !this.ctx.bus.isClosed(),
      log,
    });
    // Room for every live client plus ordinary requests; beyond that the kernel queue waits.
    server.maxConnections = config.max_clients + 256;
    this.server = server;
    const { host, port } = parseListen(config.listen);
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        const why =
          err.code === "EADDRINUSE"
            ? "the address is in use"
            : err.code === "EACCES"
              ? "permission denied"
              : err.code === "EADDRNOTAVAIL"
                ? "no such local address"
                : err.message;
        reject(new ListenError(`web portal ${this.ctx.id} cannot listen on ${config.listen}: ${why}`, { cause: err }));
      });
      server.listen(port, host, () => resolve());
    }).catch((err: unknown) => {
      this.hub?.closeAll();
      throw err;
    });
    server.on("error", (err) => this.fail(err));
    for (const e of (this.early ?? []).sort((a, b) => a.seq - b.seq)) this.accept(e);
    this.early = null;
    log.info("web portal listening", {
      url: `http://${config.listen}/`,
      tokens: tokens.size,
      history: this.history.size,
    });
    this.ctx.report("connected", `listening on http://${config.listen}/`);
  }

  deliver(event: BustleEvent, meta: DeliveryMeta): void {
    const entry = makeEntry(meta.seq, event);
    if (this.early) this.early.push(entry);
    else this.accept(entry);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.hub?.closeAll();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    this.settle(this.failure);
  }

  closed(): Promise<Error | undefined> {
    return this.done;
  }

  /** The bound address (useful when tests listen on a port chosen by the system). */
  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return typeof a === "object" && a ? a : undefined;
  }

  /**
   * Publishes a client's post and shows it here too: the host never echoes a bot's own events
   * back to it, so the portal looks its post up in the stream to learn its sequence.
   */
  private async publishOwn(out: BotOutput): Promise<string> {
    const id = await this.ctx.publish(out);
    const subject = eventSubject({ node: this.ctx.node, source: this.ctx.id, kind: out.kind });
    void this.reader.locate(subject, id).then((found) => {
      if (!found || this.stopped || !portalShows(this.ctx.common, found.event)) return;
      const entry = makeEntry(found.seq, found.event);
      if (this.early) this.early.push(entry);
      else if (entry.seq > this.history.lastSeq) this.accept(entry);
      else if (this.history.insert(entry)) this.hub?.broadcastLate(entry);
    });
    return id;
  }

  private accept(entry: Entry): void {
    this.metrics.eventsReceived++;
    if (this.keep(entry)) this.hub?.broadcast(entry);
  }

  /** Adds an entry to the history unless it was withdrawn; applies it when it is a withdrawal. */
  private keep(entry: Entry): boolean {
    if (this.withdrawals.hides(entry.event)) return false;
    const gone = this.withdrawals.observe(entry.event, this.history);
    if (gone) this.hub?.broadcastWithdraw(gone);
    return this.history.add(entry);
  }

  /** The last `history` stream messages, filtered as the host would; an unreadable stream is not fatal. */
  private async backfill(): Promise<void> {
    try {
      const last = await this.reader.lastSeq();
      const from = Math.max(1, last - this.ctx.config.history + 1);
      this.history.startAt(from);
      this.history.streamSeqAtStart = last;
      for (const e of await this.reader.read(from, last)) this.keep(e);
    } catch (err) {
      this.ctx.log.warn("could not read recent events from the stream; starting with an empty history", { error: err });
    }
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.ctx.log.error("web portal failed", { error: err });
    this.failure = err;
    void this.stop();
  }
}

/** What the page shows: the bot's `subscribe` and `kinds`, including its own posts (no echo loop is possible here). */
export function portalShows(common: CommonBotConfig, e: BustleEvent): boolean {
  const subject = subjectOf(e);
  return common.subscribe.some((f) => subjectMatches(f, subject)) && (!common.kinds || common.kinds.includes(e.kind));
}
