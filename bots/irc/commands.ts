/**
 * Channel commands. `!bustle` answers with the last few events the bot relayed, through the
 * same paced queue as everything else, and at most once per channel per cooldown so that
 * nobody can use the bot to flood the channel.
 */

/** Tuning for `!bustle` (defaults: 3 events, 30 s cooldown). */
export interface CommandOptions {
  /** Events kept for `!bustle`. */
  recent?: number;
  cooldownMs?: number;
  now?: () => number;
}

/** The answer before any event was relayed. */
export const NOTHING_YET = "nothing has happened yet";

/** Remembers recent event texts and rations answers per channel. Synchronous; nothing to clean up. */
export class Commands {
  private readonly recent: string[] = [];
  private readonly lastAnswer = new Map<string, number>();
  private readonly size: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(opts: CommandOptions = {}) {
    this.size = opts.recent ?? 3;
    this.cooldownMs = opts.cooldownMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  /** Texts from before a (re)start; ignored once something was remembered (it would repeat it). */
  preload(texts: readonly string[]): void {
    if (this.recent.length) return;
    for (const t of texts) this.remember(t);
  }

  /** Keeps a relayed event's text for later answers. */
  remember(text: string): void {
    this.recent.push(text);
    if (this.recent.length > this.size) this.recent.shift();
  }

  /** The texts to send for `!bustle` in `channel`, or undefined while that channel is cooling down. */
  answer(channel: string): string[] | undefined {
    const key = channel.toLowerCase();
    const now = this.now();
    const last = this.lastAnswer.get(key);
    if (last !== undefined && now - last < this.cooldownMs) return undefined;
    this.lastAnswer.set(key, now);
    return this.recent.length ? [...this.recent] : [NOTHING_YET];
  }
}
