/**
 * One IRC connection that keeps itself up. irc-framework's own reconnect gives up (a failed
 * first connect is never retried) and it never rejoins, so this class owns the loop:
 *
 * - reconnect forever with exponential backoff and jitter (reset after a stable session);
 * - on every registration: join every channel (with its key), once — no duplicate JOINs;
 * - nick in use while registering → the next fallback nick; the real nick is reclaimed later;
 * - kicked → rejoin after `rejoin_delay`; a refused JOIN is retried on the next sweep;
 * - `stop()` sends a clean QUIT and stops the loop.
 *
 * Writes (PRIVMSG) come only from the send queue, through `say()`.
 */
import { Client } from "irc-framework";
import type { Logger } from "../../cluster/logger.js";
import type { BotState } from "../bot.js";
import { portOf, type IrcConfig } from "./config.js";
import {
  ChannelJoins,
  DEFAULT_BACKOFF,
  JOIN_ERRORS,
  nickCandidates,
  reconnectDelay,
  type BackoffPolicy,
} from "./policy.js";
import { Roster } from "./roster.js";
import { wireSafe } from "./sanitize.js";
import type { Prefix } from "./split.js";
import { transportWithTls } from "./tls-transport.js";

/** Secrets and TLS material read at start (see loadSecrets); never logged. */
export interface ConnectionSecrets {
  password?: string | undefined;
  saslPassword?: string | undefined;
  /** Channel keys by lower-cased channel name. */
  keys: ReadonlyMap<string, string>;
  tls?: { ca?: string; cert?: string; key?: string };
}

/** A PRIVMSG or ACTION as the client parsed it; `message` is raw (formatting included). */
export interface IncomingMessage {
  nick: string;
  target: string;
  message: string;
  action: boolean;
}

/** What the bot hears from the connection. Handlers must not throw. */
export interface ConnectionHooks {
  registered(nick: string): void;
  joined(channel: string): void;
  disconnected(reason: string): void;
  message(m: IncomingMessage): void;
  state(state: BotState, detail?: string): void;
}

/**
 * Build, then `start()`; `stop()` quits and resolves once the socket has closed. The owner
 * must call `stop()`: until then it reconnects forever.
 */
export class IrcConnection {
  private readonly client = new Client();
  readonly roster = new Roster();
  private stopping = false;
  private registeredAt: number | undefined;
  private attempt = 0;
  private nicks: Generator<string> | undefined;
  private readonly joins: ChannelJoins;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closedWaiters: Array<() => void> = [];
  private lastSocketError: string | undefined;

  constructor(
    private readonly config: IrcConfig,
    private readonly secrets: ConnectionSecrets,
    private readonly hooks: ConnectionHooks,
    private readonly log: Logger,
    private readonly backoff: BackoffPolicy = DEFAULT_BACKOFF,
  ) {
    this.joins = new ChannelJoins(config.channels);
    this.roster.attach(this.client);
    this.listen();
  }

  get registered(): boolean {
    return this.registeredAt !== undefined;
  }

  get nick(): string {
    return this.client.user.nick;
  }

  /** How the server will show us, for the line budget. */
  prefix(): Prefix {
    return { nick: this.client.user.nick, username: this.username, host: this.client.user.host };
  }

  isJoined(channel: string): boolean {
    return this.registered && this.joins.isJoined(channel);
  }

  /** Starts the connect loop; returns at once (the hooks report progress). */
  start(): void {
    this.stopping = false;
    this.connect();
  }

  /** One PRIVMSG. `line` must already be wire-safe and within budget (the queue guarantees it). */
  say(target: string, line: string): void {
    if (!this.registered) return;
    this.client.raw(`PRIVMSG ${target} :${line}`);
  }

