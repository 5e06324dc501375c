/**
 * A control server's view of the stored bots config: `read()` once at start, then `start()`
 * watches the key (an ordered consumer: every revision, as it is stored) and calls `onRevision`
 * for each new one. While the bucket does not exist (nobody applied yet) it looks again every
 * few seconds; a watch that ends (bucket deleted, connection closed) is reopened the same way.
 * stop() ends it; nothing else needs cleaning up.
 */
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../cluster/logger.js";
import { BOTS_CONFIG_KEY } from "../../cluster/names.js";
import type { Revision } from "./document.js";
import { latest, openConfig, toRevision } from "./store.js";

/** How often a server looks for a bucket that does not exist yet (or again, after a watch ended). */
export const LOOK_AGAIN_MS = 2_000;

export class BotsConfigFollower {
  private stopped = false;
  private seen = 0;
  private watcher: { stop(): void } | undefined;
  private wake: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private lastWhy: string | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly onRevision: (r: Revision) => void,
  ) {}

  /** The latest revision now, or undefined when there is none (no bucket, no key). */
  async read(): Promise<Revision | undefined> {
    const kv = await openConfig(this.nc);
    const r = kv ? await latest(kv) : undefined;
    if (r) this.seen = r.revision;
    return r;
  }

  start(): void {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const kv = await openConfig(this.nc);
        if (kv) await this.follow(kv);
      } catch (err) {
        // Said once per reason, not at every look (a credential refused the bucket stays refused).
        const why = String((err as Error)?.message ?? err);
        if (!this.stopped && why !== this.lastWhy)
          this.log.warn("cannot follow the federation's bots config; trying again every few seconds", { error: err });
        this.lastWhy = why;
      }
      if (this.stopped) return;
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, LOOK_AGAIN_MS).unref();
      });
    }
  }

  private async follow(kv: KV): Promise<void> {
    const w = await kv.watch({ key: BOTS_CONFIG_KEY });
    this.watcher = w;
    if (this.stopped) w.stop();
    for await (const e of w) {
      if (this.stopped) break;
      // The watch starts with the latest revision, which read() may have handed over already.
      if (e.revision <= this.seen) continue;
      this.seen = e.revision;
      this.onRevision(toRevision(e));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    this.wake?.();
    await this.done;
  }
}
