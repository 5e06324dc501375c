/**
 * The `webhook` bot: POSTs every matching event to one URL, in order, signed when a secret is
 * set, retried with backoff from a bounded queue. What it has to drop is counted and logged.
 *
 * At least once: `deliver` resolves only when the receiver accepted the event (2xx) or the bot
 * gave up on it (refused with a 4xx, out of attempts, queue overflow — each counted and
 * logged), so the host's position never passes an event still waiting here; a host killed at
 * any moment hands the unconfirmed ones over again, and each copy carries the same
 * `Idempotency-Key` (the event id). Events still waiting at a clean stop are saved in the state
 * dir and sent after the next start; an id already queued is not queued twice (the host's
 * redelivery of it waits for the queued copy).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSecret } from "../../cluster/config/secrets.js";
import { validateEvent, type BustleEvent } from "../../cluster/envelope.js";
import type { Bot, BotContext, DeliveryMeta } from "../bot.js";
import type { WebhookConfig } from "./config.js";
import { renderBody, requestHeaders } from "./payload.js";
import { RetryQueue, type DropReason, type Outcome } from "./retry-queue.js";

interface Item {
  event: BustleEvent;
  formatted: string;
}

/** A delivery's confirmation, settled when its item is done (resolve) or left at stop (reject). */
interface Pending {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

function pending(): Pending {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a confirmation nobody waits for (a saved item) must not be unhandled
  return { promise, resolve, reject };
}

const RECENT_IDS = 10_000;
const QUEUE_FILE = "webhook-queue.json";

export class WebhookBot implements Bot {
  private secret: string | undefined;
  private queue: RetryQueue<Item> | undefined;
  private readonly recent = new Set<string>();
  /** Confirmations of the items still queued, by event id. */
  private readonly waiting = new Map<string, Pending>();
  private failing = false;
  private lastDropLog = new Map<DropReason, number>();
  private stopped = false;
  private settle!: (err: Error | undefined) => void;
  private readonly done = new Promise<Error | undefined>((r) => (this.settle = r));

  constructor(private readonly ctx: BotContext<WebhookConfig>) {}

  async start(): Promise<void> {
    const c = this.ctx.config;
    this.secret = readSecret({ env: c.secret_env, file: c.secret_file }, `bots.${this.ctx.id}.webhook.secret`);
    this.queue = new RetryQueue<Item>({
      capacity: c.queue,
      attempts: c.attempts,
      initialMs: c.backoff.initial,
      maxMs: c.backoff.max,
      send: (item, attempt, signal) => this.post(item, attempt, signal),
      onDrop: (item, reason, detail) => this.dropped(item, reason, detail),
      onAttempt: (item, outcome, attempt) => this.attempted(item, outcome, attempt),
    });
    for (const item of this.loadSaved()) this.enqueue(item);
    this.ctx.log.info("webhook ready", { url: redact(c.url), shape: c.shape, signed: this.secret !== undefined });
    this.ctx.report("connected", `posting to ${redact(c.url)}`);
  }

  deliver(event: BustleEvent, meta: DeliveryMeta): Promise<void> {
    return this.enqueue({ event, formatted: meta.formatted });
  }

  /** Counters for status and tests. */
  stats(): { queued: number; delivered: number; dropped: Record<DropReason, number> } {
    return {
      queued: this.queue?.length ?? 0,
      delivered: this.queue?.delivered ?? 0,
      dropped: { ...(this.queue?.dropped ?? { queue_full: 0, refused: 0, gave_up: 0, stopped: 0 }) },
    };
  }

  /** Resolves when every queued event has been sent or dropped (tests). */
  idle(): Promise<void> {
    return this.queue?.idle() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const left = this.queue?.stop() ?? [];
    if (left.length) this.save(left);
    const unconfirmed = new Error("the webhook bot stopped before this event was delivered");
    for (const w of this.waiting.values()) w.reject(unconfirmed);
    this.waiting.clear();
    this.settle(undefined);
  }

  closed(): Promise<Error | undefined> {
    return this.done;
  }