  /** Sends QUIT (when connected) and stops reconnecting. Resolves once the socket is closed (at most ~5 s). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.client.connection.connected) {
      // Possibly mid-connect: close the socket so it cannot register after we stopped.
      this.client.connection.end();
      return;
    }
    const closed = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    this.client.quit(wireSafe(this.config.quit_message));
    // A server that does not close after QUIT gets its socket destroyed; we never wait longer than 5 s.
    const force = setTimeout(() => this.client.connection.end(null, true), 3_000);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => (giveUp = setTimeout(r, 5_000)))]);
    clearTimeout(force);
    clearTimeout(giveUp);
  }

  private get username(): string {
    return this.config.username ?? (this.config.nick.replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 10) || "bustle");
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopping) fn();
    }, ms);
    this.timers.add(t);
  }

  private connect(): void {
    const c = this.config;
    this.nicks = nickCandidates(c.nick);
    const nick = this.nicks.next().value as string;
    const tls = this.secrets.tls ?? {};
    this.log.info("connecting", { host: c.host, port: portOf(c), tls: c.tls, nick });
    this.client.connect({
      host: c.host,
      port: portOf(c),
      nick,
      username: this.username,
      gecos: c.realname,
      tls: c.tls,
      rejectUnauthorized: c.tls_verify,
      ...(c.tls ? { transport: transportWithTls({ rejectUnauthorized: c.tls_verify, ...tls }) } : {}),
      ...(this.secrets.password ? { password: this.secrets.password } : {}),
      ...(c.sasl && this.secrets.saslPassword
        ? { account: { account: c.sasl.account, password: this.secrets.saslPassword }, sasl_disconnect_on_fail: true }
        : {}),
      version: null,
      auto_reconnect: false,
      ping_interval: 30,
      ping_timeout: 90,
      // Our own splitter keeps lines well inside this, so the library never re-splits them.
      message_max_length: 480,
    });
  }

  private listen(): void {
    const cl = this.client;
    cl.on("registered", (e: { nick: string }) => {
      this.registeredAt = Date.now();
      this.log.info("registered", { nick: e.nick });
      this.hooks.registered(e.nick);
      this.joinAll();
      this.sweep();
    });
    cl.on("nick in use", (e: { nick: string }) => this.nickRefused(e.nick, "in use"));
    cl.on("nick invalid", (e: { nick: string }) => this.nickRefused(e.nick, "refused"));
    cl.on("join", (e: { nick: string; channel: string }) => {
      if (!this.isMe(e.nick)) return;
      this.joins.joinedNow(e.channel);
      this.log.info("joined", { channel: e.channel });
      this.hooks.joined(e.channel);
      if (this.joins.all)
        this.hooks.state(
          "connected",
          `as ${this.nick} on ${this.config.host} in ${this.config.channels.map((c) => c.name).join(" ")}`,
        );
    });
    cl.on("part", (e: { nick: string; channel: string }) => {
      if (this.isMe(e.nick)) this.joins.left(e.channel);
    });
    cl.on("kick", (e: { kicked: string; channel: string; nick: string; message: string }) => {
      if (!this.isMe(e.kicked)) return;
      this.joins.kicked(e.channel, Date.now() + this.config.rejoin_delay);
      this.log.warn("kicked; rejoining later", {
        channel: e.channel,
        by: e.nick,
        reason: e.message,
        in_ms: this.config.rejoin_delay,
      });
      this.hooks.state("degraded", `kicked from ${e.channel}`);
      this.later(() => this.joinAll(), this.config.rejoin_delay + 50);
    });
    cl.on("irc error", (e: { error: string; channel?: string; reason?: string }) => {
      if (e.channel && JOIN_ERRORS.has(e.error)) {
        this.joins.refused(e.channel);
        this.log.warn("cannot join; will retry", { channel: e.channel, error: e.error, reason: e.reason });
        this.hooks.state("degraded", `cannot join ${e.channel}: ${e.error}`);
      } else {
        this.log.warn("server error", { error: e.error, reason: e.reason, channel: e.channel });
      }
    });
    cl.on("sasl failed", (e: { reason: string; message?: string }) =>
      this.log.error("SASL failed", { reason: e.reason, message: e.message }),
    );
    cl.on("privmsg", (e: IncomingMessage) => this.incoming(e, false));
    cl.on("action", (e: IncomingMessage) => this.incoming(e, true));
    cl.on("socket close", (err?: unknown) => {
      this.lastSocketError = err instanceof Error ? err.message : undefined;
    });
    cl.on("close", () => this.closed());
  }

  private isMe(nick: string): boolean {
    return typeof nick === "string" && nick.toLowerCase() === this.client.user.nick.toLowerCase();
  }

  private incoming(e: IncomingMessage, action: boolean): void {
    if (!e || typeof e.nick !== "string" || typeof e.target !== "string" || typeof e.message !== "string") return;
    this.hooks.message({ nick: e.nick, target: e.target, message: e.message, action });
  }

  private nickRefused(nick: string, why: string): void {
    if (this.registered) return; // a failed attempt to reclaim our nick: keep the one we have
    const next = this.nicks?.next().value as string;
    this.log.warn(`nick ${why}; trying another`, { nick, next });
    this.client.user.nick = next;
    this.client.changeNick(next);
  }

  private joinAll(): void {
    if (!this.registered || this.stopping) return;
    for (const name of this.joins.due(Date.now())) {
      const key = this.secrets.keys.get(name.toLowerCase());
      this.client.join(name, key ? wireSafe(key).replace(/[\s,]/g, "") : undefined);
    }
  }

  /** While registered: retry refused joins and reclaim the configured nick, every rejoin_delay. */
  private sweep(): void {
    this.later(() => {
      if (!this.registered) return;
      this.joinAll();
      if (!this.isMe(this.config.nick)) this.client.changeNick(this.config.nick);
      this.sweep();
    }, this.config.rejoin_delay);
  }

  private closed(): void {
    const stable = this.registeredAt !== undefined && Date.now() - this.registeredAt >= this.backoff.stableMs;
    this.registeredAt = undefined;
    this.joins.reset();
    this.roster.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.closedWaiters.splice(0)) w();
    if (this.stopping) {
      this.log.info("disconnected (stopped)");
      return;
    }
    if (stable) this.attempt = 0;
    const delay = reconnectDelay(this.attempt++, this.backoff);
    const why = this.lastSocketError ?? "connection closed";
    this.lastSocketError = undefined;
    this.log.warn("disconnected; reconnecting", { reason: why, in_ms: delay, attempt: this.attempt });
    this.hooks.disconnected(why);
    this.hooks.state(
      "reconnecting",
      `${why}; reconnecting to ${this.config.host}:${portOf(this.config)} in ${Math.round(delay / 1000)} s`,
    );
    this.later(() => this.connect(), delay);
  }
}
