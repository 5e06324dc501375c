/**
 * What the spectator hears, turned into events. A chat line is `name: text` (team chat
 * `(name): text`, spectators `[SPEC] name: text`), in Quake's charset; the speaker is found
 * among the names the server told us about, so a colon inside a name cannot fool the split.
 * Lines from the server console (our own rcon `say`, echoed back) and from the bot itself are
 * dropped. Without relay_contents only a hum is published, at most once per window.
 */
import { PRINT_CHAT } from "./svc.js";
import { quakeStringToText } from "./charset.js";

export interface ChatLine {
  /** Readable, sanitised speaker name. */
  player: string;
  /** Readable, sanitised text. */
  text: string;
  team: boolean;
  spectator: boolean;
}

const MAX_CHAT_CHARS = 300;

/** Parses one svc_print; undefined for anything that is not a player's chat line. */
export function parseChat(level: number, raw: Buffer, names: Iterable<string>, self: string): ChatLine | undefined {
  if (level !== PRINT_CHAT) return undefined;
  // Some servers and mods mark chat with a leading 0x01/0x02 byte.
  let line = raw
    .toString("latin1")
    .replace(/^[\x01\x02]/, "")
    .replace(/\n+$/, "");
  let spectator = false;
  if (line.startsWith("[SPEC] ")) {
    spectator = true;
    line = line.slice(7);
  }
  let best: { name: string; rest: string; team: boolean } | undefined;
  for (const name of names) {
    if (!name || name === self) continue;
    for (const [prefix, team] of [
      [`${name}: `, false],
      [`(${name}): `, true],
    ] as const) {
      if (line.startsWith(prefix) && (!best || name.length > best.name.length))
        best = { name, rest: line.slice(prefix.length), team };
    }
  }
  if (!best) return undefined; // console lines ("console: …"), our own name, server messages
  const text = quakeStringToText(best.rest, MAX_CHAT_CHARS);
  if (!text) return undefined;
  return { player: quakeStringToText(best.name, 32) || "unnamed", text, team: best.team, spectator };
}

export interface ChatEventOptions {
  server: string;
  relayContents: boolean;
  windowMs: number;
}

/** A chatty server (or a hostile one) cannot flood the feed: a burst of 5 lines, then one per 5 s. */
export const CHAT_BURST = 5;
export const CHAT_REFILL_MS = 5_000;

/** Chat lines → event texts: every line with relay_contents (within the rate), else one hum per window. */
export class ChatEvents {
  private lastHum = -Infinity;
  private tokens = CHAT_BURST;
  private refilledAt = -Infinity;
  /** Lines not published because of the rate. */
  dropped = 0;

  constructor(private readonly opts: ChatEventOptions) {}

  toEvent(c: ChatLine, now: number): { text: string; data: Record<string, unknown> } | undefined {
    if (c.team) return undefined; // team chat stays in the team
    if (this.opts.relayContents) {
      if (!this.take(now)) {
        this.dropped++;
        return undefined;
      }
      return {
        text: `[${this.opts.server}] ${c.player}: ${c.text}`,
        data: { server: this.opts.server, player: c.player },
      };
    }
    if (now - this.lastHum < this.opts.windowMs) return undefined;
    this.lastHum = now;
    return { text: `people are chatting on ${this.opts.server}`, data: { server: this.opts.server } };
  }

  private take(now: number): boolean {
    if (this.refilledAt === -Infinity) this.refilledAt = now;
    const earned = Math.floor((now - this.refilledAt) / CHAT_REFILL_MS);
    if (earned > 0) {
      this.tokens = Math.min(CHAT_BURST, this.tokens + earned);
      this.refilledAt += earned * CHAT_REFILL_MS;
    }
    if (this.tokens <= 0) return false;
    this.tokens--;
    return true;
  }
}