  /** Queues an item once; resolves when it is done (the confirmation of every copy of it). */
  private enqueue(item: Item): Promise<void> {
    const id = item.event.id;
    const queued = this.waiting.get(id);
    if (queued) return queued.promise;
    if (this.recent.has(id)) return Promise.resolve(); // done already
    if (this.stopped) return Promise.reject(new Error("the webhook bot is stopping"));
    this.recent.add(id);
    if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.values().next().value!);
    const w = pending();
    this.waiting.set(id, w);
    this.queue?.push(item);
    return w.promise;
  }

  /** The item is done with (delivered, or dropped by policy): its event may be passed. */
  private confirm(item: Item): void {
    const w = this.waiting.get(item.event.id);
    this.waiting.delete(item.event.id);
    w?.resolve();
  }

  private async post(item: Item, attempt: number, signal: AbortSignal): Promise<Outcome> {
    const c = this.ctx.config;
    const body = renderBody(c.shape, item.event, item.formatted);
    let res: Response;
    try {
      res = await fetch(c.url, {
        method: "POST",
        headers: requestHeaders(item.event, body, attempt, this.secret, c.headers),
        body,
        redirect: "manual",
        signal: AbortSignal.any([signal, AbortSignal.timeout(c.timeout)]),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return {
        ok: false,
        retry: true,
        reason: e.name === "TimeoutError" ? `no answer within ${c.timeout} ms` : (e.cause?.code ?? e.message),
      };
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const reason = `HTTP ${res.status}`;
    if (res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500) {
      return { ok: false, retry: true, reason, afterMs: retryAfterMs(res.headers.get("retry-after")) };
    }
    if (res.status >= 300 && res.status < 400)
      return { ok: false, retry: false, reason: `${reason}: redirects are not followed; set url to the final address` };
    return { ok: false, retry: false, reason };
  }

  private attempted(item: Item, outcome: Outcome, attempt: number): void {
    if (outcome.ok) {
      this.confirm(item);
      if (this.failing) {
        this.failing = false;
        this.ctx.log.info("webhook delivering again", { id: item.event.id, attempt });
        this.ctx.report("connected", "delivering again");
      }
      return;
    }
    this.ctx.log.warn("webhook attempt failed", {
      id: item.event.id,
      attempt,
      reason: outcome.reason,
      retry: outcome.retry,
    });
    if (!this.failing) {
      this.failing = true;
      this.ctx.report("degraded", `${redact(this.ctx.config.url)}: ${outcome.reason}`);
    }
  }

  /** Every drop is counted; the log gets the first of each reason per 10 s (a dead receiver must not flood it). */
  private dropped(item: Item, reason: DropReason, detail: string): void {
    if (reason !== "stopped") this.confirm(item); // a decision, counted and logged: not retried
    const now = Date.now();
    if (now - (this.lastDropLog.get(reason) ?? 0) < 10_000) return;
    this.lastDropLog.set(reason, now);
    this.ctx.log.warn("webhook dropped an event", { id: item.event.id, reason, detail, dropped: this.queue?.dropped });
  }

  private save(items: Item[]): void {
    const file = join(this.ctx.stateDir, QUEUE_FILE);
    try {
      writeFileSync(file + ".tmp", JSON.stringify(items), { mode: 0o600 });
      renameSync(file + ".tmp", file);
      this.ctx.log.info("saved unsent webhook events for the next start", { count: items.length });
    } catch (err) {
      this.ctx.log.warn("could not save unsent webhook events; they are dropped", { count: items.length, error: err });
    }
  }

  private loadSaved(): Item[] {
    const file = join(this.ctx.stateDir, QUEUE_FILE);
    let raw: string;
    try {
      raw = readFileSync(file, "utf8");
    } catch {
      return [];
    }
    rmSync(file, { force: true });
    try {
      const list = JSON.parse(raw) as unknown;
      if (!Array.isArray(list)) throw new Error("not a list");
      return list.map((x: { event?: unknown; formatted?: unknown }) => ({
        event: validateEvent(x.event),
        formatted: String(x.formatted ?? ""),
      }));
    } catch (err) {
      this.ctx.log.warn("ignoring a damaged saved webhook queue", { error: err });
      return [];
    }
  }
}

/** Seconds or an HTTP date → milliseconds, or undefined. */
function retryAfterMs(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/** The URL without its path and query: webhook URLs often embed their secret (Discord, Slack). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return "(invalid url)";
  }
}
