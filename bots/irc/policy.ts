/** The connection's small decisions, kept pure so they can be tested with plain values. */
import { backoffDelay } from "../../cluster/backoff.js";

/** Reconnect pacing. */
export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
  /** A session registered this long counts as stable: the next reconnect starts from minMs. */
  stableMs: number;
}

/** 1 s doubling to 5 min; reset after a minute-long session. */
export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 1_000, maxMs: 300_000, stableMs: 60_000 };

/** Delay before reconnect attempt `n` (0-based): doubling from minMs up to maxMs, then 50–100 % of it. */
export function reconnectDelay(n: number, p: BackoffPolicy, random = Math.random): number {
  return backoffDelay(n, { minMs: p.minMs, maxMs: p.maxMs, jitter: 0.5 }, random);
}

/** The nicks to try in turn: the configured one, with underscores, then with random digits. */
export function* nickCandidates(nick: string, random = Math.random): Generator<string> {
  yield nick;
  yield `${nick}_`;
  yield `${nick}__`;
  for (;;) yield `${nick.slice(0, 26)}${Math.floor(random() * 9000 + 1000)}`;
}

/** irc-framework's names for the numerics that refuse a JOIN. */
export const JOIN_ERRORS: ReadonlySet<string> = new Set([
  "channel_is_full",
  "invite_only_channel",
  "banned_from_channel",
  "bad_channel_key",
  "too_many_channels",
]);

/** A JOIN without an answer is sent again after this long. */
const JOIN_PENDING_MS = 30_000;

/**
 * Which of our channels we are in, which JOINs are in flight, and which channels wait after a
 * kick. Channel names are compared in lower case.
 */
export class ChannelJoins {
  private readonly joined = new Set<string>();
  private readonly pending = new Map<string, number>();
  private readonly holdUntil = new Map<string, number>();

  constructor(private readonly channels: ReadonlyArray<{ name: string }>) {}

  isJoined(channel: string): boolean {
    return this.joined.has(channel.toLowerCase());
  }

  get all(): boolean {
    return this.channels.every((c) => this.joined.has(c.name.toLowerCase()));
  }

  /** The channels to send JOIN for now (not joined, not waiting after a kick, no JOIN in flight); marks them in flight. */
  due(now: number): string[] {
    const out: string[] = [];
    for (const { name } of this.channels) {
      const k = name.toLowerCase();
      if (this.joined.has(k) || (this.holdUntil.get(k) ?? 0) > now) continue;
      if (now - (this.pending.get(k) ?? -Infinity) < JOIN_PENDING_MS) continue;
      this.pending.set(k, now);
      out.push(name);
    }
    return out;
  }

  joinedNow(channel: string): void {
    const k = channel.toLowerCase();
    this.pending.delete(k);
    this.joined.add(k);
  }

  left(channel: string): void {
    this.joined.delete(channel.toLowerCase());
  }

  kicked(channel: string, until: number): void {
    const k = channel.toLowerCase();
    this.joined.delete(k);
    this.holdUntil.set(k, until);
  }

  refused(channel: string): void {
    this.pending.delete(channel.toLowerCase());
  }

  /** After a disconnect: a new session starts with no channels and no holds. */
  reset(): void {
    this.joined.clear();
    this.pending.clear();
    this.holdUntil.clear();
  }
}
