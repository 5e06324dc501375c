/**
 * What the channels say, turned into bustle's ambient hum. A message in one of our channels
 * (not from us, not from an ignored bot) becomes at most one `chat` event per channel per
 * `listen.window`; its words are carried only when `relay_contents` is on, with IRC formatting
 * stripped. `!bustle` goes to the command handler instead.
 */
import { describeError, type Logger } from "../../cluster/logger.js";
import type { BotOutput } from "../bot.js";
import type { IrcConfig } from "./config.js";
import type { IncomingMessage } from "./connection.js";
import { stripFormatting } from "./sanitize.js";

/** What the inbound listener needs; `now` is for tests. */
export interface InboundOptions {
  config: IrcConfig;
  /** The bot context's publish; failures are logged, never thrown. */
  publish(out: BotOutput): Promise<string>;
  log: Logger;
  /** Our current nick (it may be a fallback). */
  myNick(): string;
  /** `!bustle` was said in `channel` (a configured channel name). */
  command(channel: string, nick: string): void;
  now?: () => number;
}

/** `!bustle`, alone or followed by words. */
export const COMMAND_RE = /^!bustle(?:\s|$)/i;

const fill = (template: string, fields: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (whole, k: string) => fields[k] ?? whole);

/** Synchronous `handle()` per message; publishing runs in the background and only logs failures. */
export class Inbound {
  private readonly lastEvent = new Map<string, number>();
  private readonly ignored: Set<string>;
  private readonly now: () => number;

  constructor(private readonly opts: InboundOptions) {
    this.ignored = new Set(opts.config.ignore.map((n) => n.toLowerCase()));
    this.now = opts.now ?? Date.now;
  }

  handle(m: IncomingMessage): void {
    const channel = this.opts.config.channels.find((c) => c.name.toLowerCase() === m.target.toLowerCase())?.name;
    if (!channel) return; // private messages and channels we were not told about
    const nick = m.nick.toLowerCase();
    if (!nick || nick === this.opts.myNick().toLowerCase() || this.ignored.has(nick)) return;
    const text = stripFormatting(m.message);
    if (!text) return;
    if (!m.action && this.opts.config.commands && COMMAND_RE.test(text)) {
      this.opts.command(channel, m.nick);
      return;
    }
    const key = channel.toLowerCase();
    const now = this.now();
    const last = this.lastEvent.get(key);
    if (last !== undefined && now - last < this.opts.config.listen.window) return;
    this.lastEvent.set(key, now);
    void this.publish(channel, m.nick, m.action ? `* ${m.nick} ${text}` : text);
  }

  private async publish(channel: string, nick: string, message: string): Promise<void> {
    const { listen, relay_contents, host } = this.opts.config;
    const out: BotOutput = relay_contents
      ? {
          kind: "chat",
          actor: null,
          text: fill(listen.relay_text, { channel, nick: stripFormatting(nick), message }),
          data: { channel, network: host, nick },
        }
      : { kind: "chat", actor: null, text: fill(listen.text, { channel }), data: { channel, network: host } };
    try {
      await this.opts.publish(out);
    } catch (err) {
      this.opts.log.warn("could not publish chat event", { channel, error: describeError(err) });
    }
  }
}
